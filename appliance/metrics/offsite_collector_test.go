package metrics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/storage/offsite"
)

func sampleOffsiteStatus() offsite.Status {
	return offsite.Status{Bucket: "b", LastSuccess: time.Unix(1_800_000_000, 0), LastError: "store unreachable",
		Last:          offsite.Report{Snapshots: 5, SnapshotsOffsite: 3, LagSeconds: 7200},
		ObjectsCopied: 42, BytesCopied: 1 << 30, Runs: 10, FailedRuns: 2}
}

// TestOffsiteCollector: the copier's published status becomes the offsite
// series (lint-clean), and an unreadable status only says up 0, so no
// alert acts on numbers that were not read.
func TestOffsiteCollector(t *testing.T) {
	st, stErr := sampleOffsiteStatus(), error(nil)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewOffsiteCollector(func() (offsite.Status, error) { return st, stErr }))
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"strongroom_offsite_up", nil, 1},
		{"strongroom_offsite_last_success_timestamp_seconds", nil, 1_800_000_000},
		{"strongroom_offsite_last_run_failed", nil, 1},
		{"strongroom_offsite_lag_seconds", nil, 7200},
		{"strongroom_offsite_snapshots", map[string]string{"state": "offsite"}, 3},
		{"strongroom_offsite_snapshots", map[string]string{"state": "behind"}, 2},
		{"strongroom_offsite_copied_bytes_total", nil, 1 << 30},
		{"strongroom_offsite_copied_objects_total", nil, 42},
		{"strongroom_offsite_runs_total", map[string]string{"result": "success"}, 8},
		{"strongroom_offsite_runs_total", map[string]string{"result": "failed"}, 2},
	} {
		if got := sampleValue(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	stErr = errors.New("no status.json")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "strongroom_offsite_up" || mfs[0].GetMetric()[0].GetGauge().GetValue() != 0 {
		t.Fatalf("with no readable status the collector exported %v, want only strongroom_offsite_up 0", mfs)
	}
}
