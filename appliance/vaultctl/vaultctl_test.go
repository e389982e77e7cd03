package vaultctl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestResolve: flags win over the configuration file, whose relative
// paths are the file's; the key file comes last from the environment; no
// disks and no key are the operator's mistakes.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strongroom.yaml")
	os.WriteFile(cfg, []byte("vault:\n  disks: [d1, d2]\n  key_file: recovery.key\n  state_dir: state\nagent_only: {x: 1}\n"), 0o600)

	t.Setenv(KeyFileEnv, "")
	c, err := Flags{Config: cfg}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Disks, " ") != filepath.Join(dir, "d1")+" "+filepath.Join(dir, "d2") || c.KeyFile != filepath.Join(dir, "recovery.key") || c.StateDir != filepath.Join(dir, "state") {
		t.Errorf("from the file: %+v", c)
	}
	c, err = Flags{Config: cfg, Disks: []string{"/x"}, KeyFile: "/k", StateDir: "/s", WardenDir: "/w"}.Resolve()
	if err != nil || strings.Join(c.Disks, " ") != "/x" || c.KeyFile != "/k" || c.StateDir != "/s" || c.WardenDir != "/w" {
		t.Errorf("flags over the file: %+v, %v", c, err)
	}

	t.Setenv(KeyFileEnv, "/from/env")
	if c, _ := (Flags{Config: cfg}).Resolve(); c.KeyFile != "/from/env" {
		t.Errorf("key file with %s set: %q", KeyFileEnv, c.KeyFile)
	}
	if c, _ := (Flags{Config: cfg, KeyFile: "/flag"}).Resolve(); c.KeyFile != "/flag" {
		t.Errorf("--key-file with %s set: %q", KeyFileEnv, c.KeyFile)
	}

	var u outcome.Usage
	if _, err := (Flags{}).Resolve(); !errors.As(err, &u) || !strings.Contains(err.Error(), "--disk") {
		t.Errorf("no disks: %v; want a usage error naming --disk", err)
	}
	if _, err := ReadKey(c); err != nil && errors.As(err, &u) {
		t.Errorf("a named key file is no usage error: %v", err)
	}
	c.KeyFile = ""
	if _, err := ReadKey(c); !errors.As(err, &u) || !strings.Contains(err.Error(), KeyFileEnv) {
		t.Errorf("no key file: %v; want a usage error naming %s", err, KeyFileEnv)
	}
	if _, err := (Flags{Config: filepath.Join(dir, "missing.yaml")}).Resolve(); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing configuration file: %v", err)
	}
}

// TestHealthErrors: a degraded status or scrub is Unhealthy and keeps the
// vault's sentinel (for its remedy); a healthy one is no error.
func TestHealthErrors(t *testing.T) {
	if statusError(vault.Status{}) != nil || scrubError(vault.ScrubReport{Healthy: true}, false) != nil {
		t.Fatal("a healthy vault gave an error")
	}
	missing := vault.Status{Degraded: true, Segments: 9, DegradedSegments: 4,
		Disks: []vault.DiskStatus{{Index: 0, Path: "/d0", Present: true}, {Index: 1, Path: "/d1"}}}
	for _, tc := range []struct {
		err      error
		sentinel error
		words    string
	}{
		{statusError(missing), vault.ErrDegradedWrite, "slot 1 (/d1)"},
		{statusError(vault.Status{Degraded: true, Segments: 9, DegradedSegments: 2}), vault.ErrCorrupt, "2 of 9 segments"},
		{scrubError(vault.ScrubReport{MissingDiskSlots: []int{2}}, false), vault.ErrDegradedWrite, "disk slots [2]"},
		{scrubError(vault.ScrubReport{Problems: make([]vault.ShardProblem, 3)}, false), vault.ErrCorrupt, "3 damaged"},
		{scrubError(vault.ScrubReport{Unrecoverable: []uint64{7}}, true), nil, "cannot be rebuilt"},
		{scrubError(vault.ScrubReport{Problems: make([]vault.ShardProblem, 1)}, true), nil, "left 1 problems"},
	} {
		var uh outcome.Degraded
		if !errors.As(tc.err, &uh) || !strings.Contains(tc.err.Error(), tc.words) {
			t.Errorf("%v: want Degraded saying %q", tc.err, tc.words)
		}
		if tc.sentinel != nil && !errors.Is(tc.err, tc.sentinel) {
			t.Errorf("%v does not wrap %v", tc.err, tc.sentinel)
		}
	}
}

func TestParseRetention(t *testing.T) {
	var u outcome.Usage
	for _, tc := range [][2]string{{"", ""}, {"2030-01-01", "30d"}, {"someday", ""}, {"", "soon"}} {
		if _, err := ParseRetention(tc[0], tc[1]); !errors.As(err, &u) {
			t.Errorf("ParseRetention(%q, %q) = %v; want a usage error", tc[0], tc[1], err)
		}
	}
	r, err := ParseRetention("2030-01-31", "")
	if err != nil || !r.Until.Equal(time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)) || r.For != 0 {
		t.Errorf("--until 2030-01-31: %+v, %v", r, err)
	}
	r, err = ParseRetention("", "7y")
	if err != nil || r.For != 7*365*24*time.Hour || !r.Until.IsZero() {
		t.Errorf("--for 7y: %+v, %v", r, err)
	}
}

// TestVaultOutput runs the operations on a real vault: init shows the key
// it writes, and snapshots, list, retain and restore say what they did.
func TestVaultOutput(t *testing.T) {
	dir := t.TempDir()
	var disks []string
	for i := 1; i <= 4; i++ {
		disks = append(disks, filepath.Join(dir, fmt.Sprintf("disk%d", i)))
		os.Mkdir(disks[i-1], 0o755)
	}
	key := filepath.Join(dir, "recovery.key")
	var out bytes.Buffer
	if err := Init(&out, disks, key); err != nil {
		t.Fatal(err)
	}
	k, _ := os.ReadFile(key)
	// The test's disk directories share the temporary directory's file
	// system: init must say they count as one disk.
	if !strings.Contains(out.String(), strings.TrimSpace(string(k))) || !strings.Contains(out.String(), "survives no disk failure: its 4 disk directories lie on 1 device") ||
		!strings.Contains(out.String(), "WARNING: disk directories on one file system count as one disk: "+strings.Join(disks, ", ")+" share a device") {
		t.Errorf("init output:\n%s", out.String())
	}
	var u outcome.Usage
	if err := Init(&out, nil, filepath.Join(dir, "other.key")); !errors.As(err, &u) || !strings.Contains(err.Error(), "--disk") {
		t.Errorf("init without disks: %v; want a usage error naming --disk", err)
	}
	if err := Init(&out, disks, key); !errors.As(err, &u) {
		t.Errorf("init over an existing key file: %v; want a usage error", err)
	}

	c, err := Flags{Disks: disks, KeyFile: key}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	err = With(c, nil, func(v *vault.Vault) error {
		w, err := v.NewWriter("test", nil)
		if err != nil {
			return err
		}
		for _, p := range []string{"a/one.txt", "a/two.txt", "b/three.txt"} {
			if _, err := w.Put(vault.Item{Path: p, Size: 4096, Mode: 0o644}, strings.NewReader(strings.Repeat("x", 4096))); err != nil {
				return err
			}
		}
		s, err := w.Commit(time.Time{})
		if err != nil {
			return err
		}
		out.Reset()
		if err := Snapshots(outcome.Output{W: &out, JSON: true}, v); err != nil || strings.Contains(out.String(), `"item_list": [`) || !strings.Contains(out.String(), s.ID) {
			t.Errorf("snapshots as JSON (%v):\n%s", err, out.String())
		}
		out.Reset()
		Snapshots(outcome.Output{W: &out}, v)
		if !strings.Contains(out.String(), s.ID) || !strings.Contains(out.String(), "12.0 KiB") || !strings.HasSuffix(out.String(), "1 snapshot\n") {
			t.Errorf("snapshot table:\n%s", out.String())
		}
		out.Reset()
		if err := List(&out, v, "latest", "/a/", false); err != nil || strings.Count(out.String(), "\n") != 2 || strings.Contains(out.String(), "three") {
			t.Errorf("list of a/: %v\n%s", err, out.String())
		}
		out.Reset()
		if err := Retain(&out, v, s.ID[:8], Retention{For: 30 * 24 * time.Hour}); err != nil || !strings.Contains(out.String(), "retained until") {
			t.Errorf("retain: %v, %s", err, out.String())
		}
		out.Reset()
		if err := Status(outcome.Output{W: &out}, v); err != nil || !strings.Contains(out.String(), "2+2 (survives no disk failure") ||
			!strings.Contains(out.String(), "of it free") || !strings.Contains(out.String(), "WARNING: disk directories on one file system") {
			t.Errorf("status of a vault on one file system: %v\n%s", err, out.String())
		}
		var progress bytes.Buffer
		out.Reset()
		dest := filepath.Join(dir, "restored")
		if err := Restore(outcome.Output{W: &out, Progress: &progress}, v, "latest", "b", dest); err != nil || !strings.Contains(out.String(), "Restored 1 item (4.0 KiB)") {
			t.Errorf("restore: %v, %s", err, out.String())
		}
		// Not a terminal: the progress ends with a plain line.
		if !strings.HasPrefix(progress.String(), "restore: writing files, 1/? items, 4.0 KiB at ") {
			t.Errorf("restore progress: %q", progress.String())
		}
		out.Reset()
		progress.Reset()
		if err := Scrub(outcome.Output{W: &out, Progress: &progress}, v, false); err != nil || !strings.Contains(out.String(), "Vault is healthy.") {
			t.Errorf("scrub: %v, %s", err, out.String())
		}
		if !regexp.MustCompile(`^scrub: checking shards, (\d+)/(\d+) segments, [0-9.]+ KiB`).MatchString(progress.String()) {
			t.Errorf("scrub progress: %q", progress.String())
		}
		if b, err := os.ReadFile(filepath.Join(dest, "b", "three.txt")); err != nil || len(b) != 4096 {
			t.Errorf("restored file: %d bytes, %v", len(b), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
