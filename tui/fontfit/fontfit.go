// Package fontfit picks the console font that makes the console's 80×25
// screens fill the framebuffer of the box's monitor, and loads it with kbd's
// setfont. The kernel's default 8×16 font leaves a 1280×800 framebuffer's
// 160×50 cells, so an 80×25 screen took a quarter of a rack monitor.
package fontfit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The screens' size in cells: what the console lays out for.
const (
	Cols = 80
	Rows = 25
)

// Font is a console font file and the size of its glyphs in pixels.
type Font struct {
	Path          string
	Width, Height int
}

// Terminus font files: Uni2-Terminus16 (8×16), Uni2-Terminus32x16 (16
// wide, 32 high). The bold and VGA variants are left out: one family keeps
// the look the same at every size.
var terminusName = regexp.MustCompile(`^Uni2-Terminus(\d+)(?:x(\d+))?\.psf(?:\.gz)?$`)

// Fonts lists the Terminus fonts in dir.
func Fonts(dir string) ([]Font, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Font
	for _, e := range entries {
		m := terminusName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		h, _ := strconv.Atoi(m[1])
		w := 8
		if m[2] != "" {
			w, _ = strconv.Atoi(m[2])
		}
		out = append(out, Font{Path: filepath.Join(dir, e.Name()), Width: w, Height: h})
	}
	return out, nil
}

// Choose returns the largest font that still gives at least Cols×Rows
// cells on a width×height framebuffer, and false when none does (the
// kernel's font then stays).
func Choose(width, height int, fonts []Font) (Font, bool) {
	var fit []Font
	for _, f := range fonts {
		if f.Width > 0 && f.Height > 0 && width/f.Width >= Cols && height/f.Height >= Rows {
			fit = append(fit, f)
		}
	}
	if len(fit) == 0 {
		return Font{}, false
	}
	return slices.MaxFunc(fit, func(a, b Font) int {
		if c := (a.Width * a.Height) - (b.Width * b.Height); c != 0 {
			return c
		}
		return strings.Compare(b.Path, a.Path)
	}), true
}

// FramebufferSize reads the size in pixels of the framebuffer whose sysfs
// directory is dir (/sys/class/graphics/fb0): its virtual_size, "1280,800".
func FramebufferSize(dir string) (width, height int, err error) {
	raw, err := os.ReadFile(filepath.Join(dir, "virtual_size"))
	if err != nil {
		return 0, 0, err
	}
	w, h, ok := strings.Cut(strings.TrimSpace(string(raw)), ",")
	if !ok {
		return 0, 0, fmt.Errorf("%s/virtual_size: %q is not WIDTH,HEIGHT", dir, raw)
	}
	if width, err = strconv.Atoi(w); err == nil {
		height, err = strconv.Atoi(h)
	}
	if err != nil || width <= 0 || height <= 0 {
		return 0, 0, fmt.Errorf("%s/virtual_size: %q is not WIDTH,HEIGHT", dir, raw)
	}
	return width, height, nil
}

// Setup says where Fit looks and what it runs.
type Setup struct {
	Framebuffer string // sysfs directory of the framebuffer
	FontDir     string // where the console fonts are
	Setfont     string // kbd's setfont
}

// Appliance is where the image keeps these.
var Appliance = Setup{Framebuffer: "/sys/class/graphics/fb0", FontDir: "/usr/share/consolefonts", Setfont: "setfont"}

// ErrNoFramebuffer means the console is not on a framebuffer (a serial
// console, a text-mode VGA): there is nothing to fit.
var ErrNoFramebuffer = errors.New("no framebuffer")

// Fit loads on tty the font that makes Cols×Rows fill the framebuffer, and
// returns it. The kernel resizes the console to the new cell count.
func Fit(ctx context.Context, s Setup, tty string) (Font, error) {
	w, h, err := FramebufferSize(s.Framebuffer)
	if errors.Is(err, os.ErrNotExist) {
		return Font{}, ErrNoFramebuffer
	}
	if err != nil {
		return Font{}, err
	}
	fonts, err := Fonts(s.FontDir)
	if err != nil {
		return Font{}, fmt.Errorf("console fonts: %w", err)
	}
	f, ok := Choose(w, h, fonts)
	if !ok {
		return Font{}, fmt.Errorf("no Terminus font in %s leaves %d×%d cells on a %d×%d framebuffer", s.FontDir, Cols, Rows, w, h)
	}
	out, err := exec.CommandContext(ctx, s.Setfont, "-C", tty, f.Path).CombinedOutput()
	if err != nil {
		return Font{}, fmt.Errorf("setfont %s on %s: %v: %s", filepath.Base(f.Path), tty, err, strings.TrimSpace(string(out)))
	}
	return f, nil
}

// FitAndLog is Fit for the console's start: what it loaded, or why not, goes
// to log (the journal); a console without a framebuffer says nothing and
// a failure keeps the kernel's font, so the console starts either way.
func FitAndLog(ctx context.Context, s Setup, tty string, log io.Writer) {
	f, err := Fit(ctx, s, tty)
	switch {
	case errors.Is(err, ErrNoFramebuffer):
	case err != nil:
		fmt.Fprintf(log, "console font: %v (the kernel's font stays)\n", err)
	default:
		fmt.Fprintf(log, "console font: %s (%d×%d pixels a cell)\n", filepath.Base(f.Path), f.Width, f.Height)
	}
}
