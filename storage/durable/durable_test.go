package durable

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, []byte("first"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("second, longer"), 0o400); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "second, longer" {
		t.Fatalf("read back %q, %v", b, err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o400 {
		t.Errorf("mode %v, want 0400", fi.Mode().Perm())
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 1 {
		t.Errorf("left behind: %v", des)
	}
}

func TestWriteFileFailureLeavesOldContents(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory in the way of the rename: the write fails, the old file
	// and no temporary file remain.
	if err := WriteFile(filepath.Join(dir, "missing", "g"), []byte("x"), 0o644); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644)
	if err := WriteFile(sub, []byte("x"), 0o644); err == nil {
		t.Fatal("replaced a non-empty directory")
	}
	b, _ := os.ReadFile(p)
	if string(b) != "old" {
		t.Errorf("old file now %q", b)
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 2 {
		t.Errorf("directory holds %v, want f and sub", des)
	}
}
