package vault_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/safefs"
	"github.com/strongroom/strongroom/storage/vault"
)

// restoreFixture stores 60 mail items (as in the report of the bug) plus
// one at the top level, with modes and modification times.
func restoreFixture(t *testing.T, v *vault.Vault) (vault.Snapshot, time.Time) {
	t.Helper()
	mtime := time.Date(2023, 5, 6, 7, 8, 9, 123456789, time.UTC)
	w, err := v.NewWriter("restore-test", nil)
	if err != nil {
		t.Fatal(err)
	}
	put := func(p string, data []byte, mode os.FileMode) {
		if _, err := w.Put(vault.Item{Path: p, Mode: uint32(mode), ModTime: mtime.UnixNano()}, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 60; i++ {
		put(fmt.Sprintf("mail/anna/%05d.eml", i), []byte(strings.Repeat("x", i+1)), 0o640)
	}
	put("readme.txt", []byte("hello"), 0o600)
	s, err := w.Commit(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return s, mtime
}

// countFiles counts the regular files below dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// TestRestoreRefusesSymlinksInDestination: a symbolic link already in the
// destination, to a directory outside it, stops the restore with an error
// naming the link, and nothing is written outside.
func TestRestoreRefusesSymlinksInDestination(t *testing.T) {
	_, _, v := initVault(t, 4)
	s, mtime := restoreFixture(t, v)

	t.Run("directory link", func(t *testing.T) {
		dest, outside := t.TempDir(), t.TempDir()
		link := filepath.Join(dest, "mail")
		if err := os.Symlink(outside, link); err != nil {
			t.Fatal(err)
		}
		_, err := v.Restore(s, "", dest, nil)
		if !errors.Is(err, safefs.ErrSymlink) || !strings.Contains(err.Error(), "refusing to follow symbolic link "+link) {
			t.Fatalf("restore through %s: error %v, want a refusal naming the link", link, err)
		}
		if n := countFiles(t, outside); n != 0 {
			t.Fatalf("restore wrote %d files outside the destination", n)
		}
	})

	t.Run("deeper directory link", func(t *testing.T) {
		dest, outside := t.TempDir(), t.TempDir()
		os.MkdirAll(filepath.Join(dest, "mail"), 0o755)
		link := filepath.Join(dest, "mail", "anna")
		if err := os.Symlink(outside, link); err != nil {
			t.Fatal(err)
		}
		_, err := v.Restore(s, "mail", dest, nil)
		if !errors.Is(err, safefs.ErrSymlink) || !strings.Contains(err.Error(), link) {
			t.Fatalf("restore through %s: error %v, want a refusal naming the link", link, err)
		}
		if n := countFiles(t, outside); n != 0 {
			t.Fatalf("restore wrote %d files outside the destination", n)
		}
	})

	t.Run("file link", func(t *testing.T) {
		dest, outside := t.TempDir(), t.TempDir()
		victim := filepath.Join(outside, "victim")
		os.WriteFile(victim, []byte("keep me"), 0o644)
		link := filepath.Join(dest, "readme.txt")
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
		_, err := v.Restore(s, "readme.txt", dest, nil)
		if !errors.Is(err, safefs.ErrSymlink) || !strings.Contains(err.Error(), link) {
			t.Fatalf("restore onto %s: error %v, want a refusal naming the link", link, err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "keep me" {
			t.Fatalf("the file the link points to now holds %q", b)
		}
	})

	t.Run("no links", func(t *testing.T) {
		// The destination itself may be reached through a link: the
		// operator named it.
		real := t.TempDir()
		dest := filepath.Join(t.TempDir(), "alias")
		if err := os.Symlink(real, dest); err != nil {
			t.Fatal(err)
		}
		st, err := v.Restore(s, "", dest, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Items != 61 || countFiles(t, real) != 61 {
			t.Fatalf("restored %d items, %d files; want 61", st.Items, countFiles(t, real))
		}
		for p, want := range map[string]os.FileMode{"mail/anna/00059.eml": 0o640, "readme.txt": 0o600} {
			fi, err := os.Stat(filepath.Join(real, p))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want&^umask() || !fi.ModTime().Equal(mtime) {
				t.Errorf("%s: mode %v, mtime %v; want %v and %v", p, fi.Mode().Perm(), fi.ModTime(), want&^umask(), mtime)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(real, "mail/anna/00059.eml")); len(b) != 60 {
			t.Errorf("mail/anna/00059.eml holds %d bytes, want 60", len(b))
		}
	})
}

// umask returns the process's umask (restored at once).
func umask() os.FileMode {
	dir, err := os.MkdirTemp("", "umask-")
	if err != nil {
		return 0o022
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "f")
	os.WriteFile(p, nil, 0o777)
	fi, err := os.Stat(p)
	if err != nil {
		return 0o022
	}
	return 0o777 &^ fi.Mode().Perm()
}
