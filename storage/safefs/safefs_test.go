package safefs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bothWays runs a test with openat2 and again with the per-component walk
// that stands in for it on kernels without openat2.
func bothWays(t *testing.T, fn func(t *testing.T)) {
	t.Run("openat2", func(t *testing.T) {
		if noOpenat2.Load() {
			t.Skip("this kernel has no openat2")
		}
		fn(t)
	})
	t.Run("walk", func(t *testing.T) {
		was := noOpenat2.Load()
		noOpenat2.Store(true)
		t.Cleanup(func() { noOpenat2.Store(was) })
		fn(t)
	})
}

// trap makes a root holding "link", a symbolic link to a directory
// outside it, and "file-link", a link to a file outside it.
func trap(t *testing.T) (d *Dir, root, outside string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "dest")
	outside = filepath.Join(base, "outside")
	for _, dir := range []string{root, outside} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "precious"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "precious"), filepath.Join(root, "file-link")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, root, outside
}

// untouched fails when anything but "precious" (unchanged) is outside.
func untouched(t *testing.T, outside string) {
	t.Helper()
	ents, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "precious" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("outside the root now holds %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "precious")); string(b) != "keep me" {
		t.Errorf("the file outside was changed to %q", b)
	}
}

// refused checks that err is a refusal naming the link at want.
func refused(t *testing.T, what string, err error, want string) {
	t.Helper()
	var se *SymlinkError
	if !errors.Is(err, ErrSymlink) || !errors.As(err, &se) {
		t.Fatalf("%s: error %v, want a refusal to follow a symbolic link", what, err)
	}
	if se.Path != want || !strings.Contains(err.Error(), "refusing to follow symbolic link "+want) {
		t.Errorf("%s: error %q does not name the link %s", what, err, want)
	}
}

func TestSymlinksAreRefused(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		d, root, outside := trap(t)
		link, fileLink := filepath.Join(root, "link"), filepath.Join(root, "file-link")

		_, err := d.OpenFile("link/new", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		refused(t, "create through a directory link", err, link)
		_, err = d.Create("link/precious")
		refused(t, "truncate through a directory link", err, link)
		refused(t, "write to a file link", d.WriteFile("file-link", []byte("x"), 0o644), fileLink)
		_, err = d.OpenFile("file-link", os.O_RDONLY, 0)
		refused(t, "open a file link", err, fileLink)
		refused(t, "mkdir -p through a link", d.MkdirAll("link/a/b", 0o755), link)
		refused(t, "mkdir -p of a link", d.MkdirAll("link", 0o755), link)
		refused(t, "mkdir through a link", d.Mkdir("link/a", 0o755), link)
		refused(t, "chtimes of a file link", d.Chtimes("file-link", time.Unix(1, 0), time.Unix(1, 0)), fileLink)
		refused(t, "chtimes through a link", d.Chtimes("link/precious", time.Unix(1, 0), time.Unix(1, 0)), link)
		refused(t, "remove through a link", d.Remove("link/precious"), link)
		_, err = d.Lstat("link/precious")
		refused(t, "lstat through a link", err, link)
		if err := d.WriteFile("mine", []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, "link into a linked directory", d.Link("mine", "link/mine"), link)
		refused(t, "rename into a linked directory", d.Rename("mine", "link/mine"), link)

		// A link deeper down is named as it is.
		if err := d.MkdirAll("a/b", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(root, "a", "b", "c")); err != nil {
			t.Fatal(err)
		}
		_, err = d.Create("a/b/c/d/e.eml")
		refused(t, "create below a deep link", err, filepath.Join(root, "a", "b", "c"))
		refused(t, "mkdir -p below a deep link", d.MkdirAll("a/b/c/d", 0o755), filepath.Join(root, "a", "b", "c"))

		// The link itself is what Lstat describes and Remove removes.
		fi, err := d.Lstat("link")
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 || fi.Name() != "link" {
			t.Errorf("Lstat(link) = %v, %v; want the link itself", fi, err)
		}
		if err := d.Remove("file-link"); err != nil {
			t.Errorf("removing a link: %v", err)
		}
		untouched(t, outside)
	})
}

func TestEscapesAreRefused(t *testing.T) {
	d, _, outside := trap(t)
	for _, name := range []string{"../outside/x", "..", "a/../../x", filepath.Join(outside, "x")} {
		if _, err := d.Create(name); !errors.Is(err, ErrEscape) {
			t.Errorf("Create(%q) = %v, want ErrEscape", name, err)
		}
		if err := d.MkdirAll(name, 0o755); !errors.Is(err, ErrEscape) {
			t.Errorf("MkdirAll(%q) = %v, want ErrEscape", name, err)
		}
	}
	untouched(t, outside)
}

func TestWritesBeneathTheRoot(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		d, root, outside := trap(t)
		if err := d.MkdirAll("mail/anna/Inbox", 0o750); err != nil {
			t.Fatal(err)
		}
		if err := d.MkdirAll("mail/anna/Inbox", 0o750); err != nil {
			t.Fatalf("MkdirAll of an existing directory: %v", err)
		}
		if err := d.MkdirAll("mail/./bob/../carl", 0o750); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(root, "mail", "carl")); err != nil || !fi.IsDir() {
			t.Fatalf("mail/carl: %v", err)
		}
		f, err := d.OpenFile("mail/anna/Inbox/1.eml", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(root, "mail/anna/Inbox/1.eml"); f.Name() != want {
			t.Errorf("file name %q, want %q", f.Name(), want)
		}
		f.WriteString("hello")
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		mtime := time.Date(2021, 2, 3, 4, 5, 6, 789, time.UTC)
		if err := d.Chtimes("mail/anna/Inbox/1.eml", mtime, mtime); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(root, "mail/anna/Inbox/1.eml"))
		if err != nil || fi.Size() != 5 || !fi.ModTime().Equal(mtime) {
			t.Fatalf("written file: %v, %v; want 5 bytes with mtime %v", fi, err, mtime)
		}
		// Modes follow the umask exactly as os.OpenFile's and os.Mkdir's do.
		ref := filepath.Join(t.TempDir(), "ref")
		os.WriteFile(ref, nil, 0o640)
		os.Mkdir(ref+"-dir", 0o750)
		want, _ := os.Stat(ref)
		wantDir, _ := os.Stat(ref + "-dir")
		gotDir, _ := os.Stat(filepath.Join(root, "mail"))
		if fi.Mode() != want.Mode() || gotDir.Mode() != wantDir.Mode() {
			t.Errorf("modes %v and %v, want %v and %v as os gives", fi.Mode(), gotDir.Mode(), want.Mode(), wantDir.Mode())
		}
		// An existing file is truncated, as os.OpenFile with O_TRUNC does.
		if err := d.WriteFile("mail/anna/Inbox/1.eml", []byte("hi"), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(root, "mail/anna/Inbox/1.eml")); string(b) != "hi" {
			t.Errorf("rewritten file holds %q", b)
		}
		// O_EXCL reports an existing file as os.ErrExist.
		if _, err := d.OpenFile("mail/anna/Inbox/1.eml", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, os.ErrExist) {
			t.Errorf("O_EXCL on an existing file: %v", err)
		}
		// A file in the way of a directory is no link, and not called one.
		err = d.MkdirAll("mail/anna/Inbox/1.eml/x", 0o750)
		if err == nil || errors.Is(err, ErrSymlink) || !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("MkdirAll through a file: %v, want ENOTDIR", err)
		}
		// Link, Rename, Lstat and Remove, as the Maildir writer uses them.
		if err := d.Link("mail/anna/Inbox/1.eml", "mail/carl/1.eml"); err != nil {
			t.Fatal(err)
		}
		if err := d.Link("mail/anna/Inbox/1.eml", "mail/carl/1.eml"); !errors.Is(err, os.ErrExist) {
			t.Errorf("second link: %v, want ErrExist", err)
		}
		if err := d.Rename("mail/carl/1.eml", "mail/carl/2.eml"); err != nil {
			t.Fatal(err)
		}
		if fi, err := d.Lstat("mail/carl/2.eml"); err != nil || fi.Size() != 2 || !fi.Mode().IsRegular() {
			t.Errorf("Lstat: %v, %v", fi, err)
		}
		if _, err := d.Lstat("mail/carl/1.eml"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Lstat of a renamed file: %v", err)
		}
		if err := d.Remove("mail/carl/2.eml"); err != nil {
			t.Fatal(err)
		}
		if err := d.Remove("mail/carl"); err != nil {
			t.Fatalf("removing an empty directory: %v", err)
		}
		if _, err := os.Stat(filepath.Join(root, "mail/carl")); !os.IsNotExist(err) {
			t.Errorf("mail/carl still there: %v", err)
		}
		untouched(t, outside)
	})
}

// TestRootMayBeALink: the path to the root is the operator's choice; only
// what lies beneath it is resolved strictly.
func TestRootMayBeALink(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o755)
	if err := os.Symlink(real, filepath.Join(base, "alias")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenRoot(filepath.Join(base, "alias"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WriteFile("x", []byte("y"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(real, "x")); string(b) != "y" {
		t.Errorf("file not written through the root's own link")
	}
	if _, err := OpenRoot(filepath.Join(real, "x")); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("OpenRoot of a file: %v", err)
	}
}

// TestOpenat2IsUsed: on a kernel with openat2 the fast path stays in use
// (this machine's kernel is expected to have it).
func TestOpenat2IsUsed(t *testing.T) {
	d, _, _ := trap(t)
	if err := d.MkdirAll("a/b", 0o755); err != nil {
		t.Fatal(err)
	}
	if noOpenat2.Load() {
		t.Skip("openat2 is not available here; the walk was used")
	}
}
