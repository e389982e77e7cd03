package vaultctl

import (
	"fmt"

	"github.com/strongroom/strongroom/appliance/progress"
	"github.com/strongroom/strongroom/storage/vault"
)

// watchWork shows a scrub's or a disk rebuild's progress on rep; phase
// names what it does to each segment.
func watchWork(rep *progress.Reporter, phase string) func(vault.Work) {
	return func(w vault.Work) {
		p := phase
		if w.Problems > 0 {
			p = fmt.Sprintf("%s, %d problems", phase, w.Problems)
		}
		rep.Update(progress.Snapshot{Phase: p, Done: int64(w.Segments), All: int64(w.SegmentsAll), Noun: "segments", Bytes: w.BytesRead})
	}
}
