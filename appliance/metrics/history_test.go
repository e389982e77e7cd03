package metrics_test

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strongroom/strongroom/appliance/metrics"
)

// TestHistoryGaugesAbsentUntilKnown guards issue 13 point 5: a freshly
// started agent exports no restore-test, scrub or last-success gauge
// until it knows one (from an event or from its records), so a restart
// never reads as a failed restore test or a scrub that found nothing;
// seeded, they say what the records say.
func TestHistoryGaugesAbsentUntilKnown(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "1.2.3")
	history := []string{
		"strongroom_restore_test_last_success", "strongroom_restore_test_last_timestamp_seconds",
		"strongroom_scrub_last_timestamp_seconds", "strongroom_scrub_problems", "strongroom_scrub_unrepaired",
		"strongroom_backup_last_success_timestamp_seconds",
	}
	for _, n := range gatheredNames(t, reg) {
		if slices.Contains(history, n) {
			t.Errorf("%s is exported before anything is known of it", n)
		}
	}
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	m.SetLastRestoreTest(at, true)
	m.SetLastSuccess(metrics.WorkloadExchange, at)
	if v := sampleValue(t, reg, "strongroom_restore_test_last_success", nil); v != 1 {
		t.Errorf("seeded with a passed test: last_success %v, want 1", v)
	}
	if v := sampleValue(t, reg, "strongroom_restore_test_last_timestamp_seconds", nil); v != float64(at.Unix()) {
		t.Errorf("seeded restore test time %v, want %d", v, at.Unix())
	}
	if v := sampleValue(t, reg, "strongroom_backup_last_success_timestamp_seconds", map[string]string{"workload": "exchange"}); v != float64(at.Unix()) {
		t.Errorf("seeded last success %v, want %d", v, at.Unix())
	}
	for _, n := range gatheredNames(t, reg) {
		if n == "strongroom_scrub_problems" {
			t.Errorf("scrub gauges appeared without a scrub")
		}
	}
}
