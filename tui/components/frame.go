package components

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strongroom/strongroom/tui/styles"
)

// BodyLines is how many lines of body a frame shows; BodyWidth is how
// many columns.
const (
	BodyLines = styles.Height - 5
	BodyWidth = styles.Width - 4
)

// MessageKind colours the frame's message line.
type MessageKind int

// Message kinds.
const (
	Info MessageKind = iota
	Good
	Warning
	Problem
)

// Frame is one full screen: a title in the top border, a body, a message
// line and a help line.
type Frame struct {
	Title   string
	Right   string // right-aligned in the top border, e.g. "step 2 of 6"
	Body    []string
	Message string
	Kind    MessageKind
	Help    string
}

// Render draws the frame at exactly styles.Width x styles.Height. Body
// lines beyond BodyLines are cut; long lines are truncated.
func (f Frame) Render(st styles.Styles) string {
	w := styles.Width
	border := func(s string) string { return st.Frame.Render(s) }
	var b strings.Builder
	// Top border: ┌─ Title ───── right ─┐
	title := " " + f.Title + " "
	right := ""
	if f.Right != "" {
		right = " " + f.Right + " "
	}
	fill := max(w-2-1-lipgloss.Width(title)-lipgloss.Width(right)-1, 0)
	b.WriteString(border(styles.TopLeft+styles.Horizontal) + st.Title.Render(title) +
		border(strings.Repeat(styles.Horizontal, fill)) + st.Dim.Render(right) + border(styles.Horizontal+styles.TopRight))
	b.WriteByte('\n')
	line := func(content string) {
		b.WriteString(border(styles.Vertical) + " " + Fit(content, BodyWidth) + " " + border(styles.Vertical))
		b.WriteByte('\n')
	}
	body := f.Body
	if len(body) > BodyLines {
		body = body[:BodyLines]
	}
	for i := 0; i < BodyLines; i++ {
		if i < len(body) {
			line(body[i])
		} else {
			line("")
		}
	}
	b.WriteString(border(styles.TeeLeft + strings.Repeat(styles.Horizontal, w-2) + styles.TeeRight))
	b.WriteByte('\n')
	msg := f.Message
	switch f.Kind {
	case Good:
		msg = st.OK.Render(msg)
	case Warning:
		msg = st.Warn.Render(msg)
	case Problem:
		msg = st.Error.Render(msg)
	default:
		msg = st.Text.Render(msg)
	}
	line(msg)
	line(st.Dim.Render(f.Help))
	b.WriteString(border(styles.BottomLeft + strings.Repeat(styles.Horizontal, w-2) + styles.BottomRite))
	return b.String()
}

// Fit truncates s to width display columns (keeping styling intact) and
// pads it with spaces to exactly width.
func Fit(s string, width int) string {
	if lipgloss.Width(s) > width {
		s = ansi.Truncate(s, width, "")
	}
	if pad := width - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// Wrap breaks plain text into lines of at most width columns at spaces.
func Wrap(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) <= width:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}
