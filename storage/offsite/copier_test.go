package offsite_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/offsite"
)

// TestCopierRefusesBucketWithoutLock: a bucket without versioning and
// Object Lock is refused before anything is copied, with the way to make
// one that has them.
func TestCopierRefusesBucketWithoutLock(t *testing.T) {
	r := newRig(t, 4)
	r.backup(sampleFixture(1), 24*time.Hour)
	r.seal()
	if err := r.srv.MakePlainBucket("plain"); err != nil {
		t.Fatal(err)
	}
	cfg := r.srv.Config()
	cfg.Bucket = "plain"
	r.store = r.openStore(cfg)
	rep, err := r.copier().Sync(context.Background())
	if !errors.Is(err, offsite.ErrBucketNotLocked) || !strings.Contains(err.Error(), "--object-lock-enabled-for-bucket") {
		t.Fatalf("sync to a bucket without Object Lock: %v, want ErrBucketNotLocked naming how to create one", err)
	}
	if rep.ObjectsCopied != 0 {
		t.Fatalf("copied %d objects into a bucket without Object Lock", rep.ObjectsCopied)
	}
}

// TestCopierCopiesSealedAndLocks: every sealed segment, manifest, retention
// record and the keyfile go up under COMPLIANCE until the retain-until of
// the snapshots needing them (HEAD says so); unsealed files wait; a second
// run copies nothing; Verify passes.
func TestCopierCopiesSealedAndLocks(t *testing.T) {
	r := newRig(t, 4)
	short := r.backup(sampleFixture(1), 24*time.Hour)
	long := r.backup(sampleFixture(2), 72*time.Hour)
	r.seal()
	unsealed := r.backup(sampleFixture(3), 24*time.Hour)

	rep := r.sync()
	if rep.Snapshots != 2 || rep.SnapshotsOffsite != 2 || rep.NewestOffsite != long.ID {
		t.Fatalf("sync report %+v: want the 2 sealed snapshots offsite, newest %s", rep, long.ID)
	}
	wantObjects := int64(len(union(short.Segments, long.Segments))) + 1 + 1 + 2*2
	if rep.ObjectsCopied != wantObjects || rep.BytesCopied == 0 {
		t.Fatalf("copied %d objects (%d bytes), want %d (segments, an index checkpoint, keyfile, 2 manifests, 2 retention records)", rep.ObjectsCopied, rep.BytesCopied, wantObjects)
	}
	r.checkLocks(map[string]time.Time{short.ID: short.RetainUntil, long.ID: long.RetainUntil}, []string{short.ID, long.ID})

	again := r.sync()
	if again.ObjectsCopied != 0 || again.LocksExtended != 0 || again.ObjectsChecked != wantObjects {
		t.Fatalf("second sync %+v: want nothing copied and %d objects checked", again, wantObjects)
	}
	if _, err := r.copier().Verify(context.Background()); err != nil {
		t.Fatalf("verify after sync: %v", err)
	}

	r.seal()
	third := r.sync()
	if third.SnapshotsOffsite != 3 || third.NewestOffsite != unsealed.ID || third.LagSeconds != 0 {
		t.Fatalf("after sealing the third snapshot: %+v", third)
	}
}

func union(a, b []uint64) map[uint64]bool {
	m := map[uint64]bool{}
	for _, x := range append(append([]uint64(nil), a...), b...) {
		m[x] = true
	}
	return m
}

// checkLocks HEADs every object of the copy: each must be COMPLIANCE
// locked until at least the latest retain-until of the snapshots named.
func (r *rig) checkLocks(retain map[string]time.Time, ids []string) {
	r.t.Helper()
	ctx := context.Background()
	listed, err := r.store.List(ctx, r.v.ID()+"/")
	if err != nil {
		r.t.Fatal(err)
	}
	var latest time.Time
	for _, u := range retain {
		if u.After(latest) {
			latest = u
		}
	}
	segUntil := map[uint64]time.Time{}
	for _, id := range ids {
		s, err := r.v.Snapshot(id)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, seg := range s.Segments {
			if retain[id].After(segUntil[seg]) {
				segUntil[seg] = retain[id]
			}
		}
	}
	for name, vs := range listed {
		v, ok := offsite.Original(vs)
		if !ok {
			r.t.Fatalf("%s has no version holding data", name)
		}
		l, err := r.store.Head(ctx, name, v.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		want := latest
		rel := strings.TrimPrefix(name, "strongroom/"+r.v.ID()+"/")
		for id, u := range retain {
			if strings.HasPrefix(rel, "snapshots/"+id) {
				want = u
			}
		}
		for id, u := range segUntil {
			if strings.HasPrefix(rel, "segments/"+fmt.Sprintf("%016x-", id)) {
				want = u
			}
		}
		if _, sec, ok := strings.Cut(rel, ".retain-"); ok {
			n, _ := strconv.ParseInt(sec, 10, 64)
			want = time.Unix(n, 0)
		}
		if l.Mode != "COMPLIANCE" || l.Until.Before(want.Truncate(time.Second)) {
			r.t.Errorf("%s: HEAD says %q until %s, want COMPLIANCE until at least %s", rel, l.Mode, l.Until, want)
		}
	}
}

// TestCopierExtendsLocks: when a snapshot's retention grows, the next sync
// extends the locks of its objects and HEAD shows the new date.
func TestCopierExtendsLocks(t *testing.T) {
	r := newRig(t, 4)
	s := r.backup(sampleFixture(4), 24*time.Hour)
	r.seal()
	r.sync()
	later := s.RetainUntil.Add(48 * time.Hour).Truncate(time.Second)
	if err := r.v.ExtendRetention(s.ID, later); err != nil {
		t.Fatal(err)
	}
	r.seal()
	rep := r.sync()
	// Segments, index checkpoint, keyfile and manifest are extended; the
	// new retention record is copied.
	if want := int64(len(s.Segments) + 3); rep.LocksExtended != want || rep.ObjectsCopied != 1 {
		t.Fatalf("sync after extending retention: %+v, want %d locks extended and 1 record copied", rep, want)
	}
	r.checkLocks(map[string]time.Time{s.ID: later}, []string{s.ID})
	if _, err := r.copier().Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}
