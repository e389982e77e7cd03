package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
)

// TestDerive: the ideal wall time is the larger of "every slot busy" and
// "the busiest mailbox alone", and efficiency compares it with the wall.
func TestDerive(t *testing.T) {
	r := TenantRun{Wall: 9, Items: 400, NewItems: 0, Folders: 50, SimRequests: 810,
		MailboxRequests: 800, MaxMailboxRequests: 600}
	r.derive(30*time.Millisecond, 2, 3) // 2 workers, 3 busy mailboxes: 8 slots
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("IdealTenant", r.IdealTenant, 800*0.03/8)
	near("IdealMailbox", r.IdealMailbox, 600*0.03/4)
	near("Ideal", r.Ideal, 600*0.03/4)
	near("Efficiency", r.Efficiency, 600*0.03/4/9)
	near("MeanInFlight", r.MeanInFlight, 800*0.03/9)
	near("RequestsPerItem", r.RequestsPerItem, 810.0/400)
	near("RequestsPerFolder", r.RequestsPerFolder, 810.0/50)
	if r.RequestsPerNewItem != 0 || r.OtherRequests != 10 {
		t.Errorf("per new item %v (no new items), tenant-level %d; want 0 and 10", r.RequestsPerNewItem, r.OtherRequests)
	}
	// No mailbox made a request: one mailbox's slots, not a division by zero.
	idle := TenantRun{Wall: 1}
	idle.derive(time.Second, 4, 0)
	if idle.Ideal != 0 || math.IsNaN(idle.IdealTenant) {
		t.Errorf("idle run: %+v", idle)
	}
}

func writeTree(t *testing.T, dir string, files int) {
	t.Helper()
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%02d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Repeat(fmt.Sprintf("file %d\n", i), 100*(i+1))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIngest: the first pass stores every file; the unchanged second pass
// reuses every item; empty disks get a new vault whose key Ingest writes,
// and a second run opens that vault with it.
func TestIngest(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeTree(t, src, 12)
	c := config.Vault{KeyFile: filepath.Join(dir, "recovery.key")}
	for i := 1; i <= 4; i++ {
		c.Disks = append(c.Disks, filepath.Join(dir, fmt.Sprintf("disk%d", i))) // not there yet: Ingest makes them
	}
	res, err := Ingest(c, IngestOptions{Src: src, ParentPass: true, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 12 || res.SecondReused != 12 || len(res.Snapshots) != 2 || res.KeyFile != c.KeyFile || res.Workers != 3 {
		t.Fatalf("ingest: %+v; want 12 items, all 12 reused in a second snapshot, the key in %s", res, c.KeyFile)
	}
	var want int64
	for i := range 12 {
		want += int64(len(fmt.Sprintf("file %d\n", i)) * 100 * (i + 1))
	}
	if res.Bytes != want || res.FirstSeconds <= 0 || res.PeakRSSBytes <= 0 {
		t.Errorf("bytes %d (want %d), first pass %vs, peak RSS %d", res.Bytes, want, res.FirstSeconds, res.PeakRSSBytes)
	}
	again, err := Ingest(c, IngestOptions{Src: src, Workers: 1})
	if err != nil {
		t.Fatalf("second ingest into the existing vault: %v", err)
	}
	if len(again.Snapshots) != 1 || again.Snapshots[0] == res.Snapshots[0] || again.SecondSeconds != 0 {
		t.Errorf("second ingest without a parent pass: %+v", again)
	}
}

// TestIngestSourceIsUsage: a source that is missing or not a directory is
// the operator's mistake, and nothing is created.
func TestIngestSourceIsUsage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	c := config.Vault{Disks: []string{filepath.Join(dir, "disk1")}}
	for _, src := range []string{file, filepath.Join(dir, "missing")} {
		_, err := Ingest(c, IngestOptions{Src: src, ParentPass: true})
		var u outcome.Usage
		if !errors.As(err, &u) || !strings.Contains(err.Error(), src) {
			t.Errorf("Ingest(%s) = %v; want a usage error naming it", src, err)
		}
	}
	if _, err := os.Stat(c.Disks[0]); !os.IsNotExist(err) {
		t.Errorf("a refused ingest created the disk directory (%v)", err)
	}
}

// TestTenantOptionsAreUsage: impossible settings are the operator's
// mistake, refused before anything starts.
func TestTenantOptionsAreUsage(t *testing.T) {
	for _, o := range []TenantOptions{{Users: 0, Workers: 1}, {Users: 1, Workers: 0}, {Users: 1, Workers: 1, Latency: -time.Second}, {Users: 1, Workers: 1, Burst: -1}} {
		_, err := Tenant(context.Background(), o, io.Discard)
		var u outcome.Usage
		if !errors.As(err, &u) {
			t.Errorf("Tenant(%+v) = %v; want a usage error", o, err)
		}
	}
}
