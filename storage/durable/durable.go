// Package durable writes files so that a crash leaves either the old
// contents or the new ones, never a mix, and so that what was written
// survives a power cut once the call returns.
package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFile writes data to path+".tmp", syncs it, renames it over path and
// syncs the directory. One writer per path: a ".tmp" left by a crash is
// overwritten by the next write (and callers that list directories skip or
// remove names ending in ".tmp"). The temporary file is removed on failure.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteFileVia(filepath.Dir(path), path, data, perm)
}

// WriteFileVia is WriteFile with the temporary file in tmpDir (on the same
// filesystem as path) instead of beside path. It is how files are added to
// an append-only directory, which takes new names but refuses to rename
// one away, as WriteFile's rename of the temporary name would. Both
// directories are synced. It fails when path exists and its directory is
// append-only.
func WriteFileVia(tmpDir, path string, data []byte, perm os.FileMode) error {
	tmp := filepath.Join(tmpDir, filepath.Base(path)+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// O_CREATE's mode does not apply to a leftover file; umask does.
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if dir := filepath.Dir(path); filepath.Clean(tmpDir) != dir {
		if err := SyncDir(tmpDir); err != nil {
			return err
		}
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory so that creations, renames and removals in it
// are durable. File systems that cannot sync a directory (EINVAL) are
// accepted as they are.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
