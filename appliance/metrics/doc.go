// Package metrics is the agent's Prometheus surface: the collectors the
// agent updates as it works, a collector that reads the vault on every
// scrape, the HTTP handler that serves them, and the alert rules and
// Grafana dashboard that are built on them (embedded, see Rules and
// Dashboard).
//
// Words used here:
//
//   - Workload: one Microsoft 365 service the agent backs up. The label
//     value is one of exchange, onedrive, sharepoint, teams or groups.
//   - Result: how a backup run ended. success means every item was stored;
//     partial means the run completed but some items could not be read or
//     stored (they are counted in strongroom_backup_failed_items_total);
//     failed means the run stopped without a usable snapshot.
//   - Status class: the class of a Microsoft Graph HTTP status: 2xx, 3xx,
//     4xx, 5xx, and 429 on its own because throttling is what operators
//     watch for.
//   - Freshness: the age of the last backup run that completed (success or
//     partial) for a workload, computed by Prometheus as time() minus
//     strongroom_backup_last_success_timestamp_seconds.
//
// # Label values
//
// Every label has a small, fixed set of values so that a sum over any label
// still means something and the number of series stays bounded. A value
// outside the set (a workload the agent does not know yet, a typo, a status
// code such as 0 for a connection that never got an answer) is recorded
// under the value "other" rather than rejected: the count is kept, so
// totals stay right, and an "other" series on the dashboard shows that the
// agent and this package disagree. Nothing is ever labelled with a user,
// item, path or tenant-chosen name.
//
// # Series that exist from the start
//
// New creates every counter series for the known workloads, results and
// status classes at zero, so that rate and increase see the first event.
// Gauges that summarise history (last success, last run, the last scrub's
// time and findings, the last restore test's time and result) only appear
// once the event has happened, or once the agent has seeded them from its
// records after a restart (SetLastSuccess, SetLastScrub,
// SetLastRestoreTest): a zero timestamp would read as "stale since 1970",
// and a zero restore-test result as a failed test, paging someone on a
// freshly installed or restarted box.
//
// # Time
//
// Timestamps are seconds since the Unix epoch from the wall clock
// (clock.Wall unless WithNow says otherwise), because Prometheus compares
// them with its own wall clock. They are not retention decisions, so the
// trusted compliance clock is not needed here.
//
// # Concurrency
//
// All methods of Metrics are safe for concurrent use. The vault status
// function is called once per scrape, possibly from several scrapes at the
// same time.
package metrics
