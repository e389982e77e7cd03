package vault

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/strongroom/strongroom/storage/compress"
	"github.com/strongroom/strongroom/storage/index"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/safefs"
	"github.com/strongroom/strongroom/storage/segment"
)

// degradedReads counts reads that needed parity since the vault opened.
var degradedReads atomic.Int64

// ReadChunk returns the plaintext of one chunk, checked against its ID.
func (v *Vault) ReadChunk(id keys.ID) ([]byte, error) {
	loc, sealed, err := v.readSealed(id)
	if err != nil {
		return nil, err
	}
	plain, err := keys.Open(v.master.SegmentCipher(loc.Segment), nil, sealed, id[:])
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %s in segment %d: %v", ErrCorrupt, id, loc.Segment, err)
	}
	if loc.Flags&segment.FlagCompressed != 0 {
		if plain, err = compress.Decompress(make([]byte, 0, int(loc.RawLen)), plain, int(loc.RawLen)); err != nil {
			return nil, fmt.Errorf("%w: chunk %s in segment %d: %v", ErrCorrupt, id, loc.Segment, err)
		}
	}
	if v.master.ChunkID(plain) != id {
		return nil, fmt.Errorf("%w: chunk %s in segment %d does not match its ID", ErrCorrupt, id, loc.Segment)
	}
	return plain, nil
}

// readSealed returns a chunk's sealed bytes from the disks (or the
// offsite copy) and where they were.
func (v *Vault) readSealed(id keys.ID) (index.Location, []byte, error) {
	if v.remote != nil {
		return v.remote.readSealed(v, id)
	}
	loc, ok, err := v.index.Lookup(id)
	if err != nil {
		return loc, nil, err
	}
	if !ok {
		return loc, nil, fmt.Errorf("%w: chunk %s is not in the index; run 'strongroom vault rebuild-index'", ErrCorrupt, id)
	}
	set, release, err := v.openSet(loc.Segment)
	if err != nil {
		return loc, nil, err
	}
	defer release()
	sealed := make([]byte, loc.Length)
	degraded, err := set.ReadAt(sealed, int64(loc.Offset))
	if err != nil {
		return loc, nil, fmt.Errorf("%w: chunk %s: %v", ErrCorrupt, id, err)
	}
	if degraded {
		degradedReads.Add(1)
	}
	return loc, sealed, nil
}

// WriteItem writes an item's content to w and checks it against the hash
// recorded at backup time.
func (v *Vault) WriteItem(w io.Writer, it Item) error {
	h := v.master.IDHasher()
	var n int64
	for _, id := range it.Chunks {
		data, err := v.ReadChunk(id)
		if err != nil {
			return fmt.Errorf("item %s: %w", it.Path, err)
		}
		h.Write(data)
		if _, err := w.Write(data); err != nil {
			return err
		}
		n += int64(len(data))
	}
	var sum keys.ID
	copy(sum[:], h.Sum(nil))
	if n != it.Size || sum != it.Hash {
		return fmt.Errorf("%w: item %s: restored %d bytes that do not match the %d bytes backed up", ErrCorrupt, it.Path, n, it.Size)
	}
	return nil
}

// Items returns every item of a snapshot, sorted by path.
func (v *Vault) Items(s Snapshot) ([]Item, error) {
	var items []Item
	err := v.EachItem(s, func(it Item) error { items = append(items, it); return nil })
	return items, err
}

// EachItem calls fn for every item of a snapshot in path order.
func (v *Vault) EachItem(s Snapshot, fn func(Item) error) error {
	if v.remote != nil {
		if err := v.remote.load(v, s.Segments); err != nil {
			return fmt.Errorf("snapshot %s in the offsite copy: %w", s.ID, err)
		}
	}
	var buf bytes.Buffer
	for _, id := range s.ItemList {
		data, err := v.ReadChunk(id)
		if err != nil {
			return fmt.Errorf("item list of snapshot %s: %w", s.ID, err)
		}
		buf.Write(data)
	}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var it Item
		if err := dec.Decode(&it); err != nil {
			return fmt.Errorf("%w: item list of snapshot %s: %v", ErrCorrupt, s.ID, err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// RestoreStats counts what a restore wrote.
type RestoreStats struct {
	Items int64 `json:"items"`
	Bytes int64 `json:"bytes"`
}

// safeRel maps an item path to a relative name below the restore
// destination, refusing anything that would escape it.
func safeRel(p string) (string, error) {
	clean := path.Clean("/" + p)
	if clean == "/" || strings.Contains(p, "\x00") {
		return "", fmt.Errorf("item path %q cannot be restored as a file", p)
	}
	return filepath.FromSlash(clean[1:]), nil
}

// Restore writes the items of a snapshot (those under prefix, "" for all)
// as files below dest, with their modes and modification times. dest is
// created when missing; below it no symbolic link is followed: one in the
// way of an item stops the restore with an error naming it.
func (v *Vault) Restore(s Snapshot, prefix, dest string, progress func(RestoreStats)) (RestoreStats, error) {
	var st RestoreStats
	if err := os.MkdirAll(dest, 0o750); err != nil {
		return st, fmt.Errorf("restore destination: %w", err)
	}
	root, err := safefs.OpenRoot(dest)
	if err != nil {
		return st, fmt.Errorf("restore destination: %w", err)
	}
	defer root.Close()
	prefix = strings.Trim(prefix, "/")
	err = v.EachItem(s, func(it Item) error {
		if prefix != "" && it.Path != prefix && !strings.HasPrefix(it.Path, prefix+"/") {
			return nil
		}
		target, err := safeRel(it.Path)
		if err != nil {
			return err
		}
		if err := root.MkdirAll(filepath.Dir(target), 0o750); err != nil {
			return fmt.Errorf("restore %s: %w", it.Path, err)
		}
		mode := os.FileMode(it.Mode).Perm()
		if mode == 0 {
			mode = 0o640
		}
		f, err := root.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
		if err != nil {
			return fmt.Errorf("restore %s: %w", it.Path, err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		err = v.WriteItem(bw, it)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("restore %s: %w", it.Path, err)
		}
		if it.ModTime != 0 {
			t := time.Unix(0, it.ModTime)
			root.Chtimes(target, t, t)
		}
		st.Items++
		st.Bytes += it.Size
		if progress != nil {
			progress(st)
		}
		return nil
	})
	return st, err
}
