package styles

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Screen size of the Linux console the layout is designed for.
const (
	Width  = 80
	Height = 25
)

// The 16 colours of the Linux console, by their ANSI numbers.
const (
	black       = lipgloss.Color("0")
	green       = lipgloss.Color("2")
	yellow      = lipgloss.Color("3")
	blue        = lipgloss.Color("4")
	cyan        = lipgloss.Color("6")
	white       = lipgloss.Color("7")
	brightBlack = lipgloss.Color("8")
	brightRed   = lipgloss.Color("9")
	brightGreen = lipgloss.Color("10")
	brightWhite = lipgloss.Color("15")
)

// Styles are the styles of every screen element.
type Styles struct {
	Renderer *lipgloss.Renderer
	Frame    lipgloss.Style // box lines
	Title    lipgloss.Style // title in the top line
	Heading  lipgloss.Style
	Text     lipgloss.Style
	Dim      lipgloss.Style
	Focus    lipgloss.Style // focused row or field
	Selected lipgloss.Style
	OK       lipgloss.Style
	Warn     lipgloss.Style
	Error    lipgloss.Style
	Key      lipgloss.Style // key names in the help line
	Secret   lipgloss.Style // the recovery key
}

// NewRenderer returns a renderer writing to w with a fixed profile:
// termenv.ANSI (16 colours) for the console, termenv.Ascii for plain text
// (golden files). The background is declared dark, so the renderer never
// sends the terminal a colour query that the Linux console would not
// answer.
func NewRenderer(w io.Writer, profile termenv.Profile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w, termenv.WithProfile(profile), termenv.WithColorCache(true))
	r.SetColorProfile(profile)
	r.SetHasDarkBackground(true)
	return r
}

// New builds the styles on r.
func New(r *lipgloss.Renderer) Styles {
	s := r.NewStyle
	return Styles{
		Renderer: r,
		Frame:    s().Foreground(cyan),
		Title:    s().Foreground(brightWhite).Bold(true),
		Heading:  s().Foreground(brightWhite).Bold(true),
		Text:     s().Foreground(white),
		Dim:      s().Foreground(brightBlack),
		Focus:    s().Foreground(black).Background(cyan),
		Selected: s().Foreground(brightGreen),
		OK:       s().Foreground(green),
		Warn:     s().Foreground(yellow),
		Error:    s().Foreground(brightRed).Bold(true),
		Key:      s().Foreground(black).Background(white),
		Secret:   s().Foreground(brightWhite).Background(blue).Bold(true),
	}
}
