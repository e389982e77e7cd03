package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExportSplitSizeRefused: a --split-size the command cannot read is a
// usage error that shows the form to use, given before the agent is
// looked for.
func TestExportSplitSizeRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "no-such-config.yaml")
	for _, size := range []string{"twenty", "-1GB", "20XB"} {
		r := run(t, nil, "export", "latest", "--format", "pst", "--split-size", size, "--dest", filepath.Join(dir, "out"), "--config", cfg)
		want := "--split-size: size \"" + size + "\": give a number of bytes or one with K, M, G or T, e.g. 20GB"
		if r.code != exitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("--split-size %s: exit %d, want 2 and %q\n%s", size, r.code, want, r.stderr)
		}
	}
}
