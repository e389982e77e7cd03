package components

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/tui/styles"
)

// Field is a one-line text input. Typing appends at the end and backspace
// erases the last character: enough for ids, paths and durations, and
// predictable on a console without a mouse. Paste is not supported (the
// Linux console has none).
type Field struct {
	Label string
	Value string
	// Mask hides the value (secrets) behind '*'.
	Mask bool
	// Width is the visible width of the input box.
	Width int
	// Max bounds the value's length; 0 means 200.
	Max int
}

// Update applies a key to the field and reports whether it changed the
// value. Keys the field does not use (enter, arrows, esc) are left to the
// screen.
func (f *Field) Update(msg tea.KeyMsg) bool {
	limit := f.Max
	if limit == 0 {
		limit = 200
	}
	switch msg.Type {
	case tea.KeyBackspace:
		if f.Value == "" {
			return false
		}
		r := []rune(f.Value)
		f.Value = string(r[:len(r)-1])
		return true
	case tea.KeyRunes, tea.KeySpace:
		if msg.Paste {
			return false
		}
		add := string(msg.Runes)
		if msg.Type == tea.KeySpace {
			add = " "
		}
		for _, r := range add {
			if !styles.ConsoleSafe(r) || len([]rune(f.Value)) >= limit {
				return false
			}
		}
		f.Value += add
		return true
	}
	return false
}

// View draws "label [value]" with the label padded to labelWidth. A
// focused field shows a cursor and the focus colour. Long values scroll so
// that their end stays visible.
func (f Field) View(st styles.Styles, labelWidth int, focused bool) string {
	w := f.Width
	if w <= 0 {
		w = 40
	}
	v := f.Value
	if f.Mask {
		v = strings.Repeat("*", len([]rune(v)))
	}
	if focused {
		v += styles.Cursor
	}
	r := []rune(v)
	if len(r) > w {
		r = r[len(r)-w:]
	}
	box := string(r) + strings.Repeat(" ", w-len(r))
	marker := "  "
	label := Fit(f.Label, labelWidth)
	if focused {
		marker = styles.Pointer + " "
		return marker + st.Heading.Render(label) + " [" + st.Focus.Render(box) + "]"
	}
	return marker + st.Text.Render(label) + " [" + box + "]"
}
