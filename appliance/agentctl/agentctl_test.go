package agentctl

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/outcome"
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
	rep := &api.BackupReport{Snapshot: "S1", Result: "partial", Seconds: 2.5, RetainUntil: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC),
		Protected: 4, Failed: 1, Items: 100, ResourceUnits: 7,
		Coverage: []api.Coverage{{Workload: "exchange", Noun: "mailboxes", All: 5, Protected: 4, Unprotected: []string{"bob"}}}, NewItems: 10, Carried: 90, FailedItems: 2, Bytes: 3 << 20, StoredBytes: 1536,
		Requests: 50, Throttled: 3, Errors: []string{"bob: mailbox gone"}}
	wantLines(t, "backup", render(func(w *strings.Builder) { writeBackup(w, rep) }),
		"snapshot S1 (partial) in 2.5s, retained until 2030-01-02", "mailboxes: 4 of 5 protected, 1 failed",
		"items in the restore point: 100 (10 new or changed, 90 unchanged, 0 moved); 0 removed since the last one, 2 not completed",
		"downloaded 3.0 MiB, stored 1.5 KiB new; 50 Graph requests, 3 throttled, 7 resource units", "  not completed: bob: mailbox gone")
	rb := &api.RollbackReport{User: "a@b", Snapshot: "S0", Before: time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC), DryRun: true,
		Restored: []string{"Docs/x.docx"}, Quarantined: []string{"README-RANSOM.txt"}, Unchanged: 4, Bytes: 2048}
	wantLines(t, "rollback", render(func(w *strings.Builder) { writeRollback(w, rb) }),
		"rollback of the OneDrive of a@b to restore point S0", "dry run: nothing changed", "would restore 1 files (2.0 KiB), would quarantine 1, 4 unchanged",
		"  would restore: Docs/x.docx", "  quarantine: README-RANSOM.txt")
	site := &api.RollbackReport{Site: "https://c.sharepoint.com/sites/hr", Libraries: []string{"Documents"}, Snapshot: "S0", QuarantineFolder: "Quarantine X",
		Restored: []string{"Documents/a.pdf"}}
	wantLines(t, "site rollback", render(func(w *strings.Builder) { writeRollback(w, site) }),
		`rollback of library "Documents" of https://c.sharepoint.com/sites/hr to restore point S0`, "  restored: Documents/a.pdf")
	rr := &api.RestoreReport{Snapshot: "S1", Selected: 3, TargetUser: "a@b", TargetFolder: "Restored"}
	rr.Restored, rr.Failed, rr.Errors = 2, 1, []string{"x: refused"}
	wantLines(t, "restore", render(func(w *strings.Builder) { writeRestore(w, rr) }),
		`restored 2 of 3 items from S1 beneath "Restored" of a@b`, "1 failed)", "  failed: x: refused")
	wantLines(t, "restore test", render(func(w *strings.Builder) {
		writeRestoreTest(w, &api.RestoreTestReport{Snapshot: "S1", Items: 1, Bytes: 2048})
	}),
		"restore test of S1: 1 item (2.0 KiB) verified, 0 failed")
}

func TestListings(t *testing.T) {
	l := listing{Snapshot: "S1", Entries: []api.Node{
		{Name: "Inbox", Items: 12, Bytes: 5 << 20},
		{Name: "hello.eml", Items: 1, Bytes: 100, Leaf: &api.Entry{Path: "p/1", Meta: map[string]string{api.MetaDate: "2026-01-01"}}},
	}}
	wantLines(t, "ls", render(func(w *strings.Builder) { writeList(w, l) }), "Inbox/", "12 items", "5.0 MiB", "hello.eml", "100 B", "2026-01-01", "p/1")
	f := found{Snapshot: "S1", Entries: []api.Entry{{Path: "p/1", Meta: map[string]string{api.MetaSubject: "budget"}}}}
	wantLines(t, "find", render(func(w *strings.Builder) { writeFind(w, f) }), "SUBJECT", "budget", "1 item in snapshot S1")
	snaps := []api.SnapshotSummary{{ID: "S1", Result: "success", Items: 7, Bytes: 4096}}
	wantLines(t, "snapshots", render(func(w *strings.Builder) { writeSnapshots(w, snaps) }), "SNAPSHOT", "S1", "success", "4.0 KiB")
}

func TestStatusAndReport(t *testing.T) {
	st := &api.Status{Vault: api.VaultStatus{VaultID: "0123456789abcdef", Snapshots: 1, UsedBytes: 1 << 30, CapacityBytes: 4 << 40, DedupRatio: 2,
		DeviceWarning: "disk directories on one file system count as one disk"},
		Now: time.Date(2026, 3, 14, 9, 1, 40, 0, time.UTC),
		Jobs: []api.JobStatus{{Kind: "backup", Started: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), Phase: "backing up", Message: "backing up mailboxes",
			UnitsDone: 5, UnitsAll: 20, Noun: "units", Items: 400, Bytes: 100 << 20, Throttled: 2, ThrottlePaused: 30 * time.Second}},
		LastSuccess: &api.SnapshotSummary{ID: "S1", Items: 5, AgeSeconds: 3*3600 + 20*60}, Alerts: []string{"disk 2 missing"}}
	wantLines(t, "status", render(func(w *strings.Builder) { writeStatus(w, st) }),
		"last successful backup: S1 (3h20m ago), 5 items", "vault 01234567:", "1 snapshot,", "1.0 GiB used of 4.0 TiB", "alert: disk 2 missing",
		"warning: disk directories on one file system count as one disk",
		"running: backup: backing up mailboxes, 5/20 units, 400 items, 100.0 MiB at 1.0 MiB/s, 2 throttled (paused 30s), 5m left, 1m elapsed")
	r := &api.Report{Tenant: "T", VaultID: "V"}
	r.Retention.Rollback, r.Retention.Audit = 30*24*time.Hour, 7*365*24*time.Hour
	r.RestoreTests = []api.RestoreTestReport{{Items: 3, Failures: []string{"x"}}}
	wantLines(t, "report", render(func(w *strings.Builder) { writeReport(w, r) }),
		"tenant T, vault V", "restore tests: 1 run, 0 passed", "FAILED (1 item)", "every restore point 30 days, first of each month 2555 days (7y)")
}

// fake answers the calls the verdict tests make; the others panic.
type fake struct {
	api.Service
	backup *api.BackupReport
	status *api.Status
	err    error
}

func (f fake) Backup(context.Context, api.BackupRequest) (*api.BackupReport, error) {
	return f.backup, f.err
}
func (f fake) Status(context.Context) (*api.Status, error) { return f.status, f.err }

// TestVerdicts: work done in part is Degraded, shown all the same; a
// failure after a committed snapshot shows the report and returns the
// failure; a failure before it shows nothing.
func TestVerdicts(t *testing.T) {
	ctx := context.Background()
	var b strings.Builder
	o := outcome.Output{W: &b}
	var d outcome.Degraded
	partial := &api.BackupReport{Snapshot: "S1", Result: "partial", Failed: 1}
	if err := Backup(ctx, fake{backup: partial}, o, nil); !errors.As(err, &d) || !strings.Contains(b.String(), "snapshot S1 (partial)") {
		t.Errorf("partial backup: %v\n%s", err, b.String())
	}
	b.Reset()
	broke := errors.New("vault full")
	if err := Backup(ctx, fake{backup: partial, err: broke}, o, nil); err != broke || !strings.Contains(b.String(), "snapshot S1") {
		t.Errorf("failure after the commit: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := Backup(ctx, fake{backup: &api.BackupReport{}, err: broke}, o, nil); err != broke || b.Len() != 0 {
		t.Errorf("failure before a commit: %v\n%s", err, b.String())
	}
	if err := Backup(ctx, fake{backup: &api.BackupReport{Snapshot: "S2", Result: "success"}}, outcome.Output{W: &b, JSON: true}, nil); err != nil || !strings.Contains(b.String(), `"snapshot": "S2"`) {
		t.Errorf("a successful backup as JSON: %v\n%s", err, b.String())
	}
	st := &api.Status{Vault: api.VaultStatus{VaultID: "v"}, Alerts: []string{"disk 2 missing"}}
	if err := Status(ctx, fake{status: st}, o); !errors.As(err, &d) || !strings.Contains(err.Error(), "disk 2 missing") {
		t.Errorf("status with an alert: %v", err)
	}
	st.Alerts = nil
	if err := Status(ctx, fake{status: st}, o); err != nil {
		t.Errorf("status without alerts: %v", err)
	}
}
