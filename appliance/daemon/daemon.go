// Package daemon runs the agent as the appliance's service: the schedule,
// the Prometheus endpoint on metrics_listen and the API on api_socket that
// the CLI and the console use while it runs.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/appliance/osupdate"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/vault"
)

// waitForVault is how long the daemon waits at start while the warden
// holds the vault (expiring old restore points).
const waitForVault = 15 * time.Minute

// observer feeds the agent's events into its Prometheus metrics.
type observer struct{ *metrics.Metrics }

// Request counts one Graph response.
func (o observer) Request(workload string, status int) { o.GraphRequest(workload, status) }

// Serve runs the daemon of the configuration file at path, logging to
// logw, until ctx ends or the process gets SIGINT or SIGTERM.
func Serve(ctx context.Context, path, version string, logw io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, cfg, version, slog.New(slog.NewTextHandler(logw, nil)))
}

// Run opens the agent of cfg and serves until ctx ends. version is the
// binary's, for the build-info metric.
func Run(ctx context.Context, cfg *config.Config, version string, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	var a *agent.Agent
	opts := []metrics.Option{metrics.WithVaultStatus(func() (vault.Status, error) { return a.VaultStatus() })}
	if o := cfg.Offsite; o != nil {
		opts = append(opts, metrics.WithOffsiteStatus(func() (offsite.Status, error) { return offsite.ReadStatus(o.StateDir) }))
	}
	m := metrics.New(reg, version, opts...)
	m.SetSchedule(cfg.Schedule.Interval.D())
	if st, err := osupdate.NewSystem().Running(); err == nil {
		_, tpmErr := os.Stat("/sys/class/tpm/tpm0")
		m.SetOSInfo(string(st.Slot), st.ImageVersion, st.RootHash, tpmErr == nil)
	}
	a, err := agent.New(agent.Options{Config: cfg, Observer: observer{m}, Log: log, WaitForVault: waitForVault})
	if err != nil {
		return err
	}
	defer a.Close()
	seedFromHistory(ctx, a, m)
	ml, err := net.Listen("tcp", cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics_listen %s: %w", cfg.MetricsListen, err)
	}
	defer ml.Close()
	go http.Serve(ml, metrics.Handler(reg))
	al, err := listenSocket(cfg.APISocket, 0o660)
	if err != nil {
		return err
	}
	defer os.Remove(cfg.APISocket)
	defer al.Close()
	// Anyone the socket's mode lets in may read; root and the agent's
	// own user may operate (api.Operators).
	go api.Serve(al, api.NewLocal(a), api.Operators(os.Getuid()))
	log.Info("agent running", "metrics", ml.Addr().String(), "socket", cfg.APISocket, "interval", cfg.Schedule.Interval.D())
	return a.Run(ctx)
}

// seedFromHistory sets the gauges that summarise history from what the
// vault and the agent's records hold, so that a restarted agent reports
// the last backup, its coverage and the last restore test as they were,
// not as zero; what is not known stays absent. It runs before the metrics
// endpoint serves.
func seedFromHistory(ctx context.Context, a *agent.Agent, m *metrics.Metrics) {
	st, err := a.Status(ctx)
	if err != nil {
		return
	}
	if st.LastSuccess != nil {
		for _, w := range a.WorkloadNames() {
			m.SetLastSuccess(w, st.LastSuccess.Created)
		}
	}
	if t := st.LastRestoreTest; t != nil {
		m.SetLastRestoreTest(t.At, t.OK)
	}
	for _, c := range st.Coverage {
		m.SetCoverage(c.Workload, c.Protected, len(c.Unprotected), len(c.Departed))
	}
}

// listenSocket listens on the unix socket path with the given mode,
// replacing a socket left by an earlier run.
func listenSocket(path string, mode os.FileMode) (net.Listener, error) {
	os.MkdirAll(filepath.Dir(path), 0o750)
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api_socket %s: %w", path, err)
	}
	// Who may connect is the mode's business (root always can); what a
	// caller may do is decided by its peer credentials (api.Operators).
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return l, nil
}

// Answering waits, at most wait, until the daemon of the configuration at
// path answers a status call on its socket. An appliance not set up yet
// (no configuration) has no daemon to wait for.
func Answering(ctx context.Context, path string, wait time.Duration) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var last error
	for {
		if r, err := api.Dial(cfg.APISocket); err != nil {
			last = err
		} else if _, err := r.Status(ctx); err != nil {
			last = err
		} else {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the agent did not answer on %s within %s: %w", cfg.APISocket, wait, last)
		case <-time.After(2 * time.Second):
		}
	}
}
