package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// restoreTestLog is where restore-test results are kept between restarts
// (one JSON line each, beside the vault's other derived state).
func (a *Agent) restoreTestLog() string {
	return filepath.Join(a.v.StateDir(), "restore-tests.jsonl")
}

func (a *Agent) recordRestoreTest(rep *RestoreTestReport) {
	f, err := os.OpenFile(a.restoreTestLog(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		a.log.Warn("cannot record restore test", "err", err)
		return
	}
	defer f.Close()
	b, _ := json.Marshal(rep)
	f.Write(append(b, '\n'))
	f.Sync()
}

func (a *Agent) restoreTests(since time.Time) []RestoreTestReport {
	f, err := os.Open(a.restoreTestLog())
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []RestoreTestReport
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var r RestoreTestReport
		if json.Unmarshal(sc.Bytes(), &r) == nil && !r.At.Before(since) {
			out = append(out, r)
		}
	}
	return out
}

// Report is the account of protection for an auditor or a managed-service
// customer: what was protected, what failed, restore tests, retention.
type Report struct {
	Generated      time.Time           `json:"generated"`
	Since          time.Time           `json:"since"`
	Tenant         string              `json:"tenant"`
	VaultID        string              `json:"vault_id"`
	Layout         string              `json:"layout"`
	Backups        []SnapshotSummary   `json:"backups"`
	Successful     int                 `json:"successful"`
	Partial        int                 `json:"partial"`
	LastSuccess    *SnapshotSummary    `json:"last_success,omitempty"`
	RestoreTests   []RestoreTestReport `json:"restore_tests"`
	RestoreTestsOK int                 `json:"restore_tests_ok"`
	Retention      struct {
		Rollback        time.Duration `json:"rollback_ns"`
		Audit           time.Duration `json:"audit_ns"`
		LockedSnapshots int           `json:"locked_snapshots"`
		LockedUntil     time.Time     `json:"locked_until"`
		Oldest          time.Time     `json:"oldest_restore_point"`
	} `json:"retention"`
	Offsite *OffsiteSummary `json:"offsite,omitempty"`
	Alerts  []string        `json:"alerts,omitempty"`
}

// Report summarizes protection since a point in time.
func (a *Agent) Report(ctx context.Context, since time.Time) (*Report, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	st, err := a.Status(ctx)
	if err != nil {
		return nil, err
	}
	snaps, err := a.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	r := &Report{Generated: st.Now, Since: since, Tenant: a.cfg.TenantID, VaultID: st.Vault.VaultID, Layout: st.Vault.Layout,
		LastSuccess: st.LastSuccess, Offsite: st.Offsite, Alerts: st.Alerts}
	for _, s := range snaps {
		if r.Retention.Oldest.IsZero() || s.Created.Before(r.Retention.Oldest) {
			r.Retention.Oldest = s.Created
		}
		if s.Created.Before(since) {
			continue
		}
		r.Backups = append(r.Backups, s)
		switch s.Result {
		case "success":
			r.Successful++
		case "partial":
			r.Partial++
		}
	}
	r.RestoreTests = a.restoreTests(since)
	for _, t := range r.RestoreTests {
		if t.OK {
			r.RestoreTestsOK++
		}
	}
	r.Retention.Rollback, r.Retention.Audit = a.cfg.Retention.Rollback.D(), a.cfg.Retention.Audit.D()
	r.Retention.LockedSnapshots, r.Retention.LockedUntil = st.Vault.LockedSnapshots, st.Vault.LockedUntil
	return r, nil
}
