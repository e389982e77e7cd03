package offsitectl_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/offsitectl"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/storage/offsite"
)

// TestStatusAndRefusals: the offsite commands name what to do when the
// configuration has no offsite: section (a usage error), when the copier
// never ran, when the secret file is readable by others; and status exits
// "degraded" when the last run failed.
func TestStatusAndRefusals(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	o := outcome.Output{W: &out}
	var usage outcome.Usage
	if err := offsitectl.Status(ctx, o, &config.Config{}); !errors.As(err, &usage) || !strings.Contains(err.Error(), "offsite: section") {
		t.Fatalf("status without an offsite section: %v, want a usage error naming the section", err)
	}
	dir := t.TempDir()
	c := &config.Config{Offsite: &config.Offsite{Bucket: "b", Endpoint: "https://s3.example", StateDir: dir, SecretKeyFile: filepath.Join(dir, "secret")}}
	if err := offsitectl.Status(ctx, o, c); err == nil || !strings.Contains(err.Error(), "strongroom offsite sync") {
		t.Fatalf("status before any run: %v, want how to start one", err)
	}
	if err := offsite.WriteStatus(dir, offsite.Status{Bucket: "b", LastError: "store unreachable", Runs: 1, FailedRuns: 1}); err != nil {
		t.Fatal(err)
	}
	var degraded outcome.Degraded
	if err := offsitectl.Status(ctx, o, c); !errors.As(err, &degraded) || !strings.Contains(out.String(), "last run failed: store unreachable") {
		t.Fatalf("status after a failed run: %v\n%s", err, out.String())
	}
	if err := os.WriteFile(c.Offsite.SecretKeyFile, []byte("s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := offsitectl.StoreConfig(c.Offsite); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a secret file others may read: %v, want a refusal naming chmod 600", err)
	}
}
