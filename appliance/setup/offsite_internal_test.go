package setup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/offsitectl"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/offsite/localstore"
)

// TestOffsiteTestedAndCommitted: the wizard's bucket test against a real
// S3 server (versitygw) accepts a bucket with Object Lock and names what
// is wrong with a bucket without it, a wrong secret and a missing bucket;
// Commit writes the secret key file (0600) and an offsite: section the
// copier's own configuration path reads back and reaches the bucket with.
func TestOffsiteTestedAndCommitted(t *testing.T) {
	srv := localstore.ForTest(t)
	sc := srv.Config()
	good := Offsite{Endpoint: sc.Endpoint, Bucket: sc.Bucket, Region: sc.Region, AccessKey: sc.AccessKey,
		SecretKey: sc.SecretKey, PathStyle: true, CAFile: sc.CAFile}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := &System{}
	if err := s.TestOffsite(ctx, good); err != nil {
		t.Fatalf("a bucket with Object Lock was refused: %v", err)
	}
	if err := srv.MakePlainBucket("plain"); err != nil {
		t.Fatal(err)
	}
	plain := good
	plain.Bucket = "plain"
	if err := s.TestOffsite(ctx, plain); !errors.Is(err, offsite.ErrBucketNotLocked) || !strings.Contains(err.Error(), "create a new one with it") {
		t.Errorf("bucket without Object Lock: %v", err)
	}
	wrong := good
	wrong.SecretKey = "not-the-secret"
	if err := s.TestOffsite(ctx, wrong); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("wrong secret: %v", err)
	}
	missing := good
	missing.Bucket = "no-such-bucket"
	if err := s.TestOffsite(ctx, missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	for _, bad := range []struct {
		o    Offsite
		want string
	}{
		{Offsite{Endpoint: good.Endpoint, Bucket: "b", AccessKey: "k"}, "Secret key is empty"},
		{Offsite{Endpoint: "ftp://x", Bucket: "b", AccessKey: "k", SecretKey: "s"}, "scheme must be https"},
		{Offsite{Endpoint: good.Endpoint, Bucket: "b", AccessKey: "k", SecretKey: "s", CAFile: "/nonexistent/ca.pem"}, "CA file"},
	} {
		if err := ValidateOffsite(bad.o); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ValidateOffsite(%+v) = %v, want %q", bad.o, err, bad.want)
		}
	}

	root := t.TempDir()
	disks := newDiskDirs(root, "d1", "d2", "d3", "d4")
	vi, err := s.InitVault(ctx, disks)
	if err != nil {
		t.Fatal(err)
	}
	p := testPlan(filepath.Join(root, "etc"), "s", disks, vi.RecoveryKey)
	p.Offsite = &good
	if err := s.Commit(ctx, p); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	o := c.Offsite
	if o == nil || o.Bucket != sc.Bucket || !o.PathStyle || o.CAFile != sc.CAFile || o.StateDir != filepath.Join(root, "etc", "offsite") {
		t.Fatalf("offsite section = %+v", o)
	}
	fi, err := os.Stat(o.SecretKeyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v, want mode 0600", fi, err)
	}
	if b, _ := os.ReadFile(p.ConfigPath); strings.Contains(string(b), sc.SecretKey) {
		t.Error("the configuration file holds the secret key")
	}
	st, err := offsitectl.OpenStore(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx); err != nil {
		t.Errorf("the committed offsite section does not reach the bucket: %v", err)
	}
}
