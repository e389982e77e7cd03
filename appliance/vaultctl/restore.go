package vaultctl

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/progress"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// Restore writes the items of snapshot ref at or below prefix as files
// below dest, shows its progress on o.Progress, and says on o.W what it
// restored (and when it had to read parity).
func Restore(o outcome.Output, v *vault.Vault, ref, prefix, dest string) error {
	s, err := v.Snapshot(ref)
	if err != nil {
		return err
	}
	start := time.Now()
	var items, bytes atomic.Int64
	pr := progress.Start(o.Progress, o.Bar, "restore")
	all, bytesAll := s.Items, s.Bytes
	if prefix != "" {
		all, bytesAll = 0, 0 // the part below prefix is not known ahead
	}
	show := func() {
		pr.Update(progress.Snapshot{Phase: "writing files", Done: items.Load(), All: all, Noun: "items", Bytes: bytes.Load(), BytesAll: bytesAll})
	}
	stop := tick(time.Second, show)
	st, err := v.Restore(s, prefix, dest, func(rs vault.RestoreStats) {
		items.Store(rs.Items)
		bytes.Store(rs.Bytes)
	})
	stop()
	show()
	pr.Finish()
	out := o.W
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Restored %s (%s) of snapshot %s to %s in %s.\n",
		units.Count(st.Items, "item"), units.Bytes(st.Bytes), s.ID, dest, time.Since(start).Round(time.Millisecond))
	if v.Degraded() {
		fmt.Fprintln(out, "The vault is degraded: the restore read parity shards. Replace the missing disk with 'strongroom vault replace-disk OLD NEW'.")
	}
	return nil
}

// tick calls fn every interval until the returned stop is called; stop
// returns once fn no longer runs.
func tick(interval time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}
