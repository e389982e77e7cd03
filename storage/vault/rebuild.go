package vault

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/strongroom/strongroom/storage/index"
)

// RebuildIndex throws the chunk index away and recreates it from the
// segments alone, indexing them in ascending order exactly as the live
// path does, so the rebuilt index answers every lookup the same way.
func (v *Vault) RebuildIndex() (segments int, err error) {
	dir := filepath.Join(v.opts.StateDir, "index")
	if err := v.index.Close(); err != nil {
		return 0, err
	}
	v.index = nil
	if err := os.RemoveAll(dir); err != nil {
		return 0, fmt.Errorf("remove old index: %w", err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		return 0, err
	}
	v.index = ix
	v.mu.Lock()
	v.shards = map[uint64]int{}
	v.mu.Unlock()
	for _, d := range v.present() {
		ids, err := d.listSegments(false)
		if err != nil {
			return 0, err
		}
		for _, id := range ids {
			v.shards[id]++
		}
	}
	ids := v.allSegments()
	var skipped []uint64
	for n, id := range ids {
		if err := v.indexSegment(id); err != nil {
			// An unreadable leftover of an interrupted write must not stop
			// the rebuild; what it skipped is reported at the end.
			v.progress("rebuild-index: segment %d skipped: %v", id, err)
			skipped = append(skipped, id)
			continue
		}
		if (n+1)%64 == 0 || n+1 == len(ids) {
			v.progress("rebuild-index: %d/%d segments", n+1, len(ids))
		}
	}
	if len(skipped) > 0 {
		return len(ids) - len(skipped), fmt.Errorf("rebuild index: %d segments could not be read and were skipped (%v); run 'strongroom vault scrub' to see whether a snapshot needs them", len(skipped), skipped)
	}
	return len(ids), nil
}

// DumpIndex writes the index's chunk and segment records in key order; two
// indexes that answer every lookup the same way dump the same text.
func (v *Vault) DumpIndex(w io.Writer) error { return v.index.Dump(w) }
