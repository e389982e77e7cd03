package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage/offsite/localstore"
)

// TestRun runs the demo on a small tenant: every step reports, the deleted
// folder is found in the first restore point and not in the latest, the
// restored messages are the deleted ones, and the rolled-back drive is
// checked (Run fails when it differs); then the offsite stage copies the
// vault to versitygw, loses every disk, recovers and restores the folder
// again byte-identical (Run fails otherwise).
func TestRun(t *testing.T) {
	localstore.ForTest(t) // the offsite stage needs versitygw: skip or fail as every S3 test does
	var out bytes.Buffer
	if err := Run(context.Background(), &out, Options{Users: 2, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"simulated tenant", "full backup:", "tenant changed:", "incremental backup:", "restore:",
		"verified: all", "teams: the channel", "original authors, times, texts and order", "ransomware:", "strongroom rollback --user", "byte-for-byte what they were before the attack",
		"restore test:", "vault: 3 snapshots", "offsite: 3 restore points copied", "disaster: all 4 disks",
		"recovered: vault", "demo passed in"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`the folder holds (\d+) messages in the first restore point, (\d+) in the latest`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no catalog line:\n%s", text)
	}
	deleted := regexp.MustCompile(`deleted the folder "[^"]+" \((\d+) messages\)`).FindStringSubmatch(text)
	restored := regexp.MustCompile(`restore: (\d+) messages written back`).FindStringSubmatch(text)
	if deleted == nil || restored == nil || m[1] != deleted[1] || restored[1] != deleted[1] || m[2] != "0" {
		t.Errorf("deleted %v, in the first restore point %s, in the latest %s, restored %v; want the same count deleted, found first and restored, none latest", deleted, m[1], m[2], restored)
	}
	if n, _ := strconv.Atoi(deleted[1]); n == 0 {
		t.Errorf("the demo's user had no messages in the folder:\n%s", text)
	}
}
