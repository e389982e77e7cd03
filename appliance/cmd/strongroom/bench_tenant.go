package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// bench tenant lives in its own file and hooks itself under the "bench"
// command that bench.go registers: Go runs the init functions of a
// package's files in file-name order, so by the time this one runs,
// bench.go's constructor is in subcommands. Each constructor registered so
// far is wrapped; the wrapper adds "tenant" to the command named "bench".
func init() {
	for i, mk := range subcommands {
		subcommands[i] = func() *cobra.Command {
			c := mk()
			if c.Name() == "bench" {
				c.AddCommand(newBenchTenantCmd())
			}
			return c
		}
	}
}

// tenantBenchOptions are the flags of bench tenant.
type tenantBenchOptions struct {
	Users      int
	Seed       int64
	Throttle   string
	Latency    time.Duration
	Workers    int
	Messages   int
	Burst      int
	Keep       bool
	CPUProfile string
}

// tenantRun is what one backup run of bench tenant measured.
type tenantRun struct {
	Name      string  `json:"name"` // full, unchanged, burst
	Snapshot  string  `json:"snapshot"`
	Result    string  `json:"result"`
	Wall      float64 `json:"wall_seconds"`
	Mailboxes int     `json:"mailboxes"`
	Failed    int     `json:"failed_mailboxes"`
	Folders   int     `json:"folders"`
	Items     int     `json:"items"`
	NewItems  int     `json:"new_items"`
	Carried   int     `json:"carried_items"`
	Bytes     int64   `json:"downloaded_bytes"`
	// SimRequests is every Graph request the simulator answered during
	// the run (identity and /_sim/ excluded), retries and 429s included.
	SimRequests int64 `json:"sim_graph_requests"`
	// AgentRequests is the governor's count of HTTP responses and
	// transport errors, retries included.
	AgentRequests int64 `json:"agent_graph_requests"`
	// MailboxRequests is the sum of UserReport.Requests: the calls the
	// mailbox backups made, retries excluded. The ideal is computed from
	// these.
	MailboxRequests    int64   `json:"mailbox_requests"`
	MaxMailboxRequests int64   `json:"max_mailbox_requests"`
	OtherRequests      int64   `json:"tenant_level_requests"` // sim requests not made under a mailbox (user listing)
	RequestsPerItem    float64 `json:"requests_per_item"`
	RequestsPerNewItem float64 `json:"requests_per_new_item,omitempty"`
	RequestsPerFolder  float64 `json:"requests_per_folder"`
	Throttled          int64   `json:"throttled_429"`
	AgentThrottled     int64   `json:"agent_throttled"`
	// IdealTenant is total mailbox requests × latency / (min(W,N) × 4),
	// IdealMailbox the busiest mailbox's requests × latency / 4; Ideal is
	// the larger of the two.
	IdealTenant  float64 `json:"ideal_tenant_seconds"`
	IdealMailbox float64 `json:"ideal_mailbox_seconds"`
	Ideal        float64 `json:"ideal_seconds"`
	Efficiency   float64 `json:"efficiency"`
	// MeanInFlight is the average number of Graph requests outstanding:
	// mailbox requests × latency / wall. The limits allow min(W,N) × 4.
	MeanInFlight float64 `json:"mean_in_flight"`
	// CPU is the process's user and system CPU time during the run
	// (simulator included); RunQueueWait the time its threads were ready
	// to run but waited for a CPU (other work on the machine, or more
	// runnable threads than cores), from /proc/self/task/*/schedstat.
	CPU          float64 `json:"cpu_seconds"`
	RunQueueWait float64 `json:"runqueue_wait_seconds"`
}

// tenantBenchResult is the one JSON line bench tenant --json prints.
type tenantBenchResult struct {
	Date         string      `json:"date"`
	Users        int         `json:"users"`
	Mailboxes    int         `json:"mailboxes"`
	Seed         int64       `json:"seed"`
	Throttle     string      `json:"throttle"`
	LatencyMS    float64     `json:"latency_ms"`
	Workers      int         `json:"workers"`
	Messages     int         `json:"messages_per_user"`
	Burst        int         `json:"burst_per_mailbox"`
	BurstCreated int         `json:"burst_created"`
	GOMAXPROCS   int         `json:"gomaxprocs"`
	Runs         []tenantRun `json:"runs"`
	// SimRSSBytes is the peak RSS once the simulated tenant has been
	// generated, before any backup: the part of PeakRSSBytes that is the
	// simulator's, not the agent's.
	SimRSSBytes  int64   `json:"sim_rss_bytes"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	TotalSeconds float64 `json:"total_seconds"`
}

const tenantIdealHelp = `Ideal wall time: the simulator allows each mailbox at most 4 requests in
flight (Exchange's MailboxConcurrency), every Graph request takes the given
latency, and the agent backs up W mailboxes at a time. With N mailboxes, R
mailbox requests in all and R_max requests for the busiest mailbox, no
schedule can beat
    ideal = max(R x latency / (min(W,N) x 4),  R_max x latency / 4)
(the first term: all slots busy all the time; the second: the busiest
mailbox alone, its 4 slots busy all the time). R and R_max come from the
report's per-mailbox request counts (UserReport.Requests, retries
excluded). The tenant-level user listing, local CPU (simulator, TLS,
vault) and 429 waits are not in the ideal: they are what efficiency =
ideal / wall measures, with everything else the agent loses by not keeping
4 requests in flight per mailbox.`

func newBenchTenantCmd() *cobra.Command {
	var o tenantBenchOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tenant [--users N] [--throttle realistic] [--latency 30ms] [--workers W] [--json]",
		Short: "Back up a simulated tenant (full, unchanged incremental, mail burst) and compare with the throttle limits",
		Long: `Starts the tenant simulator in this process with the given throttling and
every Graph request delayed by --latency, creates a vault on four temporary
disk directories, and runs three backups through the agent: a full one, an
incremental with nothing changed, and an incremental after a mail burst
(--burst new mails in every mailbox). For each run it prints wall time,
mailboxes, items, new items, bytes, Graph requests (the simulator's count,
the agent's, and the mailboxes'), requests per item and per folder, 429s,
and the ideal wall time the limits allow, with the efficiency ideal / wall.
Peak RSS at the end. --json prints one JSON line instead.

` + tenantIdealHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Users <= 0 || o.Workers <= 0 || o.Latency < 0 || o.Burst < 0 || o.Messages < 0 {
				return usageError{fmt.Errorf("--users and --workers must be positive; --latency, --burst and --messages must not be negative")}
			}
			if o.CPUProfile != "" {
				pf, err := os.Create(o.CPUProfile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			progress := cmd.ErrOrStderr()
			if asJSON {
				progress = io.Discard
			}
			res, err := benchTenant(cmd.Context(), o, progress)
			if err != nil {
				return err
			}
			if asJSON {
				b, err := json.Marshal(res)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			printTenantBench(cmd.OutOrStdout(), res)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.Users, "users", 50, "users in the simulated tenant")
	fl.Int64Var(&o.Seed, "seed", 7, "seed of the simulated tenant")
	fl.StringVar(&o.Throttle, "throttle", string(tenantsim.ThrottleRealistic), "throttling of the simulator: off, realistic or strict")
	fl.DurationVar(&o.Latency, "latency", 30*time.Millisecond, "delay added to every Graph request (as against Microsoft)")
	fl.IntVar(&o.Workers, "workers", 16, "mailboxes backed up in parallel (the configuration's workers)")
	fl.IntVar(&o.Messages, "messages", 0, "mails per licensed user (default: the simulator's profile)")
	fl.IntVar(&o.Burst, "burst", 5, "new mails per mailbox before the last incremental")
	fl.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (vault, configuration)")
	fl.StringVar(&o.CPUProfile, "cpuprofile", "", "write a Go CPU profile of the whole run to this file")
	fl.BoolVar(&asJSON, "json", false, "print one JSON line instead of the report")
	return cmd
}

func benchTenant(ctx context.Context, o tenantBenchOptions, progress io.Writer) (*tenantBenchResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	began := time.Now()
	res := &tenantBenchResult{Date: began.UTC().Format(time.RFC3339), Users: o.Users, Seed: o.Seed, Throttle: o.Throttle,
		LatencyMS: float64(o.Latency) / float64(time.Millisecond), Workers: o.Workers, Burst: o.Burst,
		GOMAXPROCS: runtime.GOMAXPROCS(0)}
	dir, err := os.MkdirTemp("", "strongroom-bench-tenant-")
	if err != nil {
		return nil, err
	}
	if o.Keep {
		fmt.Fprintf(progress, "keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	scfg := tenantsim.Config{Users: o.Users, Seed: o.Seed, Throttle: tenantsim.Throttle{Mode: tenantsim.ThrottleMode(o.Throttle)}}
	scfg.Profile.MessagesPerUser = o.Messages
	if o.Latency > 0 {
		scfg.Faults = tenantsim.Faults{SlowRate: 1, SlowDelay: o.Latency}
	}
	sim, err := tenantsim.New(scfg)
	if err != nil {
		return nil, usageError{err}
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	defer sim.Close()
	res.Messages = o.Messages
	if res.Messages == 0 {
		res.Messages = tenantsim.DefaultProfile.MessagesPerUser
	}
	res.SimRSSBytes = peakRSS()
	fmt.Fprintf(progress, "simulated tenant: %d users at %s, throttle %s, latency %s\n", o.Users, sim.BaseURL(), o.Throttle, o.Latency)

	var disks []string
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("disk%d", i))
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, err
		}
		disks = append(disks, d)
	}
	vi, err := vault.Init(disks)
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "recovery.key")
	caFile := filepath.Join(dir, "tenant-ca.pem")
	if err := os.WriteFile(keyFile, []byte(vi.RecoveryKey.String()+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(caFile, sim.CAPEM(), 0o644); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "strongroom.yaml")
	if err := tenantsim.WriteAgentConfig(cfgPath, sim.AgentConfig(caFile)); err != nil {
		return nil, err
	}
	extra := fmt.Sprintf("vault:\n  disks: [%s]\n  key_file: %s\nworkers: %d\napi_socket: %s\n",
		strings.Join(disks, ", "), keyFile, o.Workers, filepath.Join(dir, "agent.sock"))
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, werr := f.WriteString(extra)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, werr
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	a, err := agent.New(agent.Options{Config: cfg, Log: quietLog()})
	if err != nil {
		return nil, err
	}
	defer a.Close()

	run := func(name string) error {
		before := sim.Counters()
		cpu0, wait0 := processCPU(), runQueueWait()
		start := time.Now()
		rep, err := a.Backup(ctx, agent.BackupRequest{})
		wall := time.Since(start)
		if err != nil {
			return fmt.Errorf("%s backup: %w", name, err)
		}
		r := measureTenantRun(name, rep, before, sim.Counters(), wall, o.Latency, o.Workers)
		r.CPU, r.RunQueueWait = (processCPU() - cpu0).Seconds(), (runQueueWait() - wait0).Seconds()
		res.Runs = append(res.Runs, r)
		res.Mailboxes = max(res.Mailboxes, r.Mailboxes)
		fmt.Fprintf(progress, "%-9s %6.2fs  %d mailboxes, %d items (%d new), %d Graph requests, %d throttled, ideal %.2fs, efficiency %.0f%%\n",
			name, r.Wall, r.Mailboxes, r.Items, r.NewItems, r.SimRequests, r.Throttled, r.Ideal, 100*r.Efficiency)
		return nil
	}
	if err := run("full"); err != nil {
		return nil, err
	}
	if err := run("unchanged"); err != nil {
		return nil, err
	}
	burst, err := sim.Apply(tenantsim.Scenario{Name: "mail-burst", Count: o.Burst})
	if err != nil {
		return nil, err
	}
	res.BurstCreated = burst.ItemsCreated
	if err := run("burst"); err != nil {
		return nil, err
	}
	res.PeakRSSBytes = peakRSS()
	res.TotalSeconds = time.Since(began).Seconds()
	return res, nil
}

// processCPU is the user plus system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runQueueWait sums, over the threads of this process, the time spent
// runnable but not running (the second field of schedstat). Zero where
// the kernel does not provide it.
func runQueueWait() time.Duration {
	tasks, _ := filepath.Glob("/proc/self/task/*/schedstat")
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			if ns, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				total += time.Duration(ns)
			}
		}
	}
	return total
}

// graphRequests counts the Graph requests in c: every class but the
// identity endpoints and the simulator's own control API.
func graphRequests(c tenantsim.Counters) int64 {
	return c.Total("", 0) - c.Total("identity", 0) - c.Total("sim", 0)
}

// measureTenantRun turns one backup report and the simulator's counters
// before and after it into the figures of the run.
func measureTenantRun(name string, rep *agent.BackupReport, before, after tenantsim.Counters, wall, latency time.Duration, workers int) tenantRun {
	r := tenantRun{Name: name, Snapshot: rep.Snapshot, Result: rep.Result, Wall: wall.Seconds(),
		Mailboxes: rep.Mailboxes, Failed: rep.Failed, Items: rep.Items, NewItems: rep.NewItems, Carried: rep.Carried, Bytes: rep.Bytes,
		SimRequests: graphRequests(after) - graphRequests(before), AgentRequests: rep.Requests,
		Throttled: after.Throttled - before.Throttled, AgentThrottled: rep.Throttled}
	busy := 0 // mailboxes that made requests
	for _, u := range rep.Users {
		r.Folders += u.Folders
		r.MailboxRequests += u.Requests
		r.MaxMailboxRequests = max(r.MaxMailboxRequests, u.Requests)
		if u.Requests > 0 {
			busy++
		}
	}
	r.OtherRequests = r.SimRequests - r.MailboxRequests
	if r.Items > 0 {
		r.RequestsPerItem = float64(r.SimRequests) / float64(r.Items)
	}
	if r.NewItems > 0 {
		r.RequestsPerNewItem = float64(r.SimRequests) / float64(r.NewItems)
	}
	if r.Folders > 0 {
		r.RequestsPerFolder = float64(r.SimRequests) / float64(r.Folders)
	}
	lat := latency.Seconds()
	const perMailbox = 4 // the simulator's and Exchange's MailboxConcurrency
	slots := max(min(workers, busy), 1) * perMailbox
	r.IdealTenant = float64(r.MailboxRequests) * lat / float64(slots)
	r.IdealMailbox = float64(r.MaxMailboxRequests) * lat / perMailbox
	r.Ideal = max(r.IdealTenant, r.IdealMailbox)
	if r.Wall > 0 {
		r.Efficiency = r.Ideal / r.Wall
		r.MeanInFlight = float64(r.MailboxRequests) * lat / r.Wall
	}
	return r
}

func printTenantBench(w io.Writer, res *tenantBenchResult) {
	fmt.Fprintf(w, "bench tenant: %d users (%d mailboxes), seed %d, %d mails per user, throttle %s, latency %gms, workers %d, GOMAXPROCS %d\n\n",
		res.Users, res.Mailboxes, res.Seed, res.Messages, res.Throttle, res.LatencyMS, res.Workers, res.GOMAXPROCS)
	fmt.Fprintf(w, "%-26s", "")
	for _, r := range res.Runs {
		fmt.Fprintf(w, "%14s", r.Name)
	}
	fmt.Fprintln(w)
	row := func(label string, val func(r tenantRun) string) {
		fmt.Fprintf(w, "%-26s", label)
		for _, r := range res.Runs {
			fmt.Fprintf(w, "%14s", val(r))
		}
		fmt.Fprintln(w)
	}
	row("wall", func(r tenantRun) string { return fmt.Sprintf("%.2fs", r.Wall) })
	row("ideal", func(r tenantRun) string { return fmt.Sprintf("%.2fs", r.Ideal) })
	row("  all slots busy", func(r tenantRun) string { return fmt.Sprintf("%.2fs", r.IdealTenant) })
	row("  busiest mailbox", func(r tenantRun) string { return fmt.Sprintf("%.2fs", r.IdealMailbox) })
	row("efficiency (ideal/wall)", func(r tenantRun) string { return fmt.Sprintf("%.0f%%", 100*r.Efficiency) })
	row("mean requests in flight", func(r tenantRun) string { return fmt.Sprintf("%.1f", r.MeanInFlight) })
	row("CPU (whole process)", func(r tenantRun) string { return fmt.Sprintf("%.2fs", r.CPU) })
	row("waiting for a CPU", func(r tenantRun) string { return fmt.Sprintf("%.2fs", r.RunQueueWait) })
	row("result", func(r tenantRun) string { return r.Result })
	row("mailboxes", func(r tenantRun) string { return fmt.Sprint(r.Mailboxes) })
	row("folders", func(r tenantRun) string { return fmt.Sprint(r.Folders) })
	row("items", func(r tenantRun) string { return fmt.Sprint(r.Items) })
	row("new items", func(r tenantRun) string { return fmt.Sprint(r.NewItems) })
	row("downloaded", func(r tenantRun) string { return units.Bytes(r.Bytes) })
	row("Graph requests (sim)", func(r tenantRun) string { return fmt.Sprint(r.SimRequests) })
	row("  by the agent (governor)", func(r tenantRun) string { return fmt.Sprint(r.AgentRequests) })
	row("  by mailboxes (report)", func(r tenantRun) string { return fmt.Sprint(r.MailboxRequests) })
	row("  busiest mailbox", func(r tenantRun) string { return fmt.Sprint(r.MaxMailboxRequests) })
	row("  tenant-level", func(r tenantRun) string { return fmt.Sprint(r.OtherRequests) })
	row("requests per item", func(r tenantRun) string { return fmt.Sprintf("%.3f", r.RequestsPerItem) })
	row("requests per new item", func(r tenantRun) string {
		if r.NewItems == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", r.RequestsPerNewItem)
	})
	row("requests per folder", func(r tenantRun) string { return fmt.Sprintf("%.2f", r.RequestsPerFolder) })
	row("throttled (429)", func(r tenantRun) string { return fmt.Sprint(r.Throttled) })
	fmt.Fprintf(w, "\nmail burst: %d new mails (%d per mailbox)\n", res.BurstCreated, res.Burst)
	fmt.Fprintf(w, "peak RSS: %s (of which %s before the first backup: the simulated tenant, in this process)\n",
		units.Bytes(res.PeakRSSBytes), units.Bytes(res.SimRSSBytes))
	fmt.Fprintf(w, "total: %.1fs\n\n%s\n", res.TotalSeconds, tenantIdealHelp)
}
