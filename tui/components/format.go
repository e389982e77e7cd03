package components

import (
	"fmt"
	"strings"

	"github.com/strongroom/strongroom/tui/styles"
)

// Window returns the first index of a list of n rows to show in height
// lines so that the cursor row is visible.
func Window(cursor, n, height int) int {
	if n <= height || cursor < height/2 {
		return 0
	}
	return min(cursor-height/2, n-height)
}

// Bar draws a progress bar of width cells for done of all:
// "████░░░░ 50%". all <= 0 draws an empty bar without a percentage.
func Bar(done, all, width int) string {
	if all <= 0 {
		return strings.Repeat(styles.BarEmpty, width)
	}
	done = min(max(done, 0), all)
	full := done * width / all
	return strings.Repeat(styles.BarFull, full) + strings.Repeat(styles.BarEmpty, width-full) + fmt.Sprintf(" %3d%%", done*100/all)
}

// Safe replaces every rune the console font lacks with '?', for text
// that comes from outside (mailbox folder names, subjects, errors).
func Safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if !styles.ConsoleSafe(r) {
			return '?'
		}
		return r
	}, s)
}
