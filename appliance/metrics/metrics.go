package metrics

import (
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strongroom/strongroom/storage/clock"
)

// Namespace is the prefix of every metric this package exports.
const Namespace = "strongroom"

// Label values. Anything else is recorded as Other.
const (
	WorkloadExchange   = "exchange"
	WorkloadOneDrive   = "onedrive"
	WorkloadSharePoint = "sharepoint"
	WorkloadTeams      = "teams"
	WorkloadGroups     = "groups"

	ResultSuccess = "success"
	ResultPartial = "partial"
	ResultFailed  = "failed"

	// Other replaces any label value outside the known set.
	Other = "other"
)

// Workloads, Results and StatusClasses are the known label values, in the
// order the dashboard shows them.
var (
	Workloads     = []string{WorkloadExchange, WorkloadOneDrive, WorkloadSharePoint, WorkloadTeams, WorkloadGroups}
	Results       = []string{ResultSuccess, ResultPartial, ResultFailed}
	StatusClasses = []string{"2xx", "3xx", "4xx", "429", "5xx"}
)

// DurationBuckets are the upper bounds, in seconds, of
// strongroom_backup_duration_seconds: an incremental run of a small tenant
// takes a minute, a first full run of a large one a day or two.
var DurationBuckets = []float64{
	30, 60, 120, 300, 600, 1200, 1800, // up to half an hour
	3600, 2 * 3600, 4 * 3600, 8 * 3600, 16 * 3600, // hours
	24 * 3600, 48 * 3600, // first full backups
}

// Metrics holds the agent's collectors. Create it with New; the zero value
// is not usable.
type Metrics struct {
	now   func() time.Time
	vault StatusFunc
	// offsite, when set, reads the offsite copier's published status.
	offsite OffsiteStatusFunc

	buildInfo *prometheus.GaugeVec
	osInfo    *prometheus.GaugeVec

	lastSuccess      *prometheus.GaugeVec
	lastRun          *prometheus.GaugeVec
	scheduleInterval prometheus.Gauge
	runs             *prometheus.CounterVec
	duration         *prometheus.HistogramVec
	items            *prometheus.CounterVec
	bytes            *prometheus.CounterVec
	failedItems      *prometheus.CounterVec
	jobsRunning      prometheus.Gauge

	graphRequests   *prometheus.CounterVec
	graphThrottled  *prometheus.CounterVec
	graphRetryAfter *prometheus.CounterVec

	units *prometheus.GaugeVec

	// The scrub and restore-test gauges have no labels; they are vectors
	// so that they stay absent until the event is known.
	scrubLast       *prometheus.GaugeVec
	scrubProblems   *prometheus.GaugeVec
	scrubUnrepaired *prometheus.GaugeVec

	retentionRefusals prometheus.Counter

	restoreTestLast    *prometheus.GaugeVec
	restoreTestSuccess *prometheus.GaugeVec
	restoreTestItems   *prometheus.CounterVec
}

// Option changes how New builds Metrics.
type Option func(*Metrics)

// WithNow sets the function that timestamps events; tests use it to pin
// time. The default is clock.Wall.
func WithNow(now func() time.Time) Option {
	return func(m *Metrics) { m.now = now }
}

// WithVaultStatus registers a VaultCollector that calls status on every
// scrape.
func WithVaultStatus(status StatusFunc) Option {
	return func(m *Metrics) { m.vault = status }
}

// WithOffsiteStatus registers an OffsiteCollector that calls status on
// every scrape (a configuration with an offsite: section).
func WithOffsiteStatus(status OffsiteStatusFunc) Option {
	return func(m *Metrics) { m.offsite = status }
}

// New creates the agent's collectors and registers them, and the vault
// collector if WithVaultStatus is given, with reg. It panics if reg already
// holds a collector of the same name, as prometheus.MustRegister does: that
// is a programming error, found by the first test that calls New.
//
// Pass a registry of your own (prometheus.NewRegistry), never
// prometheus.DefaultRegisterer, so that tests and the agent each see exactly
// the series they created.
func New(reg prometheus.Registerer, version string, opts ...Option) *Metrics {
	m := &Metrics{now: clock.Wall}
	for _, o := range opts {
		o(m)
	}
	m.create()
	m.register(reg)
	m.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
	m.zeroSeries()
	return m
}

// fqName is the exported name of metric n.
func fqName(n string) string { return prometheus.BuildFQName(Namespace, "", n) }

// newDesc describes the metric strongroom_<subsystem>_<name> a collector
// reads on scrape.
func newDesc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, subsystem, name), help, labels, nil)
}

// newGauge makes the gauge n.
func newGauge(n, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: fqName(n), Help: help})
}

// newGaugeVec makes the gauge n with labels.
func newGaugeVec(n, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fqName(n), Help: help}, labels)
}

// newCounterVec makes the counter n with labels.
func newCounterVec(n, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: fqName(n), Help: help}, labels)
}

// create makes every collector of m.
func (m *Metrics) create() {
	m.buildInfo = newGaugeVec("build_info", "Always 1; the labels say which strongroom build is running.", "version", "goversion")
	m.osInfo = newGaugeVec("os_info", "Always 1 on the appliance image; the labels say which slot booted, its image version and root hash, and whether a TPM is present.",
		"slot", "image_version", "root_hash", "tpm")

	m.lastSuccess = newGaugeVec("backup_last_success_timestamp_seconds",
		"Unix time at which the last backup run of the workload completed with result success or partial.", "workload")
	m.lastRun = newGaugeVec("backup_last_run_timestamp_seconds",
		"Unix time at which the last backup run of the workload started.", "workload")
	m.scheduleInterval = newGauge("backup_schedule_interval_seconds",
		"Configured time between scheduled backup runs.")
	m.runs = newCounterVec("backup_runs_total",
		"Backup runs that ended, by workload and result (success, partial, failed).", "workload", "result")
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    fqName("backup_duration_seconds"),
		Help:    "Wall time of backup runs that ended, whatever their result.",
		Buckets: DurationBuckets,
	}, []string{"workload"})
	m.items = newCounterVec("backup_items_total",
		"Items (messages, file versions, list items) stored by backup runs.", "workload")
	m.bytes = newCounterVec("backup_bytes_total",
		"Bytes of item content read from Microsoft 365 by backup runs, before deduplication and compression.", "workload")
	m.failedItems = newCounterVec("backup_failed_items_total",
		"Items that backup runs could not read or store.", "workload")
	m.jobsRunning = newGauge("jobs_running", "Backup, restore, scrub and restore-test jobs running now.")

	m.graphRequests = newCounterVec("graph_requests_total",
		"Microsoft Graph HTTP responses by status class (2xx, 3xx, 4xx, 429, 5xx; other for no response).", "workload", "status_class")
	m.graphThrottled = newCounterVec("graph_throttled_total",
		"Microsoft Graph responses that asked the agent to back off (429, or 503 with Retry-After).", "workload")
	m.graphRetryAfter = newCounterVec("graph_retry_after_seconds_total",
		"Sum of the Retry-After delays Microsoft Graph asked for.", "workload")

	m.units = newGaugeVec("units",
		"Protected units of the tenant (mailboxes, drives, sites) per workload by state: protected (in the last snapshot), unprotected (found in the tenant but not backed up), departed (gone from the tenant, backups retained).", "workload", "state")

	m.scrubLast = newGaugeVec("scrub_last_timestamp_seconds", "Unix time at which the last vault scrub finished.")
	m.scrubProblems = newGaugeVec("scrub_problems", "Damaged or missing shards the last scrub found.")
	m.scrubUnrepaired = newGaugeVec("scrub_unrepaired", "Problems the last scrub found and could not repair.")

	m.retentionRefusals = prometheus.NewCounter(prometheus.CounterOpts{
		Name: fqName("retention_refusals_total"),
		Help: "Requests to delete or shorten retention of locked data that the vault refused.",
	})

	m.restoreTestLast = newGaugeVec("restore_test_last_timestamp_seconds", "Unix time at which the last scheduled restore test finished.")
	m.restoreTestSuccess = newGaugeVec("restore_test_last_success", "1 if the last restore test restored and verified every sampled item, else 0.")
	m.restoreTestItems = newCounterVec("restore_test_items_total",
		"Items restored by restore tests, by result (success: matched its stored hash; failed: could not be restored or did not match).", "result")
}

// register registers m's collectors, and the vault collector if m has a
// vault status, with reg.
func (m *Metrics) register(reg prometheus.Registerer) {
	reg.MustRegister(
		m.buildInfo, m.osInfo,
		m.lastSuccess, m.lastRun, m.scheduleInterval, m.runs, m.duration,
		m.items, m.bytes, m.failedItems, m.jobsRunning,
		m.graphRequests, m.graphThrottled, m.graphRetryAfter,
		m.units,
		m.scrubLast, m.scrubProblems, m.scrubUnrepaired,
		m.retentionRefusals,
		m.restoreTestLast, m.restoreTestSuccess, m.restoreTestItems,
	)
	if m.vault != nil {
		reg.MustRegister(NewVaultCollector(m.vault))
	}
	if m.offsite != nil {
		reg.MustRegister(NewOffsiteCollector(m.offsite))
	}
}

// zeroSeries creates every series of the known label values at zero, so
// the first event is visible to rate() and increase() and sums do not jump.
func (m *Metrics) zeroSeries() {
	for _, w := range Workloads {
		for _, r := range Results {
			m.runs.WithLabelValues(w, r)
		}
		for _, c := range StatusClasses {
			m.graphRequests.WithLabelValues(w, c)
		}
		m.duration.WithLabelValues(w)
		m.items.WithLabelValues(w)
		m.bytes.WithLabelValues(w)
		m.failedItems.WithLabelValues(w)
		m.graphThrottled.WithLabelValues(w)
		m.graphRetryAfter.WithLabelValues(w)
	}
	for _, w := range Workloads {
		for _, s := range []string{"protected", "unprotected", "departed"} {
			m.units.WithLabelValues(w, s)
		}
	}
	m.restoreTestItems.WithLabelValues(ResultSuccess)
	m.restoreTestItems.WithLabelValues(ResultFailed)
}

// BackupStarted records that a backup run of workload started.
func (m *Metrics) BackupStarted(workload string) {
	m.lastRun.WithLabelValues(Workload(workload)).Set(m.unixNow())
}

// BackupFinished records a backup run of workload that ended with result
// after dur, having stored items items of bytes bytes and failed on
// failedItems items. A success or partial run also sets the workload's
// last-success time. Negative counts are treated as zero.
func (m *Metrics) BackupFinished(workload, result string, dur time.Duration, items, bytes, failedItems int) {
	w, r := Workload(workload), Result(result)
	m.runs.WithLabelValues(w, r).Inc()
	m.duration.WithLabelValues(w).Observe(nonNegative(dur.Seconds()))
	m.items.WithLabelValues(w).Add(count(items))
	m.bytes.WithLabelValues(w).Add(count(bytes))
	m.failedItems.WithLabelValues(w).Add(count(failedItems))
	if r == ResultSuccess || r == ResultPartial {
		m.lastSuccess.WithLabelValues(w).Set(m.unixNow())
	}
}

// SetLastSuccess seeds the last-success time of workload, for an agent that
// restarts and reads it back from its catalog. A zero t is ignored.
func (m *Metrics) SetLastSuccess(workload string, t time.Time) {
	if !t.IsZero() {
		m.lastSuccess.WithLabelValues(Workload(workload)).Set(unix(t))
	}
}

// SetOSInfo records which appliance image runs (strongroom update status
// tells the same on the console). Not called outside the appliance image.
func (m *Metrics) SetOSInfo(slot, imageVersion, rootHash string, tpm bool) {
	m.osInfo.Reset()
	t := "no"
	if tpm {
		t = "yes"
	}
	m.osInfo.WithLabelValues(slot, imageVersion, rootHash, t).Set(1)
}

// SetSchedule records the configured time between scheduled backup runs.
func (m *Metrics) SetSchedule(interval time.Duration) {
	m.scheduleInterval.Set(nonNegative(interval.Seconds()))
}

// JobRunning adds delta (1 when a job starts, -1 when it ends) to the number
// of running jobs.
func (m *Metrics) JobRunning(delta int) {
	m.jobsRunning.Add(float64(delta))
}

// GraphRequest records one Microsoft Graph response with HTTP status status
// for workload. Use status 0 for a request that got no response at all.
func (m *Metrics) GraphRequest(workload string, status int) {
	m.graphRequests.WithLabelValues(Workload(workload), StatusClass(status)).Inc()
}

// Throttled records that Microsoft Graph asked workload's requests to back
// off for retryAfter. Call it in addition to GraphRequest.
func (m *Metrics) Throttled(workload string, retryAfter time.Duration) {
	w := Workload(workload)
	m.graphThrottled.WithLabelValues(w).Inc()
	m.graphRetryAfter.WithLabelValues(w).Add(nonNegative(retryAfter.Seconds()))
}

// SetCoverage records how many units of workload are protected, found in
// the tenant but unprotected, and departed with their backups retained.
func (m *Metrics) SetCoverage(workload string, protected, unprotected, departed int) {
	w := Workload(workload)
	m.units.WithLabelValues(w, "protected").Set(count(protected))
	m.units.WithLabelValues(w, "unprotected").Set(count(unprotected))
	m.units.WithLabelValues(w, "departed").Set(count(departed))
}

// ScrubFinished records a scrub that just finished, found problems damaged
// or missing shards and left unrepaired of them unrepaired.
func (m *Metrics) ScrubFinished(problems, unrepaired int) {
	m.SetLastScrub(m.now(), problems, unrepaired)
}

// SetLastScrub records a scrub that finished at t, for an agent that seeds
// the result of the last scrub from its catalog after a restart.
func (m *Metrics) SetLastScrub(t time.Time, problems, unrepaired int) {
	m.scrubLast.WithLabelValues().Set(unix(t))
	m.scrubProblems.WithLabelValues().Set(count(problems))
	m.scrubUnrepaired.WithLabelValues().Set(count(unrepaired))
}

// RestoreTest records a restore test that just finished: ok reports whether
// it passed as a whole, verified items matched their stored hashes and
// failed items could not be restored or did not match. A test is not ok if
// any item failed, whatever ok says.
func (m *Metrics) RestoreTest(ok bool, verified, failed int) {
	m.restoreTestItems.WithLabelValues(ResultSuccess).Add(count(verified))
	m.restoreTestItems.WithLabelValues(ResultFailed).Add(count(failed))
	m.SetLastRestoreTest(m.now(), ok && failed <= 0)
}

// SetLastRestoreTest records the time and outcome of the last restore test
// without counting items, for an agent that seeds them after a restart.
func (m *Metrics) SetLastRestoreTest(t time.Time, ok bool) {
	m.restoreTestLast.WithLabelValues().Set(unix(t))
	if ok {
		m.restoreTestSuccess.WithLabelValues().Set(1)
	} else {
		m.restoreTestSuccess.WithLabelValues().Set(0)
	}
}

// RetentionRefused records a request to delete or shorten the retention of
// locked data that the vault refused.
func (m *Metrics) RetentionRefused() {
	m.retentionRefusals.Inc()
}

// Workload returns w if it is a known workload, else Other.
func Workload(w string) string { return known(w, Workloads) }

// Result returns r if it is a known result, else Other.
func Result(r string) string { return known(r, Results) }

// StatusClass returns the status class of an HTTP status: "429" for 429,
// "2xx" to "5xx" for the rest of 200 to 599, and Other for anything else
// (0 for no response, 1xx).
func StatusClass(status int) string {
	switch {
	case status == 429:
		return "429"
	case status >= 200 && status <= 599:
		return strconv.Itoa(status/100) + "xx"
	}
	return Other
}

func known(v string, set []string) string {
	for _, s := range set {
		if v == s {
			return v
		}
	}
	return Other
}

func (m *Metrics) unixNow() float64 { return unix(m.now()) }

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// count converts n for a counter or gauge; counters panic on negative
// additions, and a negative count is a caller bug that must not crash the
// agent.
func count(n int) float64 { return nonNegative(float64(n)) }

func nonNegative(f float64) float64 {
	if f < 0 {
		return 0
	}
	return f
}
