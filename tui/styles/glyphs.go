package styles

import "strings"

// cp437High is the upper half of code page 437 (0x80 to 0xFF) as Unicode.
const cp437High = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»" +
	"░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀" +
	"αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0"

// ConsoleSafe reports whether the Linux console's font can draw r.
func ConsoleSafe(r rune) bool {
	if r >= 0x20 && r < 0x7f {
		return true
	}
	return r >= 0x80 && strings.ContainsRune(cp437High, r)
}

// Glyphs the console uses, all from code page 437.
const (
	Cursor     = "█" // the text cursor in a focused field
	BarFull    = "█"
	BarEmpty   = "░"
	Horizontal = "─"
	Vertical   = "│"
	TopLeft    = "┌"
	TopRight   = "┐"
	BottomLeft = "└"
	BottomRite = "┘"
	TeeLeft    = "├"
	TeeRight   = "┤"
	Bullet     = "■"
	Pointer    = ">"
)
