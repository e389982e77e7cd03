package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/vault"
)

// testNow is the fixed time every test Metrics sees: 2024-03-01T12:00:00Z.
var testNow = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

const testNowSeconds = "1.7092944e+09"

// healthyStatus is a three-disk vault with nothing wrong.
func healthyStatus() vault.Status {
	return vault.Status{
		K: 2, M: 1,
		Disks: []vault.DiskStatus{
			{Index: 0, Present: true}, {Index: 1, Present: true}, {Index: 2, Present: true},
		},
		CapacityBytes: 4000, UsedBytes: 1500, StoredBytes: 1000, UniqueBytes: 2000, LogicalBytes: 6000,
		DedupRatio: 3, Segments: 10, Snapshots: 5, LockedSnapshots: 4,
	}
}

// newTestMetrics returns Metrics on a fresh registry with the clock pinned
// at testNow and the vault reporting status.
func newTestMetrics(t *testing.T, status metrics.StatusFunc) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "1.2.3", metrics.WithNow(func() time.Time { return testNow }), metrics.WithVaultStatus(status))
	return m, reg
}

// exercise calls every method of m once, so that every series (including
// timestamp gauges that only appear after an event) exists.
func exercise(m *metrics.Metrics) {
	m.SetSchedule(4 * time.Hour)
	m.JobRunning(1)
	m.BackupStarted(metrics.WorkloadExchange)
	m.GraphRequest(metrics.WorkloadExchange, 200)
	m.GraphRequest(metrics.WorkloadExchange, 429)
	m.Throttled(metrics.WorkloadExchange, 30*time.Second)
	m.BackupFinished(metrics.WorkloadExchange, metrics.ResultSuccess, 90*time.Minute, 1200, 3<<20, 2)
	m.JobRunning(-1)
	m.SetLastSuccess(metrics.WorkloadOneDrive, testNow.Add(-time.Hour))
	m.SetCoverage(metrics.WorkloadExchange, 120, 3, 7)
	m.ScrubFinished(2, 0)
	m.SetLastScrub(testNow, 2, 0)
	m.RestoreTest(true, 50, 0)
	m.SetLastRestoreTest(testNow, true)
	m.RetentionRefused()
	m.SetOSInfo("b", "2026.11.26.043000", "0123abcd", true)
}

// TestMetricsLint guards the naming conventions: every series the agent can
// export passes client_golang's linter (units, _total, help text).
func TestMetricsLint(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	exercise(m)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestMetricsPedanticRegistry guards that every collector describes what
// it collects, so a registry that checks this accepts them.
func TestMetricsPedanticRegistry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status metrics.StatusFunc
	}{
		{"vault healthy", func() (vault.Status, error) { return healthyStatus(), nil }},
		{"vault unreadable", func() (vault.Status, error) { return vault.Status{}, errors.New("disk gone") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			m := metrics.New(reg, "1.2.3", metrics.WithNow(func() time.Time { return testNow }), metrics.WithVaultStatus(tc.status))
			exercise(m)
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatalf("pedantic gather: %v", err)
			}
			if len(mfs) == 0 {
				t.Fatal("pedantic gather returned no metric families")
			}
		})
	}
}

// wantNames is every metric family name the agent exports once every
// method has been called and the vault read: renaming one breaks alerts and
// dashboards, so it must be a deliberate change here too.
var wantNames = []string{
	"strongroom_backup_bytes_total",
	"strongroom_backup_duration_seconds",
	"strongroom_backup_failed_items_total",
	"strongroom_backup_items_total",
	"strongroom_backup_last_run_timestamp_seconds",
	"strongroom_backup_last_success_timestamp_seconds",
	"strongroom_backup_runs_total",
	"strongroom_backup_schedule_interval_seconds",
	"strongroom_build_info",
	"strongroom_clock_jump_pending",
	"strongroom_graph_requests_total",
	"strongroom_graph_retry_after_seconds_total",
	"strongroom_graph_throttled_total",
	"strongroom_jobs_running",
	"strongroom_os_info",
	"strongroom_restore_test_items_total",
	"strongroom_restore_test_last_success",
	"strongroom_restore_test_last_timestamp_seconds",
	"strongroom_retention_refusals_total",
	"strongroom_scrub_last_timestamp_seconds",
	"strongroom_scrub_problems",
	"strongroom_scrub_unrepaired",
	"strongroom_units",
	"strongroom_vault_capacity_bytes",
	"strongroom_vault_dedup_ratio",
	"strongroom_vault_degraded_segments",
	"strongroom_vault_disk_up",
	"strongroom_vault_disks",
	"strongroom_vault_locked_snapshots",
	"strongroom_vault_logical_bytes",
	"strongroom_vault_scrape_error",
	"strongroom_vault_snapshots",
	"strongroom_vault_stored_bytes",
	"strongroom_vault_unique_bytes",
	"strongroom_vault_used_bytes",
	"strongroom_warden_alerts",
}

// gatheredNames returns the sorted metric family names reg exports.
func gatheredNames(t *testing.T, reg prometheus.Gatherer) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}

// TestMetricsExportedNames pins the exact set of exported names.
func TestMetricsExportedNames(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	exercise(m)
	got := gatheredNames(t, reg)
	if !slices.Equal(got, wantNames) {
		t.Errorf("exported names differ\n got: %q\nwant: %q", got, wantNames)
	}
}

// TestNewLeavesDefaultRegistryAlone guards that New only registers with the
// registerer it is given.
func TestNewLeavesDefaultRegistryAlone(t *testing.T) {
	m, _ := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	exercise(m)
	for _, name := range gatheredNames(t, prometheus.DefaultGatherer) {
		if strings.HasPrefix(name, metrics.Namespace+"_") {
			t.Errorf("default registry holds %s", name)
		}
	}
}

// TestNewTwiceOnOneRegistryPanics guards that a second set of collectors
// cannot silently shadow the first.
func TestNewTwiceOnOneRegistryPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg, "1")
	defer func() {
		if recover() == nil {
			t.Error("second New on the same registry did not panic")
		}
	}()
	metrics.New(reg, "1")
}

// TestMetricsFreshRegistry guards which series exist before anything has
// happened: counters at zero for every known label value, so rate() sees
// the first event, and no timestamp gauges, so no freshness alert fires on
// a box that has not run yet.
func TestMetricsFreshRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg, "1.2.3")

	if got, want := testutil.CollectAndCount(reg, "strongroom_backup_runs_total"), len(metrics.Workloads)*len(metrics.Results); got != want {
		t.Errorf("strongroom_backup_runs_total has %d series, want %d", got, want)
	}
	if got, want := testutil.CollectAndCount(reg, "strongroom_graph_requests_total"), len(metrics.Workloads)*len(metrics.StatusClasses); got != want {
		t.Errorf("strongroom_graph_requests_total has %d series, want %d", got, want)
	}
	for _, name := range []string{
		"strongroom_backup_last_success_timestamp_seconds",
		"strongroom_backup_last_run_timestamp_seconds",
	} {
		if n := testutil.CollectAndCount(reg, name); n != 0 {
			t.Errorf("%s has %d series before any backup, want none", name, n)
		}
	}
	want := `
# HELP strongroom_build_info Always 1; the labels say which strongroom build is running.
# TYPE strongroom_build_info gauge
strongroom_build_info{goversion="` + runtime.Version() + `",version="1.2.3"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "strongroom_build_info"); err != nil {
		t.Error(err)
	}
}

// TestMetricsBackupFinished guards what one backup run records, for each
// result.
func TestMetricsBackupFinished(t *testing.T) {
	for _, tc := range []struct {
		name        string
		result      string
		wantResult  string
		wantSuccess bool
	}{
		{"success sets freshness", metrics.ResultSuccess, "success", true},
		{"partial sets freshness", metrics.ResultPartial, "partial", true},
		{"failed leaves freshness alone", metrics.ResultFailed, "failed", false},
		{"unknown result counted as other", "aborted", metrics.Other, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
			m.BackupStarted(metrics.WorkloadSharePoint)
			m.BackupFinished(metrics.WorkloadSharePoint, tc.result, 3*time.Hour, 10, 2048, 1)

			if got := sampleValue(t, reg, "strongroom_backup_runs_total", map[string]string{"workload": "sharepoint", "result": tc.wantResult}); got != 1 {
				t.Errorf("runs{result=%q} = %v, want 1", tc.wantResult, got)
			}
			want := `
# HELP strongroom_backup_items_total Items (messages, file versions, list items) stored by backup runs.
# TYPE strongroom_backup_items_total counter
strongroom_backup_items_total{workload="exchange"} 0
strongroom_backup_items_total{workload="groups"} 0
strongroom_backup_items_total{workload="onedrive"} 0
strongroom_backup_items_total{workload="sharepoint"} 10
strongroom_backup_items_total{workload="teams"} 0
# HELP strongroom_backup_bytes_total Bytes of item content read from Microsoft 365 by backup runs, before deduplication and compression.
# TYPE strongroom_backup_bytes_total counter
strongroom_backup_bytes_total{workload="exchange"} 0
strongroom_backup_bytes_total{workload="groups"} 0
strongroom_backup_bytes_total{workload="onedrive"} 0
strongroom_backup_bytes_total{workload="sharepoint"} 2048
strongroom_backup_bytes_total{workload="teams"} 0
# HELP strongroom_backup_failed_items_total Items that backup runs could not read or store.
# TYPE strongroom_backup_failed_items_total counter
strongroom_backup_failed_items_total{workload="exchange"} 0
strongroom_backup_failed_items_total{workload="groups"} 0
strongroom_backup_failed_items_total{workload="onedrive"} 0
strongroom_backup_failed_items_total{workload="sharepoint"} 1
strongroom_backup_failed_items_total{workload="teams"} 0
# HELP strongroom_backup_last_run_timestamp_seconds Unix time at which the last backup run of the workload started.
# TYPE strongroom_backup_last_run_timestamp_seconds gauge
strongroom_backup_last_run_timestamp_seconds{workload="sharepoint"} ` + testNowSeconds + `
`
			if tc.wantSuccess {
				want += `# HELP strongroom_backup_last_success_timestamp_seconds Unix time at which the last backup run of the workload completed with result success or partial.
# TYPE strongroom_backup_last_success_timestamp_seconds gauge
strongroom_backup_last_success_timestamp_seconds{workload="sharepoint"} ` + testNowSeconds + `
`
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
				"strongroom_backup_items_total", "strongroom_backup_bytes_total", "strongroom_backup_failed_items_total",
				"strongroom_backup_last_run_timestamp_seconds", "strongroom_backup_last_success_timestamp_seconds"); err != nil {
				t.Error(err)
			}
			// 3h falls in the 4h bucket and not the 2h one.
			h := histogramBuckets(t, reg, "strongroom_backup_duration_seconds", "sharepoint")
			if h[2*3600] != 0 || h[4*3600] != 1 {
				t.Errorf("duration buckets le=7200: %d, le=14400: %d; want 0 and 1", h[2*3600], h[4*3600])
			}
		})
	}
}

// TestMetricsUnknownLabelValuesBecomeOther guards label cardinality: no
// caller-supplied string becomes a new label value.
func TestMetricsUnknownLabelValuesBecomeOther(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	for _, w := range []string{"Exchange", "alice@contoso.com", "", "planner"} {
		m.BackupStarted(w)
		m.BackupFinished(w, "weird", time.Minute, 1, 1, 0)
		m.GraphRequest(w, 200)
		m.Throttled(w, time.Second)
	}
	m.GraphRequest(metrics.WorkloadTeams, 0)
	m.GraphRequest(metrics.WorkloadTeams, 102)
	m.GraphRequest(metrics.WorkloadTeams, 999)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{
		"workload":     append(slices.Clone(metrics.Workloads), metrics.Other),
		"result":       append(slices.Clone(metrics.Results), metrics.Other),
		"status_class": append(slices.Clone(metrics.StatusClasses), metrics.Other),
		"state":        {"protected", "unprotected", "departed", "present", "missing"},
		"slot":         {"0", "1", "2"},
		"version":      {"1.2.3"},
		"goversion":    {runtime.Version()},
		"le":           nil, // histogram buckets
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				vals, ok := allowed[lp.GetName()]
				if !ok {
					t.Errorf("%s has unexpected label %s", mf.GetName(), lp.GetName())
					continue
				}
				if vals != nil && !slices.Contains(vals, lp.GetValue()) {
					t.Errorf("%s{%s=%q}: value outside the fixed set", mf.GetName(), lp.GetName(), lp.GetValue())
				}
			}
		}
	}
	if got := sampleValue(t, reg, "strongroom_backup_runs_total", map[string]string{"workload": "other", "result": "other"}); got != 4 {
		t.Errorf("runs{workload=other,result=other} = %v, want 4", got)
	}
	if got := sampleValue(t, reg, "strongroom_graph_requests_total", map[string]string{"workload": "teams", "status_class": "other"}); got != 3 {
		t.Errorf("graph_requests{teams,other} = %v, want 3", got)
	}
}

// TestStatusClass guards the HTTP status to label mapping.
func TestStatusClass(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   string
	}{
		{"ok", 200, "2xx"},
		{"no content", 204, "2xx"},
		{"redirect", 302, "3xx"},
		{"not found", 404, "4xx"},
		{"throttled", 429, "429"},
		{"unavailable", 503, "5xx"},
		{"gateway timeout", 504, "5xx"},
		{"no response", 0, "other"},
		{"informational", 100, "other"},
		{"out of range", 600, "other"},
		{"negative", -1, "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := metrics.StatusClass(tc.status); got != tc.want {
				t.Errorf("StatusClass(%d) = %q, want %q", tc.status, got, tc.want)
			}
		})
	}
}

// TestMetricsNegativeCountsDoNotPanic guards the agent against a caller
// bug: counters panic on negative additions, Metrics must not.
func TestMetricsNegativeCountsDoNotPanic(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	m.BackupFinished(metrics.WorkloadTeams, metrics.ResultSuccess, -time.Second, -1, -2, -3)
	m.Throttled(metrics.WorkloadTeams, -time.Second)
	m.RestoreTest(true, -1, -1)
	m.SetCoverage(metrics.WorkloadTeams, -1, -1, -1)
	for _, name := range []string{"strongroom_backup_items_total", "strongroom_backup_bytes_total", "strongroom_backup_failed_items_total", "strongroom_graph_retry_after_seconds_total"} {
		if got := sampleValue(t, reg, name, map[string]string{"workload": "teams"}); got != 0 {
			t.Errorf("%s{teams} = %v after negative input, want 0", name, got)
		}
	}
}

// TestMetricsGraphAndThrottling guards the Graph counters.
func TestMetricsGraphAndThrottling(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	m.GraphRequest(metrics.WorkloadOneDrive, 200)
	m.GraphRequest(metrics.WorkloadOneDrive, 429)
	m.Throttled(metrics.WorkloadOneDrive, 30*time.Second)
	m.GraphRequest(metrics.WorkloadOneDrive, 503)
	m.Throttled(metrics.WorkloadOneDrive, 1500*time.Millisecond)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"strongroom_graph_requests_total", map[string]string{"workload": "onedrive", "status_class": "2xx"}, 1},
		{"strongroom_graph_requests_total", map[string]string{"workload": "onedrive", "status_class": "429"}, 1},
		{"strongroom_graph_requests_total", map[string]string{"workload": "onedrive", "status_class": "5xx"}, 1},
		{"strongroom_graph_requests_total", map[string]string{"workload": "onedrive", "status_class": "4xx"}, 0},
		{"strongroom_graph_throttled_total", map[string]string{"workload": "onedrive"}, 2},
		{"strongroom_graph_retry_after_seconds_total", map[string]string{"workload": "onedrive"}, 31.5},
	} {
		if got := sampleValue(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

// TestMetricsGauges guards the gauges set by users, schedule, jobs, scrub,
// restore tests and retention.
func TestMetricsGauges(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	m.SetSchedule(6 * time.Hour)
	m.JobRunning(1)
	m.JobRunning(1)
	m.JobRunning(-1)
	m.SetCoverage(metrics.WorkloadExchange, 100, 4, 2)
	m.SetCoverage(metrics.WorkloadOneDrive, 90, 0, 1)
	m.ScrubFinished(5, 1)
	m.RestoreTest(true, 20, 0)
	m.RestoreTest(true, 18, 2) // an item failed: not ok, whatever the caller said
	m.RetentionRefused()
	m.RetentionRefused()

	want := `
# HELP strongroom_backup_schedule_interval_seconds Configured time between scheduled backup runs.
# TYPE strongroom_backup_schedule_interval_seconds gauge
strongroom_backup_schedule_interval_seconds 21600
# HELP strongroom_jobs_running Backup, restore, scrub and restore-test jobs running now.
# TYPE strongroom_jobs_running gauge
strongroom_jobs_running 1
# HELP strongroom_units Protected units of the tenant (mailboxes, drives, sites) per workload by state: protected (in the last snapshot), unprotected (found in the tenant but not backed up), departed (gone from the tenant, backups retained).
# TYPE strongroom_units gauge
strongroom_units{state="departed",workload="exchange"} 2
strongroom_units{state="protected",workload="exchange"} 100
strongroom_units{state="unprotected",workload="exchange"} 4
strongroom_units{state="departed",workload="groups"} 0
strongroom_units{state="protected",workload="groups"} 0
strongroom_units{state="unprotected",workload="groups"} 0
strongroom_units{state="departed",workload="onedrive"} 1
strongroom_units{state="protected",workload="onedrive"} 90
strongroom_units{state="unprotected",workload="onedrive"} 0
strongroom_units{state="departed",workload="sharepoint"} 0
strongroom_units{state="protected",workload="sharepoint"} 0
strongroom_units{state="unprotected",workload="sharepoint"} 0
strongroom_units{state="departed",workload="teams"} 0
strongroom_units{state="protected",workload="teams"} 0
strongroom_units{state="unprotected",workload="teams"} 0
# HELP strongroom_scrub_last_timestamp_seconds Unix time at which the last vault scrub finished.
# TYPE strongroom_scrub_last_timestamp_seconds gauge
strongroom_scrub_last_timestamp_seconds ` + testNowSeconds + `
# HELP strongroom_scrub_problems Damaged or missing shards the last scrub found.
# TYPE strongroom_scrub_problems gauge
strongroom_scrub_problems 5
# HELP strongroom_scrub_unrepaired Problems the last scrub found and could not repair.
# TYPE strongroom_scrub_unrepaired gauge
strongroom_scrub_unrepaired 1
# HELP strongroom_restore_test_last_success 1 if the last restore test restored and verified every sampled item, else 0.
# TYPE strongroom_restore_test_last_success gauge
strongroom_restore_test_last_success 0
# HELP strongroom_restore_test_last_timestamp_seconds Unix time at which the last scheduled restore test finished.
# TYPE strongroom_restore_test_last_timestamp_seconds gauge
strongroom_restore_test_last_timestamp_seconds ` + testNowSeconds + `
# HELP strongroom_restore_test_items_total Items restored by restore tests, by result (success: matched its stored hash; failed: could not be restored or did not match).
# TYPE strongroom_restore_test_items_total counter
strongroom_restore_test_items_total{result="failed"} 2
strongroom_restore_test_items_total{result="success"} 38
# HELP strongroom_retention_refusals_total Requests to delete or shorten retention of locked data that the vault refused.
# TYPE strongroom_retention_refusals_total counter
strongroom_retention_refusals_total 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"strongroom_backup_schedule_interval_seconds", "strongroom_jobs_running", "strongroom_units",
		"strongroom_scrub_last_timestamp_seconds", "strongroom_scrub_problems", "strongroom_scrub_unrepaired",
		"strongroom_restore_test_last_success", "strongroom_restore_test_last_timestamp_seconds",
		"strongroom_restore_test_items_total", "strongroom_retention_refusals_total"); err != nil {
		t.Error(err)
	}
}

// TestMetricsSeedAfterRestart guards the seeding methods an agent uses to
// restore timestamps from its catalog, and that a zero time seeds nothing.
func TestMetricsSeedAfterRestart(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	m.SetLastSuccess(metrics.WorkloadExchange, time.Unix(1700000000, 0))
	m.SetLastSuccess(metrics.WorkloadTeams, time.Time{})
	want := `
# HELP strongroom_backup_last_success_timestamp_seconds Unix time at which the last backup run of the workload completed with result success or partial.
# TYPE strongroom_backup_last_success_timestamp_seconds gauge
strongroom_backup_last_success_timestamp_seconds{workload="exchange"} 1.7e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "strongroom_backup_last_success_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// TestMetricsDefaultClockIsWall guards that without WithNow the timestamps
// come from clock.Wall, the one sanctioned reader of the wall clock.
func TestMetricsDefaultClockIsWall(t *testing.T) {
	saved := clock.Wall
	t.Cleanup(func() { clock.Wall = saved })
	clock.Wall = func() time.Time { return time.Unix(1234567890, 0) }

	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "1")
	m.ScrubFinished(0, 0)
	want := `
# HELP strongroom_scrub_last_timestamp_seconds Unix time at which the last vault scrub finished.
# TYPE strongroom_scrub_last_timestamp_seconds gauge
strongroom_scrub_last_timestamp_seconds 1.23456789e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "strongroom_scrub_last_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// TestHandler guards the HTTP endpoint: it serves the registry's metrics,
// and a failing vault read still yields a 200 with the error gauge set.
func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status metrics.StatusFunc
		want   []string
	}{
		{"vault readable", func() (vault.Status, error) { return healthyStatus(), nil },
			[]string{`strongroom_build_info{goversion="` + runtime.Version() + `",version="1.2.3"} 1`, "strongroom_vault_scrape_error 0", "strongroom_vault_capacity_bytes 4000"}},
		{"vault unreadable", func() (vault.Status, error) { return vault.Status{}, errors.New("index closed") },
			[]string{"strongroom_vault_scrape_error 1", "strongroom_backup_runs_total{result=\"failed\",workload=\"teams\"} 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, reg := newTestMetrics(t, tc.status)
			srv := httptest.NewServer(metrics.Handler(reg))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, body:\n%s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain exposition format", ct)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w+"\n") {
					t.Errorf("response lacks line %q", w)
				}
			}
		})
	}
}

// TestMetricsConcurrentUse guards the concurrency promise in doc.go; run
// with -race to make it bite.
func TestMetricsConcurrentUse(t *testing.T) {
	m, reg := newTestMetrics(t, func() (vault.Status, error) { return healthyStatus(), nil })
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				exercise(m)
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if got := sampleValue(t, reg, "strongroom_retention_refusals_total", nil); got != 200 {
		t.Errorf("retention refusals = %v after 200 concurrent calls, want 200", got)
	}
}
