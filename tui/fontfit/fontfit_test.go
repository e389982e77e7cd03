package fontfit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// terminus lays out the Terminus sizes Debian's console-setup-linux ships,
// plus files Fonts must skip.
func terminus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"Uni2-Terminus12x6.psf.gz", "Uni2-Terminus14.psf.gz", "Uni2-Terminus16.psf.gz",
		"Uni2-Terminus18x10.psf.gz", "Uni2-Terminus20x10.psf.gz", "Uni2-Terminus22x11.psf.gz", "Uni2-Terminus24x12.psf.gz",
		"Uni2-Terminus28x14.psf.gz", "Uni2-Terminus32x16.psf.gz", "Uni2-TerminusBold32x16.psf.gz", "Lat15-Fixed16.psf.gz", "README"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestChoose(t *testing.T) {
	fonts, err := Fonts(terminus(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(fonts) != 9 {
		t.Fatalf("found %d fonts, want the 9 regular Terminus sizes: %v", len(fonts), fonts)
	}
	for _, tc := range []struct {
		w, h int
		want string // "" for none
	}{
		{1280, 800, "Uni2-Terminus32x16.psf.gz"}, // the firmware test's framebuffer: exactly 80×25
		{1920, 1080, "Uni2-Terminus32x16.psf.gz"},
		{1024, 768, "Uni2-Terminus24x12.psf.gz"}, // 28x14 would leave 73 columns
		{800, 600, "Uni2-Terminus20x10.psf.gz"},  // 24x12 would leave 66 columns
		{640, 480, "Uni2-Terminus16.psf.gz"},
		{479, 300, ""},
	} {
		f, ok := Choose(tc.w, tc.h, fonts)
		got := ""
		if ok {
			got = filepath.Base(f.Path)
			if tc.w/f.Width < Cols || tc.h/f.Height < Rows {
				t.Errorf("%d×%d: %s leaves %d×%d cells", tc.w, tc.h, got, tc.w/f.Width, tc.h/f.Height)
			}
		}
		if got != tc.want {
			t.Errorf("%d×%d: chose %q, want %q", tc.w, tc.h, got, tc.want)
		}
	}
}

func TestFramebufferSize(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "virtual_size"), []byte("1280,800\n"), 0o644)
	if w, h, err := FramebufferSize(dir); err != nil || w != 1280 || h != 800 {
		t.Fatalf("got %d×%d, %v", w, h, err)
	}
	os.WriteFile(filepath.Join(dir, "virtual_size"), []byte("garbage\n"), 0o644)
	if _, _, err := FramebufferSize(dir); err == nil {
		t.Fatal("garbage read as a size")
	}
}

// TestFit runs a stand-in setfont (a shell script recording its
// arguments) and checks it is asked for the chosen font on the tty, and
// that a console without a framebuffer is left alone.
func TestFit(t *testing.T) {
	fb := t.TempDir()
	os.WriteFile(filepath.Join(fb, "virtual_size"), []byte("1280,800\n"), 0o644)
	bin := t.TempDir()
	log := filepath.Join(bin, "args")
	script := "#!/bin/sh\necho \"$@\" > " + log + "\n"
	if err := os.WriteFile(filepath.Join(bin, "setfont"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := Setup{Framebuffer: fb, FontDir: terminus(t), Setfont: filepath.Join(bin, "setfont")}
	f, err := Fit(context.Background(), s, "/dev/tty1")
	if err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(log)
	if want := "-C /dev/tty1 " + f.Path; strings.TrimSpace(string(args)) != want || filepath.Base(f.Path) != "Uni2-Terminus32x16.psf.gz" {
		t.Fatalf("setfont ran with %q, want %q (32x16)", args, want)
	}

	s.Framebuffer = filepath.Join(fb, "none")
	if _, err := Fit(context.Background(), s, "/dev/tty1"); !errors.Is(err, ErrNoFramebuffer) {
		t.Fatalf("no framebuffer: err = %v", err)
	}
	os.WriteFile(filepath.Join(bin, "setfont"), []byte("#!/bin/sh\necho 'Cannot open /dev/tty1' >&2\nexit 1\n"), 0o755)
	s.Framebuffer = fb
	if _, err := Fit(context.Background(), s, "/dev/tty1"); err == nil || !strings.Contains(err.Error(), "Cannot open /dev/tty1") {
		t.Fatalf("a failing setfont: err = %v", err)
	}
}
