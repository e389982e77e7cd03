package offsite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/vault"
)

// childEnv, when set, makes the test binary a copier process (see
// TestMain): the JSON of a childJob.
const childEnv = "STRONGROOM_OFFSITE_TEST_COPIER"

type childJob struct {
	Disks  []string
	Key    string
	Config offsite.Config
}

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		if err := runChild(job); err != nil {
			fmt.Fprintln(os.Stderr, "copier:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(job string) error {
	var j childJob
	if err := json.Unmarshal([]byte(job), &j); err != nil {
		return err
	}
	k, err := keys.ParseRecoveryKey(j.Key)
	if err != nil {
		return err
	}
	st, err := offsite.Open(j.Config, clock.Wall)
	if err != nil {
		return err
	}
	sealed, err := vault.OpenSealed(j.Disks, k)
	if err != nil {
		return err
	}
	c := &offsite.Copier{Store: st, Vault: sealed, Now: clock.Wall, Parallel: 1}
	_, err = c.Sync(context.Background())
	return err
}

// TestCopierResumesAfterKill: a copier killed with SIGKILL in the middle of
// a multipart upload (a part sent, the object not complete) leaves a copy
// the next run completes, sending again only what was not there and taking
// the dead upload's parts away; the copy then restores byte-identical.
func TestCopierResumesAfterKill(t *testing.T) {
	r := newRig(t, 4)
	r.opts.SegmentSize = 32 << 20 // each segment goes up as a multipart upload of 16 MiB parts
	r.v.Close()
	r.open()
	f := fixture{}
	for i := range 3 {
		f[fmt.Sprintf("drive/u%d/video.mp4", i)] = randomBytes(uint64(40+i), 24<<20)
	}
	s := r.backup(f, 24*time.Hour)
	r.seal()
	cfg := r.srv.Config()
	cfg.BandwidthBytes = 8 << 20 // about 10 s for the whole copy: time to kill it midway
	job, _ := json.Marshal(childJob{Disks: r.disks, Key: r.key.String(), Config: cfg})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(job))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for !r.partSent(ctx) {
		time.Sleep(20 * time.Millisecond) // polling a child process, not timing an assertion
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	listed, err := r.store.List(ctx, r.v.ID()+"/segments/")
	if err != nil {
		t.Fatal(err)
	}
	done := len(listed)
	if done >= len(s.Segments) {
		t.Fatalf("the copier finished all %d segments before it was killed\n%s", done, out)
	}
	t.Logf("killed with %d of %d segments complete and one multipart upload under way", done, len(s.Segments))

	rep := r.sync()
	if rep.ObjectsCopied == 0 || rep.ObjectsCopied > int64(len(s.Segments)-done+5) || rep.SnapshotsOffsite != 1 {
		t.Fatalf("resumed sync %+v: want the %d missing segments, checkpoint, keyfile, manifest and record copied, none sent again", rep, len(s.Segments)-done)
	}
	if r.partSent(ctx) {
		t.Fatal("the killed copier's multipart upload is still there after the resumed sync")
	}
	if _, err := r.copier().Verify(ctx); err != nil {
		t.Fatal(err)
	}
	checkRestore(t, r.remoteVault(r.store), s.ID, f)
}

// partSent reports whether a multipart upload under the vault's prefix has
// at least one part in the store.
func (r *rig) partSent(ctx context.Context) bool {
	core := minio.Core{Client: r.store.Client()}
	for u := range core.ListIncompleteUploads(ctx, r.store.Bucket(), "strongroom/"+r.v.ID()+"/", true) {
		if u.Err != nil {
			r.t.Fatal(u.Err)
		}
		parts, err := core.ListObjectParts(ctx, r.store.Bucket(), u.Key, u.UploadID, 0, 100)
		if err == nil && len(parts.ObjectParts) > 0 {
			return true
		}
	}
	return false
}

// TestDisasterDrill: back up, copy offsite, lose every local disk and the
// state, rebuild the vault on a new set of disks (another count) from the
// bucket with only the recovery key and the bucket's credentials, restore
// byte-identical, and carry on backing up with the same history.
func TestDisasterDrill(t *testing.T) {
	r := newRig(t, 4)
	f1, f2 := sampleFixture(10), sampleFixture(20)
	s1 := r.backup(f1, 24*time.Hour)
	s2 := r.backup(f2, 48*time.Hour)
	r.seal()
	r.sync()
	vaultID := r.v.ID()

	// The fire: every disk and the state on them are gone.
	r.v.Close()
	for _, d := range r.disks {
		if err := immutable.ClearTree(d); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}

	// A new box: a fresh store client from the configuration alone.
	ctx := context.Background()
	store := r.openStore(r.srv.Config())
	copyOf, err := offsite.OpenCopy(ctx, store, "")
	if err != nil {
		t.Fatal(err)
	}
	if copyOf.VaultID() != vaultID {
		t.Fatalf("the bucket's copy is vault %s, want %s", copyOf.VaultID(), vaultID)
	}
	remote, err := copyOf.Open(r.key)
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := remote.Snapshots()
	if err != nil || len(snaps) != 2 || snaps[0].ID != s1.ID || snaps[1].ID != s2.ID {
		t.Fatalf("restore points listed from the bucket: %v, %v; want %s and %s", snaps, err, s1.ID, s2.ID)
	}
	checkRestore(t, remote, s1.ID, f1) // straight from the bucket

	newDisks := makeDisks(t, 6)
	st, err := copyOf.Rehydrate(newDisks, r.key, nil)
	if err != nil {
		t.Fatalf("rehydrate: %v", err)
	}
	if st.Segments != st.SegmentsTotal || st.Snapshots != 2 {
		t.Fatalf("rehydrate %+v: want every segment and both snapshots", st)
	}
	again, err := copyOf.Rehydrate(newDisks, r.key, nil)
	if err != nil || again.Segments != 0 || again.Skipped != st.SegmentsTotal {
		t.Fatalf("rehydrate run again: %+v, %v; want every segment found in place", again, err)
	}
	r.disks, r.opts = newDisks, smallOptions(newDisks, r.key)
	r.open()
	if r.v.ID() != vaultID || r.v.Layout().K != 4 || r.v.Layout().M != 2 {
		t.Fatalf("rehydrated vault %s layout %v, want vault %s as 4+2", r.v.ID(), r.v.Layout(), vaultID)
	}
	checkRestore(t, r.v, s1.ID, f1)
	checkRestore(t, r.v, s2.ID, f2)

	// Carry on: the next backup deduplicates against the recovered history.
	f3 := sampleFixture(20)
	f3["mail/alice/inbox/3.eml"] = randomBytes(30, 5<<10)
	s3 := r.backup(f3, 24*time.Hour)
	if s3.NewBytes > 64<<10 {
		t.Fatalf("backup after recovery stored %d new bytes for one new 5 KiB item: history not reused", s3.NewBytes)
	}
	checkRestore(t, r.v, s3.ID, f3)
	r.seal()
	if rep := r.sync(); rep.SnapshotsOffsite != 3 {
		t.Fatalf("offsite sync after recovery: %+v", rep)
	}
}
