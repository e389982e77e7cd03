package components

import (
	"fmt"
	"strings"
	"time"

	"github.com/strongroom/strongroom/tui/styles"
)

// Bytes formats a byte count with decimal units, as disk vendors label
// disks: 4.0 TB.
func Bytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// Age formats a duration as operators read ages: 45s, 12m, 3h20m, 4d2h.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

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

// Span formats a retention window as operators type it: whole years as
// "7y", whole days as "30d", anything else in Go's form ("36h0m0s").
func Span(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d > 0 && d%(365*day) == 0:
		return fmt.Sprintf("%dy", d/(365*day))
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
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
