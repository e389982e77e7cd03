package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/sealed"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// Observer receives what the agent does, for metrics. All methods must be
// safe for concurrent use; a nil Observer in Options means none.
type Observer interface {
	graph.Observer
	BackupStarted(workload string)
	BackupFinished(workload, result string, dur time.Duration, items, bytes, failedItems int)
	SetCoverage(workload string, protected, unprotected, departed int)
	ScrubFinished(problems, unrepaired int)
	RestoreTest(ok bool, verified, failed int)
	JobRunning(delta int)
	RetentionRefused()
}

// Options configure an Agent.
type Options struct {
	Config   *config.Config
	Observer Observer
	Log      *slog.Logger
	// WaitForVault is how long New waits while another process (the
	// warden expiring old restore points) holds the vault; the daemon
	// waits, commands fail at once.
	WaitForVault time.Duration
	// Now is the time used in reports, names and timings (default: the
	// vault's trusted clock).
	Now func() time.Time
	// Ticks is the clock the schedule and waits run on (default: the
	// system's, read for its monotonic part).
	Ticks func() time.Time
}

// Agent is an open agent: the vault and catalog are open and locked by
// this process. Its methods are safe for concurrent use; jobs that write
// (backup, scrub) run one at a time.
type Agent struct {
	cfg *config.Config
	obs Observer
	log *slog.Logger
	v   *vault.Vault
	// vmu guards v: every method that uses the vault holds it for
	// reading; handing the vault over to the warden takes it for writing,
	// and only with TryLock between jobs, so nothing ever waits behind it.
	vmu     sync.RWMutex
	keyFile string
	cat     *catalog.Catalog

	graphOnce   sync.Mutex
	backupG     *graph.Client
	restoreG    *graph.Client
	jobMu       sync.Mutex // held for the whole of a writing job
	stateMu     sync.Mutex
	jobs        []*JobStatus // running, oldest first; under stateMu
	lastBackup  *BackupReport
	lastScrub   *vault.ScrubReport
	lastScrubAt time.Time
	lastTest    *RestoreTestReport
	coverage    []Coverage
	windows     RetentionWindows // the retention in force; under stateMu
	now         func() time.Time // Options.Now
	ticks       func() time.Time // Options.Ticks
	// workloads are the kinds of data a run backs up (registered in
	// workloads.go).
	workloads []workloads.Workload
	// wrapSink, set by tests, wraps the vault writer workloads write to.
	wrapSink func(workloads.Sink) workloads.Sink
}

// New opens the vault and catalog named by the configuration.
func New(o Options) (*Agent, error) {
	cfg := o.Config
	if cfg == nil {
		return nil, errors.New("agent: no configuration")
	}
	if len(cfg.Vault.Disks) == 0 {
		return nil, fmt.Errorf("configuration %s has no vault.disks: initialise a vault with 'strongroom vault init' and list its disks there", cfg.Path())
	}
	keyFile := cfg.Vault.KeyFile
	if keyFile == "" {
		keyFile = os.Getenv("STRONGROOM_KEY_FILE")
	}
	if keyFile == "" {
		return nil, fmt.Errorf("configuration %s has no vault.key_file (nor is STRONGROOM_KEY_FILE set): name the file holding the recovery key", cfg.Path())
	}
	rk, err := sealed.ReadRecoveryKey(keyFile)
	if err != nil {
		return nil, err
	}
	v, err := vault.OpenWhenFree(vault.Options{Disks: cfg.Vault.Disks, Key: rk, StateDir: cfg.Vault.StateDir, WardenDir: cfg.Vault.WardenDir}, o.WaitForVault)
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Open(filepath.Join(v.StateDir(), "catalog"))
	if err != nil {
		v.Close()
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	obs := o.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	a := &Agent{cfg: cfg, obs: obs, log: log, v: v, cat: cat, keyFile: keyFile, workloads: registered(cfg),
		windows: RetentionWindows{Rollback: cfg.Retention.Rollback.D(), Audit: cfg.Retention.Audit.D()}, now: o.Now}
	if a.now == nil {
		a.now = v.Clock().Now
	}
	if a.ticks = o.Ticks; a.ticks == nil {
		a.ticks = time.Now
	}
	if err := a.syncCatalog(); err != nil {
		a.Close()
		return nil, err
	}
	// What the last restore test found is history, not this process's:
	// a restarted agent reports it as it was recorded.
	if tests := a.restoreTests(time.Time{}); len(tests) > 0 {
		a.lastTest = &tests[len(tests)-1]
	}
	return a, nil
}

// WorkloadNames names the registered workloads ("exchange", ...).
func (a *Agent) WorkloadNames() []string {
	out := make([]string, 0, len(a.workloads))
	for _, w := range a.workloads {
		out = append(out, w.Name())
	}
	return out
}

// Close releases the vault and catalog.
func (a *Agent) Close() error {
	a.jobMu.Lock()
	defer a.jobMu.Unlock()
	var errs []error
	if a.cat != nil {
		errs = append(errs, a.cat.Close())
	}
	if a.v != nil {
		errs = append(errs, a.v.Close())
	}
	return errors.Join(errs...)
}

// Vault gives direct access to the open vault, for tools and tests that
// own the agent; it bypasses the hand-over to the warden, so the daemon's
// own code uses the methods instead.
func (a *Agent) Vault() *vault.Vault { return a.v }

// VaultStatus is the vault's status, for metrics.
func (a *Agent) VaultStatus() (vault.Status, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	return a.v.Status()
}

// Config is the agent's configuration.
func (a *Agent) Config() *config.Config { return a.cfg }

// syncCatalog adds snapshots the catalog lacks (a rebuilt or lost
// catalog comes back from the vault this way) and drops expired ones.
func (a *Agent) syncCatalog() error {
	snaps, err := a.v.Snapshots()
	if err != nil {
		return err
	}
	for _, s := range snaps {
		if a.cat.Indexed(s.ID) {
			continue
		}
		s := s
		a.log.Info("cataloguing snapshot", "snapshot", s.ID, "items", s.Items)
		if err := a.cat.Add(s.ID, func(fn func(vault.Item) error) error { return a.v.EachItem(s, fn) }); err != nil {
			return err
		}
	}
	return nil
}

// graphClient returns the backup app's client, or the restore app's.
func (a *Agent) graphClient(restore bool) (*graph.Client, error) {
	a.graphOnce.Lock()
	defer a.graphOnce.Unlock()
	target := &a.backupG
	if restore && a.cfg.RestoreApp != nil {
		target = &a.restoreG
	}
	if *target != nil {
		return *target, nil
	}
	c, err := graph.New(a.cfg.GraphConfig(restore), graph.GovernorOptions{Observer: a.obs, ResourceUnitsPerMinute: max(a.cfg.ResourceUnits, 0), TeamsPerSecond: teamsPace(a.cfg)})
	if err != nil {
		return nil, err
	}
	*target = c
	return c, nil
}

type nopObserver struct{}

func (nopObserver) Request(string, int)                                         {}
func (nopObserver) Throttled(string, time.Duration)                             {}
func (nopObserver) BackupStarted(string)                                        {}
func (nopObserver) BackupFinished(string, string, time.Duration, int, int, int) {}
func (nopObserver) SetCoverage(string, int, int, int)                           {}
func (nopObserver) ScrubFinished(int, int)                                      {}
func (nopObserver) RestoreTest(bool, int, int)                                  {}
func (nopObserver) JobRunning(int)                                              {}
func (nopObserver) RetentionRefused()                                           {}

// JobStatus is the progress of a running job. The command line polls it
// to show the progress of the job it started; the console shows it.
type JobStatus struct {
	Kind    string    `json:"kind"` // backup, restore, export, rollback, scrub, replace-disk, restore-test
	Started time.Time `json:"started"`
	// Phase is the step the job is at ("listing", "backing up",
	// "committing"); Message says it for a person.
	Phase string `json:"phase,omitempty"`
	// UnitsDone of UnitsAll units of work, named by Noun: units
	// (mailboxes, drives, sites) of a backup, items of a restore, export
	// or restore test, files of a rollback, segments of a scrub or a disk
	// replacement; UnitsAll is 0 until known. A restore counts an item
	// when it has read it from the vault.
	UnitsDone int    `json:"units_done"`
	UnitsAll  int    `json:"units_all"`
	Noun      string `json:"noun,omitempty"`
	// Items and Bytes handled so far; BytesAll is the total when known.
	Items    int    `json:"items"`
	Bytes    int64  `json:"bytes"`
	BytesAll int64  `json:"bytes_all,omitempty"`
	Message  string `json:"message,omitempty"`
	// Throttled counts Graph answers that asked the job to back off, and
	// ThrottlePaused is how long throttling paused the whole tenant
	// during the job.
	Throttled      int64         `json:"throttled,omitempty"`
	ThrottlePaused time.Duration `json:"throttle_paused_ns,omitempty"`
	// throttle, when set, fills the throttling fields when the status is
	// read (under stateMu).
	throttle func(j *JobStatus)
}

// startJob records j as running until the returned function is called.
// Jobs are a set: a restore running beside a backup neither hides nor
// ends the backup's status, and JobRunning counts each once.
func (a *Agent) startJob(j *JobStatus) (end func()) {
	a.stateMu.Lock()
	a.jobs = append(a.jobs, j)
	a.stateMu.Unlock()
	a.obs.JobRunning(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			a.stateMu.Lock()
			a.jobs = slices.DeleteFunc(a.jobs, func(x *JobStatus) bool { return x == j })
			a.stateMu.Unlock()
			a.obs.JobRunning(-1)
		})
	}
}

// updateJob changes the progress of a running job.
func (a *Agent) updateJob(j *JobStatus, f func(j *JobStatus)) {
	a.stateMu.Lock()
	f(j)
	a.stateMu.Unlock()
}
