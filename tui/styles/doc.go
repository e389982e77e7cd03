// Package styles holds the console's look: the 16-colour palette of the
// Linux virtual terminal, the styles built from it on one fixed renderer,
// and the set of glyphs the console font can show.
//
// Words used here:
//
//   - Console-safe: a rune the Linux console's default font has, i.e.
//     printable ASCII or a character of code page 437 (box drawing, shade
//     blocks, a few letters and symbols). Nothing else may reach the
//     screen: no emoji, no Braille spinners, no rounded corners.
//   - Renderer: the lipgloss renderer with a fixed colour profile and a
//     fixed dark background, so that nothing queries the terminal.
package styles
