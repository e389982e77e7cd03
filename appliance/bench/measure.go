package bench

import (
	"fmt"
	"io"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/appliance/workloads/groups"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
)

// teamsLimit is the Teams requests a second per app and tenant Graph
// documents for channel messages, and the agent's pace.
const teamsLimit = 20

// perMailbox is the simulator's (and Exchange's) MailboxConcurrency: the
// requests one mailbox may have in flight.
const perMailbox = 4

// measureTenantRun turns one backup report, the simulator's counters
// before and after it and the span of its Teams requests into the
// figures of the run.
func measureTenantRun(name string, rep *agent.BackupReport, before, after tenantsim.Counters, wall, teamsWall, latency time.Duration, workers int) TenantRun {
	r, busy := fromReport(rep)
	r.Name, r.Wall, r.TeamsWall = name, wall.Seconds(), teamsWall.Seconds()
	r.SimRequests = graphRequests(after) - graphRequests(before)
	r.Throttled = after.Throttled - before.Throttled
	r.ChannelMessages = after.ChannelMessages - before.ChannelMessages
	r.MessagePages = after.MessagePages - before.MessagePages
	r.TeamsThrottled = teamsThrottled(after) - teamsThrottled(before)
	r.derive(latency, workers, busy)
	r.deriveTeams()
	return r
}

// fromReport copies what the agent's backup report says into a run, and
// counts the mailboxes that made requests. It is the one place that reads
// the report's fields.
func fromReport(rep *agent.BackupReport) (r TenantRun, busy int) {
	r = TenantRun{Snapshot: rep.Snapshot, Result: string(rep.Result), Failed: rep.Failed, TeamsLimit: teamsLimit,
		Items: rep.Items, NewItems: rep.NewItems, Carried: rep.Carried, Bytes: rep.Bytes,
		AgentRequests: rep.Requests, AgentThrottled: rep.Throttled, ResourceUnits: rep.ResourceUnits}
	for _, u := range rep.Units {
		switch u.Workload {
		case exchange.Name:
			if u.State == agent.UnitBackedUp {
				r.Mailboxes++
			}
			r.Folders += u.Collections
			r.MailboxRequests += u.Requests
			r.MaxMailboxRequests = max(r.MaxMailboxRequests, u.Requests)
			if u.Requests > 0 {
				busy++
			}
		case teams.Name, groups.Name:
			r.TeamsRequests += u.Requests
			if u.Workload == teams.Name {
				r.TeamsThreads += u.Items
			}
		case onedrive.Name:
			if u.State == agent.UnitBackedUp {
				r.Drives++
			}
			r.FileBytes += u.Bytes
			r.DriveRequests += u.Requests
		}
	}
	return r, busy
}

// derive computes the ratios and the ideal wall time (see IdealHelp) of a
// run whose counts are set; busy is the number of mailboxes that made
// requests.
func (r *TenantRun) derive(latency time.Duration, workers, busy int) {
	r.OtherRequests = r.SimRequests - r.MailboxRequests
	ratio := func(n int64, per int) float64 {
		if per <= 0 {
			return 0
		}
		return float64(n) / float64(per)
	}
	r.RequestsPerItem = ratio(r.SimRequests, r.Items)
	r.RequestsPerNewItem = ratio(r.SimRequests, r.NewItems)
	r.RequestsPerFolder = ratio(r.SimRequests, r.Folders)
	lat := latency.Seconds()
	slots := max(min(workers, busy), 1) * perMailbox
	r.IdealTenant = float64(r.MailboxRequests) * lat / float64(slots)
	r.IdealMailbox = float64(r.MaxMailboxRequests) * lat / perMailbox
	r.Ideal = max(r.IdealTenant, r.IdealMailbox)
	if r.Wall > 0 {
		r.Efficiency = r.Ideal / r.Wall
		r.MeanInFlight = float64(r.MailboxRequests) * lat / r.Wall
	}
}

// tenantRows are the lines of the tenant benchmark's table: a label and
// how a run shows in that line.
var tenantRows = []struct {
	label string
	value func(r TenantRun) string
}{
	{"wall", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.Wall) }},
	{"ideal", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.Ideal) }},
	{"  all slots busy", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.IdealTenant) }},
	{"  busiest mailbox", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.IdealMailbox) }},
	{"efficiency (ideal/wall)", func(r TenantRun) string { return fmt.Sprintf("%.0f%%", 100*r.Efficiency) }},
	{"mean requests in flight", func(r TenantRun) string { return fmt.Sprintf("%.1f", r.MeanInFlight) }},
	{"CPU (whole process)", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.CPU) }},
	{"waiting for a CPU", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.RunQueueWait) }},
	{"result", func(r TenantRun) string { return r.Result }},
	{"mailboxes", func(r TenantRun) string { return fmt.Sprint(r.Mailboxes) }},
	{"folders", func(r TenantRun) string { return fmt.Sprint(r.Folders) }},
	{"items", func(r TenantRun) string { return fmt.Sprint(r.Items) }},
	{"new items", func(r TenantRun) string { return fmt.Sprint(r.NewItems) }},
	{"downloaded", func(r TenantRun) string { return units.Bytes(r.Bytes) }},
	{"  of it files (drives)", func(r TenantRun) string { return units.Bytes(r.FileBytes) }},
	{"  files MB/s", func(r TenantRun) string { return fmt.Sprintf("%.1f", float64(r.FileBytes)/1e6/max(r.Wall, 1e-9)) }},
	{"drives backed up", func(r TenantRun) string { return fmt.Sprint(r.Drives) }},
	{"  requests per drive", func(r TenantRun) string {
		return fmt.Sprintf("%.1f", float64(r.DriveRequests)/float64(max(r.Drives, 1)))
	}},
	{"resource units (files)", func(r TenantRun) string { return fmt.Sprint(r.ResourceUnits) }},
	{"  per minute", func(r TenantRun) string { return fmt.Sprintf("%.0f", float64(r.ResourceUnits)/max(r.Wall, 1e-9)*60) }},
	{"Teams and group requests", func(r TenantRun) string { return fmt.Sprint(r.TeamsRequests) }},
	{"  per second (limit)", func(r TenantRun) string {
		return fmt.Sprintf("%.1f (%d)", float64(r.TeamsRequests)/max(r.Wall, 1e-9), r.TeamsLimit)
	}},
	{"  channel threads per second", func(r TenantRun) string {
		return fmt.Sprintf("%.1f", float64(r.TeamsThreads)/max(r.Wall, 1e-9))
	}},
	{"Teams wall", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.TeamsWall) }},
	{"  from (after the start)", func(r TenantRun) string { return fmt.Sprintf("%.2fs", r.TeamsStart) }},
	{"  requests per second", func(r TenantRun) string { return fmt.Sprintf("%.1f", r.TeamsPerSecond) }},
	{"  429s (Teams, groups)", func(r TenantRun) string { return fmt.Sprint(r.TeamsThrottled) }},
	{"channel messages read", func(r TenantRun) string { return fmt.Sprint(r.ChannelMessages) }},
	{"  per message page", func(r TenantRun) string { return fmt.Sprintf("%.1f", r.MessagesPerPage) }},
	{"  per Teams request", func(r TenantRun) string { return fmt.Sprintf("%.2f", r.MessagesPerRequest) }},
	{"  per second", func(r TenantRun) string { return fmt.Sprintf("%.1f", r.MessagesPerSecond) }},
	{"  ideal per second", func(r TenantRun) string { return fmt.Sprintf("%.1f", r.IdealMessagesPerSecond) }},
	{"  % of ideal", func(r TenantRun) string {
		if r.IdealMessagesPerSecond == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*r.TeamsEfficiency)
	}},
	{"Graph requests (sim)", func(r TenantRun) string { return fmt.Sprint(r.SimRequests) }},
	{"  by the agent (governor)", func(r TenantRun) string { return fmt.Sprint(r.AgentRequests) }},
	{"  by mailboxes (report)", func(r TenantRun) string { return fmt.Sprint(r.MailboxRequests) }},
	{"  busiest mailbox", func(r TenantRun) string { return fmt.Sprint(r.MaxMailboxRequests) }},
	{"  tenant-level", func(r TenantRun) string { return fmt.Sprint(r.OtherRequests) }},
	{"requests per item", func(r TenantRun) string { return fmt.Sprintf("%.3f", r.RequestsPerItem) }},
	{"requests per new item", func(r TenantRun) string {
		if r.NewItems == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", r.RequestsPerNewItem)
	}},
	{"requests per folder", func(r TenantRun) string { return fmt.Sprintf("%.2f", r.RequestsPerFolder) }},
	{"throttled (429)", func(r TenantRun) string { return fmt.Sprint(r.Throttled) }},
}

// PrintTenant writes the tenant benchmark's report: the settings, a table
// with a column a run, the burst, memory and the explanation of the ideal.
func PrintTenant(w io.Writer, res *TenantResult) {
	fmt.Fprintf(w, "bench tenant: %d users (%d mailboxes), seed %d, %d mails per user, throttle %s, latency %gms, workers %d, GOMAXPROCS %d\n\n",
		res.Users, res.Mailboxes, res.Seed, res.Messages, res.Throttle, res.LatencyMS, res.Workers, res.GOMAXPROCS)
	fmt.Fprintf(w, "%-26s", "")
	for _, r := range res.Runs {
		fmt.Fprintf(w, "%14s", r.Name)
	}
	fmt.Fprintln(w)
	for _, row := range tenantRows {
		fmt.Fprintf(w, "%-26s", row.label)
		for _, r := range res.Runs {
			fmt.Fprintf(w, "%14s", row.value(r))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nmail burst: %d new mails (%d per mailbox)\n", res.BurstCreated, res.Burst)
	if res.Faults != "" {
		fmt.Fprintf(w, "faults: %s (%d answers spoiled over the runs)\n", res.Faults, res.Faulted)
	}
	fmt.Fprintf(w, "peak RSS: %s (of which %s before the first backup: the simulated tenant, in this process)\n",
		units.Bytes(res.PeakRSSBytes), units.Bytes(res.SimRSSBytes))
	if res.ChannelMessages > 0 {
		fmt.Fprintf(w, "busy channels: %d threads with %d replies each added to every channel of every team\n", res.ChannelMessages, res.ChannelReplies)
	}
	fmt.Fprintf(w, "total: %.1fs\n\n%s\n\n%s\n", res.TotalSeconds, IdealHelp, TeamsHelp)
}
