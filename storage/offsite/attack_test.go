package offsite_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strongroom/strongroom/storage/offsite"
)

// TestLockedCopyResistsTheAppliancesCredentials: with the very credentials
// the appliance copies with (here the server's root account), every way of
// destroying or weakening the copy is refused by the server, and the
// snapshot still restores byte-identical from the bucket afterwards.
func TestLockedCopyResistsTheAppliancesCredentials(t *testing.T) {
	r := newRig(t, 4)
	f := sampleFixture(5)
	s := r.backup(f, 24*time.Hour)
	r.seal()
	r.sync()

	ctx := context.Background()
	c := r.store.Client()
	bucket := r.store.Bucket()
	listed, err := r.store.List(ctx, r.v.ID()+"/")
	if err != nil {
		t.Fatal(err)
	}
	var segName, manifest string
	for name := range listed {
		if strings.Contains(name, "/segments/") && segName == "" {
			segName = name
		}
		if strings.HasSuffix(name, ".snap") {
			manifest = name
		}
	}
	seg, _ := offsite.Original(listed[segName])
	man, _ := offsite.Original(listed[manifest])
	earlier := time.Now().Add(time.Hour)
	governance := minio.Governance
	compliance := minio.Compliance

	attacks := []struct {
		name string
		do   func() error
	}{
		{"delete the locked segment version", func() error {
			return c.RemoveObject(ctx, bucket, segName, minio.RemoveObjectOptions{VersionID: seg.ID})
		}},
		{"delete the locked version with the governance bypass", func() error {
			return c.RemoveObject(ctx, bucket, segName, minio.RemoveObjectOptions{VersionID: seg.ID, GovernanceBypass: true})
		}},
		{"delete the manifest version in a multi-object delete", func() error {
			ch := make(chan minio.ObjectInfo, 1)
			ch <- minio.ObjectInfo{Key: manifest, VersionID: man.ID}
			close(ch)
			for e := range c.RemoveObjects(ctx, bucket, ch, minio.RemoveObjectsOptions{GovernanceBypass: true}) {
				return e.Err
			}
			return nil
		}},
		{"shorten the retention", func() error {
			return c.PutObjectRetention(ctx, bucket, segName, minio.PutObjectRetentionOptions{Mode: &compliance, RetainUntilDate: &earlier, VersionID: seg.ID})
		}},
		{"switch to GOVERNANCE with bypass", func() error {
			until := time.Now().Add(96 * time.Hour)
			return c.PutObjectRetention(ctx, bucket, segName, minio.PutObjectRetentionOptions{Mode: &governance, RetainUntilDate: &until, VersionID: seg.ID, GovernanceBypass: true})
		}},
		{"suspend versioning", func() error { return c.SuspendVersioning(ctx, bucket) }},
		{"delete the bucket", func() error { return c.RemoveBucket(ctx, bucket) }},
		{"force-delete the bucket", func() error {
			return c.RemoveBucketWithOptions(ctx, bucket, minio.RemoveBucketOptions{ForceDelete: true})
		}},
	}
	for _, a := range attacks {
		if err := a.do(); err == nil {
			t.Errorf("%s: the server allowed it", a.name)
		} else {
			t.Logf("%s: refused: %v", a.name, err)
		}
	}

	// Overwrite and delete are allowed by S3, as a new version and a
	// delete marker; the locked original stays and is what is read back.
	junk := []byte("ransom note")
	for _, name := range []string{segName, manifest} {
		if _, err := c.PutObject(ctx, bucket, name, bytes.NewReader(junk), int64(len(junk)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("overwrite %s: %v", name, err)
		}
		if err := c.RemoveObject(ctx, bucket, name, minio.RemoveObjectOptions{}); err != nil {
			t.Fatalf("delete %s (a delete marker): %v", name, err)
		}
	}
	// The originals are still locked: deleting them is still refused.
	if err := c.RemoveObject(ctx, bucket, segName, minio.RemoveObjectOptions{VersionID: seg.ID, GovernanceBypass: true}); err == nil {
		t.Fatal("after an overwrite the original segment version could be deleted")
	}
	// Verify names the tampering rather than passing quietly.
	if _, err := r.copier().Verify(ctx); err == nil || !strings.Contains(err.Error(), "rotate the offsite credentials") {
		t.Fatalf("verify after overwrites and delete markers: %v, want the tampering named", err)
	}
	checkRestore(t, r.remoteVault(r.store), s.ID, f)
}
