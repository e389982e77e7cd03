package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/sandbox"
	"github.com/strongroom/strongroom/appliance/simctl"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TenantOptions are the settings of the tenant benchmark.
type TenantOptions struct {
	Users    int
	Seed     int64
	Throttle string // off, realistic or strict
	// Latency delays every Graph request of the simulator, as against
	// Microsoft.
	Latency time.Duration
	Workers int // mailboxes backed up in parallel
	// Messages is the mails per licensed user; 0 is the simulator's
	// profile.
	Messages int
	// ChannelMessages threads, each with ChannelReplies replies, are
	// added to every channel of every team (busy channels); 0: none.
	ChannelMessages int
	ChannelReplies  int
	// Burst is the new mails per mailbox before the last incremental.
	Burst int
	// Keep keeps the temporary directory (vault, configuration).
	Keep bool
	// Log receives the agent's log.
	Log *slog.Logger
	// CPUProfile, when set, is where a Go CPU profile of the run goes.
	CPUProfile string
	// FaultSpec names the faults the simulator injects on top of
	// Latency, as tenant-sim --faults takes them ("truncate=0.05").
	FaultSpec string
}

// TenantRun is what one backup run of the tenant benchmark measured.
type TenantRun struct {
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
	// Drives counts OneDrive drives backed up; FileBytes what their files
	// and versions downloaded; ResourceUnits what the run spent of the
	// tenant's OneDrive and SharePoint resource-unit budget; DriveRequests
	// the requests the drives' backups made.
	Drives        int   `json:"drives"`
	FileBytes     int64 `json:"file_bytes"`
	ResourceUnits int64 `json:"resource_units"`
	DriveRequests int64 `json:"drive_requests"`
	// TeamsRequests is what the teams' and groups' backups asked Graph
	// (retries excluded) and TeamsThreads the channel threads the teams'
	// backups stored or carried; over the run's wall time they compare
	// with TeamsLimit, the requests a second Graph documents for channel
	// messages per app and tenant, to which the governor paces them.
	TeamsRequests int64 `json:"teams_requests"`
	TeamsThreads  int   `json:"teams_threads"`
	TeamsLimit    int   `json:"teams_limit_per_second"`
	// ChannelMessages is the channel messages (top-level and replies) the
	// simulator served in message pages during the run, MessagePages
	// those pages; TeamsWall the seconds from the first to the end of the
	// last request under a team or group, TeamsStart the seconds from
	// the start of the run to the first; TeamsThrottled the 429s on
	// Teams and group routes. The rates derived from them are explained
	// by TeamsHelp.
	ChannelMessages        int64   `json:"channel_messages"`
	MessagePages           int64   `json:"channel_message_pages"`
	TeamsWall              float64 `json:"teams_wall_seconds"`
	TeamsStart             float64 `json:"teams_start_seconds"`
	TeamsThrottled         int64   `json:"teams_throttled_429"`
	TeamsPerSecond         float64 `json:"teams_requests_per_second"`
	MessagesPerSecond      float64 `json:"channel_messages_per_second"`
	MessagesPerRequest     float64 `json:"channel_messages_per_request"`
	MessagesPerPage        float64 `json:"channel_messages_per_page"`
	IdealMessagesPerSecond float64 `json:"ideal_channel_messages_per_second"`
	TeamsEfficiency        float64 `json:"teams_efficiency"`
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

// TenantResult is what Tenant measured; bench tenant --json prints it as
// one JSON line.
type TenantResult struct {
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
	Runs         []TenantRun `json:"runs"`
	// SimRSSBytes is the peak RSS once the simulated tenant has been
	// generated, before any backup: the part of PeakRSSBytes that is the
	// simulator's, not the agent's.
	SimRSSBytes int64 `json:"sim_rss_bytes"`
	// ChannelMessages and ChannelReplies are the busy channels' threads
	// per channel and replies per thread.
	ChannelMessages int `json:"channel_messages_per_channel,omitempty"`
	ChannelReplies  int `json:"channel_replies_per_thread,omitempty"`
	// Faults names the injected faults ("" for none) and Faulted counts
	// the answers they spoiled over every run.
	Faults       string  `json:"faults,omitempty"`
	Faulted      int64   `json:"faulted"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	TotalSeconds float64 `json:"total_seconds"`
}

// IdealHelp explains the ideal wall time and the efficiency.
const IdealHelp = `Ideal wall time: the simulator allows each mailbox at most 4 requests in
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

// Tenant starts the simulator in this process, creates a vault on
// temporary disks and runs three backups through the agent: a full one,
// an unchanged incremental, and an incremental after a mail burst. Each
// run's figures go to progress as a line as well as into the result.
func Tenant(ctx context.Context, o TenantOptions, progress io.Writer) (*TenantResult, error) {
	if o.Users <= 0 || o.Workers <= 0 || o.Latency < 0 || o.Burst < 0 || o.Messages < 0 {
		return nil, outcome.Usage{Err: errors.New("--users and --workers must be positive; --latency, --burst and --messages must not be negative")}
	}
	stop, err := ProfileCPU(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	defer stop()
	began := time.Now()
	res := &TenantResult{Date: began.UTC().Format(time.RFC3339), Users: o.Users, Seed: o.Seed, Throttle: o.Throttle,
		LatencyMS: float64(o.Latency) / float64(time.Millisecond), Workers: o.Workers, Burst: o.Burst,
		Messages: o.Messages, GOMAXPROCS: runtime.GOMAXPROCS(0), Faults: o.FaultSpec,
		ChannelMessages: o.ChannelMessages, ChannelReplies: o.ChannelReplies}
	if res.Messages == 0 {
		res.Messages = tenantsim.DefaultProfile.MessagesPerUser
	}
	dir, err := os.MkdirTemp("", "strongroom-bench-tenant-")
	if err != nil {
		return nil, err
	}
	if o.Keep {
		fmt.Fprintf(progress, "keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	clock := &teamsClock{}
	sim, err := startSim(o, clock)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	res.SimRSSBytes = PeakRSS()
	fmt.Fprintf(progress, "simulated tenant: %d users at %s, throttle %s, latency %s\n", o.Users, sim.BaseURL(), o.Throttle, o.Latency)
	sb, err := sandbox.New(dir, sim, o.Workers, o.Log)
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	if err := runTenantBackups(ctx, o, sim, clock, sb.Agent, res, progress); err != nil {
		return nil, err
	}
	res.PeakRSSBytes = PeakRSS()
	res.Faulted = sim.Counters().Faulted
	res.TotalSeconds = time.Since(began).Seconds()
	return res, nil
}

// startSim starts the simulator the options describe, telling clock of
// its requests; options it refuses are the operator's mistake
// (outcome.Usage).
func startSim(o TenantOptions, clock *teamsClock) (*tenantsim.Sim, error) {
	cfg := tenantsim.Config{Users: o.Users, Seed: o.Seed, Throttle: tenantsim.Throttle{Mode: tenantsim.ThrottleMode(o.Throttle)}, OnRequest: clock.observe}
	cfg.Profile.MessagesPerUser = o.Messages
	cfg.Profile.ChannelMessages, cfg.Profile.ChannelReplies = o.ChannelMessages, o.ChannelReplies
	faults, err := simctl.ParseFaults(o.FaultSpec)
	if err != nil {
		return nil, outcome.Usage{Err: fmt.Errorf("--faults: %w", err)}
	}
	cfg.Faults = faults
	if o.Latency > 0 {
		if faults.SlowRate > 0 {
			return nil, outcome.Usage{Err: errors.New("--latency and a slow fault both delay answers: give one of them")}
		}
		cfg.Faults.SlowRate, cfg.Faults.SlowDelay = 1, o.Latency
	}
	sim, err := tenantsim.New(cfg)
	if err != nil {
		return nil, outcome.Usage{Err: err}
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return sim, nil
}

// runTenantBackups runs the full, the unchanged and the burst backup and
// adds each one's figures to res.
func runTenantBackups(ctx context.Context, o TenantOptions, sim *tenantsim.Sim, clock *teamsClock, a *agent.Agent, res *TenantResult, progress io.Writer) error {
	run := func(name string) error {
		_, _ = clock.take()
		before := sim.Counters()
		cpu0, wait0 := processCPU(), runQueueWait()
		start := time.Now()
		rep, err := a.Backup(ctx, agent.BackupRequest{})
		wall := time.Since(start)
		if err != nil {
			return fmt.Errorf("%s backup: %w", name, err)
		}
		first, teamsWall := clock.take()
		r := measureTenantRun(name, rep, before, sim.Counters(), wall, teamsWall, o.Latency, o.Workers)
		if !first.IsZero() {
			r.TeamsStart = first.Sub(start).Seconds()
		}
		r.CPU, r.RunQueueWait = (processCPU() - cpu0).Seconds(), (runQueueWait() - wait0).Seconds()
		res.Runs = append(res.Runs, r)
		res.Mailboxes = max(res.Mailboxes, r.Mailboxes)
		rate := ""
		if r.ChannelMessages > 0 {
			rate = fmt.Sprintf(", %.1f/s (%.0f%% of %.1f/s)", r.MessagesPerSecond, 100*r.TeamsEfficiency, r.IdealMessagesPerSecond)
		}
		fmt.Fprintf(progress, "%-9s %6.2fs  %d mailboxes, %d items (%d new), %d Graph requests, %d throttled, ideal %.2fs, efficiency %.0f%%; Teams %.2fs, %d channel messages%s\n",
			name, r.Wall, r.Mailboxes, r.Items, r.NewItems, r.SimRequests, r.Throttled, r.Ideal, 100*r.Efficiency,
			r.TeamsWall, r.ChannelMessages, rate)
		return nil
	}
	if err := run("full"); err != nil {
		return err
	}
	if err := run("unchanged"); err != nil {
		return err
	}
	burst, err := sim.Apply(tenantsim.Scenario{Name: "mail-burst", Count: o.Burst})
	if err != nil {
		return err
	}
	res.BurstCreated = burst.ItemsCreated
	return run("burst")
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
