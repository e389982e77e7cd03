package daemon

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/appliance/sandbox"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestRestartKeepsHistoryGauges guards issue 13 point 5: after a backup
// and a passed restore test, an agent opened again on the same vault (a
// restart) exports the restore test as passed, the last success of every
// workload and the last run's coverage from its records, never a zero
// that would fire StrongroomRestoreTestFailed.
func TestRestartKeepsHistoryGauges(t *testing.T) {
	sim := tenantsim.NewTest(t, tenantsim.Config{Users: 2, Seed: 11})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sb, err := sandbox.New(t.TempDir(), sim, 2, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rep, err := sb.Agent.Backup(ctx, agent.BackupRequest{})
	if err != nil || rep.Snapshot == "" {
		t.Fatalf("backup: %v", err)
	}
	test, err := sb.Agent.RestoreTest(ctx, 5)
	if err != nil || !test.OK {
		t.Fatalf("restore test: %v %+v", err, test)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "test")
	a, err := agent.New(agent.Options{Config: sb.Config, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	seedFromHistory(ctx, a, m)
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range s.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			got[key] = s.GetGauge().GetValue()
		}
	}
	if v, ok := got["strongroom_restore_test_last_success"]; !ok || v != 1 {
		t.Errorf("restore_test_last_success after a restart: %v (present %v), want 1", v, ok)
	}
	if v := got["strongroom_restore_test_last_timestamp_seconds"]; int64(v) != test.At.Unix() {
		t.Errorf("restore test time after a restart: %v, want %d", v, test.At.Unix())
	}
	for _, w := range a.WorkloadNames() {
		if _, ok := got["strongroom_backup_last_success_timestamp_seconds workload="+w]; !ok {
			t.Errorf("no last success for %s after a restart", w)
		}
	}
	for _, c := range rep.Coverage {
		if v := got["strongroom_units state=protected workload="+c.Workload]; int(v) != c.Protected || c.Protected == 0 {
			t.Errorf("%s protected after a restart: %v, want the last run's %d", c.Workload, v, c.Protected)
		}
	}
	// Only workloads that back up get a last success: another label would
	// go stale and alert.
	registered := map[string]bool{}
	for _, w := range a.WorkloadNames() {
		registered[w] = true
	}
	for key := range got {
		if w, ok := strings.CutPrefix(key, "strongroom_backup_last_success_timestamp_seconds workload="); ok && !registered[w] {
			t.Errorf("last success seeded for %s, which no workload backs up", w)
		}
	}
}
