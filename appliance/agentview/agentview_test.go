package agentview

import (
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

func render(f func(w *strings.Builder)) string {
	var b strings.Builder
	f(&b)
	return b.String()
}

func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func TestBackupAndRestore(t *testing.T) {
	rep := &agent.BackupReport{Snapshot: "S1", Result: "partial", Seconds: 2.5, RetainUntil: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC),
		Mailboxes: 4, Failed: 1, Items: 100, NewItems: 10, Carried: 90, FailedItems: 2, Bytes: 3 << 20, StoredBytes: 1536,
		Requests: 50, Throttled: 3, Errors: []string{"bob: mailbox gone"}}
	wantLines(t, "backup", render(func(w *strings.Builder) { Backup(w, rep) }),
		"snapshot S1 (partial) in 2.5s, retained until 2030-01-02", "mailboxes 4 backed up, 1 failed",
		"downloaded 3.0 MiB, stored 1.5 KiB new; 50 Graph requests, 3 throttled", "  not completed: bob: mailbox gone")
	rr := &agent.RestoreReport{Snapshot: "S1", Selected: 3, TargetUser: "a@b", TargetFolder: "Restored"}
	rr.Restored, rr.Failed, rr.Errors = 2, 1, []string{"x: refused"}
	wantLines(t, "restore", render(func(w *strings.Builder) { Restore(w, rr) }),
		`restored 2 of 3 items from S1 into "Restored" of a@b`, "1 failed)", "  failed: x: refused")
	wantLines(t, "restore test", render(func(w *strings.Builder) {
		RestoreTest(w, &agent.RestoreTestReport{Snapshot: "S1", Items: 1, Bytes: 2048})
	}),
		"restore test of S1: 1 item (2.0 KiB) verified, 0 failed")
}

func TestListings(t *testing.T) {
	l := Listing{Snapshot: "S1", Entries: []catalog.Node{
		{Name: "Inbox", Items: 12, Bytes: 5 << 20},
		{Name: "hello.eml", Items: 1, Bytes: 100, Leaf: &catalog.Entry{Path: "p/1", Meta: map[string]string{catalog.MetaDate: "2026-01-01"}}},
	}}
	wantLines(t, "ls", render(func(w *strings.Builder) { List(w, l) }), "Inbox/", "12 items", "5.0 MiB", "hello.eml", "100 B", "2026-01-01", "p/1")
	f := Found{Snapshot: "S1", Entries: []catalog.Entry{{Path: "p/1", Meta: map[string]string{catalog.MetaSubject: "budget"}}}}
	wantLines(t, "find", render(func(w *strings.Builder) { Find(w, f) }), "SUBJECT", "budget", "1 item in snapshot S1")
	snaps := []agent.SnapshotSummary{{ID: "S1", Result: "success", Items: 7, Bytes: 4096}}
	wantLines(t, "snapshots", render(func(w *strings.Builder) { Snapshots(w, snaps) }), "SNAPSHOT", "S1", "success", "4.0 KiB")
}

func TestStatusAndReport(t *testing.T) {
	st := &agent.Status{Vault: vault.Status{VaultID: "0123456789abcdef", Snapshots: 1, UsedBytes: 1 << 30, CapacityBytes: 4 << 40, DedupRatio: 2},
		LastSuccess: &agent.SnapshotSummary{ID: "S1", Items: 5, AgeSeconds: 3*3600 + 20*60}, Alerts: []string{"disk 2 missing"}}
	wantLines(t, "status", render(func(w *strings.Builder) { Status(w, st) }),
		"last successful backup: S1 (3h20m ago), 5 items", "vault 01234567:", "1 snapshot,", "1.0 GiB used of 4.0 TiB", "alert: disk 2 missing")
	r := &agent.Report{Tenant: "T", VaultID: "V"}
	r.Retention.Rollback, r.Retention.Audit = 30*24*time.Hour, 7*365*24*time.Hour
	r.RestoreTests = []agent.RestoreTestReport{{Items: 3, Failures: []string{"x"}}}
	wantLines(t, "report", render(func(w *strings.Builder) { Report(w, r) }),
		"tenant T, vault V", "restore tests: 1 run, 0 passed", "FAILED (1 item)", "every restore point 30d, first of each month 7y")
}
