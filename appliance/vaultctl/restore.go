package vaultctl

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// Restore writes the items of snapshot ref at or below prefix as files
// below dest, reports its progress to progress every second, and says on
// out what it restored (and when it had to read parity).
func Restore(out, progress io.Writer, v *vault.Vault, ref, prefix, dest string) error {
	s, err := v.Snapshot(ref)
	if err != nil {
		return err
	}
	start := time.Now()
	var items, bytes atomic.Int64
	stop := tick(time.Second, func() {
		b := bytes.Load()
		pct := 0.0
		if s.Bytes > 0 {
			pct = 100 * float64(b) / float64(s.Bytes)
		}
		fmt.Fprintf(progress, "restore: %d/%d items, %s (%.0f%%), %.1f MB/s\n",
			items.Load(), s.Items, units.Bytes(b), pct, float64(b)/1e6/time.Since(start).Seconds())
	})
	st, err := v.Restore(s, prefix, dest, func(rs vault.RestoreStats) {
		items.Store(rs.Items)
		bytes.Store(rs.Bytes)
	})
	stop()
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
