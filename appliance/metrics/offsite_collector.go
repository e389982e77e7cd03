package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strongroom/strongroom/storage/offsite"
)

// OffsiteStatusFunc returns the status the offsite copier last published;
// offsite.ReadStatus of its state directory has this shape.
type OffsiteStatusFunc func() (offsite.Status, error)

// OffsiteCollector exports the offsite copy's state, read from the status
// the copier (strongroom-offsite.service, another user) publishes, on every
// scrape. The agent holds no offsite credentials; it only reads this file.
// When it cannot be read, only strongroom_offsite_up (0) is exported.
type OffsiteCollector struct {
	status OffsiteStatusFunc
}

// NewOffsiteCollector returns a collector that calls status on every scrape.
func NewOffsiteCollector(status OffsiteStatusFunc) *OffsiteCollector {
	return &OffsiteCollector{status: status}
}

var (
	descOffsiteUp      = newDesc("offsite", "up", "1 if the offsite copier's published status could be read, else 0 (it never ran, or is not running).")
	descOffsiteSuccess = newDesc("offsite", "last_success_timestamp_seconds", "Unix time at which the last successful offsite sync or verify finished; absent before the first.")
	descOffsiteFailed  = newDesc("offsite", "last_run_failed", "1 if the last offsite run failed (store unreachable or refusing, tampering found), else 0.")
	descOffsiteLag     = newDesc("offsite", "lag_seconds", "How long the oldest restore point not yet offsite has waited, on the trusted clock; 0 when every locked restore point is offsite.")
	descOffsiteSnaps   = newDesc("offsite", "snapshots", "Locked restore points by state: offsite (complete and locked in the bucket) or behind (not yet).", "state")
	descOffsiteBytes   = newDesc("offsite", "copied_bytes_total", "Bytes the offsite copier has uploaded.")
	descOffsiteObjects = newDesc("offsite", "copied_objects_total", "Objects the offsite copier has uploaded.")
	descOffsiteRuns    = newDesc("offsite", "runs_total", "Offsite sync and verify runs by result (success, failed).", "result")
)

// Describe implements prometheus.Collector.
func (c *OffsiteCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOffsiteUp, descOffsiteSuccess, descOffsiteFailed, descOffsiteLag,
		descOffsiteSnaps, descOffsiteBytes, descOffsiteObjects, descOffsiteRuns} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *OffsiteCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	st, err := c.status()
	if err != nil {
		gauge(descOffsiteUp, 0)
		return
	}
	gauge(descOffsiteUp, 1)
	if !st.LastSuccess.IsZero() {
		gauge(descOffsiteSuccess, float64(st.LastSuccess.Unix()))
	}
	failed := 0.0
	if st.LastError != "" {
		failed = 1
	}
	gauge(descOffsiteFailed, failed)
	gauge(descOffsiteLag, st.Last.LagSeconds)
	gauge(descOffsiteSnaps, float64(st.Last.SnapshotsOffsite), "offsite")
	gauge(descOffsiteSnaps, float64(st.Last.Snapshots-st.Last.SnapshotsOffsite), "behind")
	counter(descOffsiteBytes, float64(st.BytesCopied))
	counter(descOffsiteObjects, float64(st.ObjectsCopied))
	counter(descOffsiteRuns, float64(st.Runs-st.FailedRuns), "success")
	counter(descOffsiteRuns, float64(st.FailedRuns), "failed")
}
