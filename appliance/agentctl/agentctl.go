// Package agentctl is what the agent's commands do through its API: ask
// the agent (over its socket or in this process, api.Service), write the
// answer as the command line shows it (text, or JSON), and judge it: work
// done only in part, failed items and open alerts are outcome.Degraded.
// Each writer reads one of the agent's result types, so a change in those
// types is a change here and not in the commands. Sizes, ages and windows
// are written by appliance/units, as the console writes them.
package agentctl

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/units"
)

const (
	day    = "2006-01-02"
	minute = "2006-01-02 15:04"
)

// table writes rows through a tabwriter, which aligns their
// tab-separated columns.
func table(w io.Writer, rows func(tw io.Writer)) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows(tw)
	tw.Flush()
}

// days writes a retention window in days, as "30 days" or "2555 days
// (7y)", or as units.Window when it is not whole days.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d <= 0 || d%day != 0 {
		return units.Window(d)
	}
	s := units.Count(int64(d/day), "day")
	if w := units.Window(d); w != fmt.Sprintf("%dd", d/day) {
		s += " (" + w + ")"
	}
	return s
}

// age is how long ago a restore point was made, from the seconds the
// agent reports.
func age(seconds float64) string { return units.Age(time.Duration(seconds * float64(time.Second))) }

// writeBackup writes what a backup run did and what it did not complete.
func writeBackup(w io.Writer, r *api.BackupReport) {
	fmt.Fprintf(w, "snapshot %s (%s) in %.1fs, retained until %s\n", r.Snapshot, r.Result, r.Seconds, r.RetainUntil.Format(day))
	for _, c := range r.Coverage {
		fmt.Fprintf(w, "%s: %d of %d protected, %d failed, %d departed\n", c.Noun, c.Protected, c.All, len(c.Unprotected), len(c.Departed))
	}
	fmt.Fprintf(w, "items in the restore point: %d (%d new or changed, %d unchanged, %d moved); %d removed since the last one, %d not completed\n",
		r.Items, r.NewItems, r.Carried, r.Moved, r.Removed, r.FailedItems)
	fmt.Fprintf(w, "downloaded %s, stored %s new; %d Graph requests, %d throttled, %d resource units\n", units.Bytes(r.Bytes), units.Bytes(r.StoredBytes), r.Requests, r.Throttled, r.ResourceUnits)
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  not completed:", e)
	}
}

// writeSnapshots writes the restore points as a table.
func writeSnapshots(w io.Writer, snaps []api.SnapshotSummary) {
	table(w, func(tw io.Writer) {
		fmt.Fprintln(tw, "SNAPSHOT\tCREATED\tRESULT\tITEMS\tSIZE\tRETAINED UNTIL")
		for _, s := range snaps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Created.Format(minute), s.Result, s.Items, units.Bytes(s.Bytes), s.RetainUntil.Format(day))
		}
	})
}

// listing is one level of a restore point, as ls shows it.
type listing struct {
	Entries  []api.Node `json:"entries"`
	Snapshot string     `json:"snapshot"`
}

// writeList writes one level of a restore point like a directory: an item on
// a line with its size, date and path, a folder with its item count.
func writeList(w io.Writer, l listing) {
	table(w, func(tw io.Writer) {
		for _, n := range l.Entries {
			if n.Leaf != nil && n.Items == 1 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Name, units.Bytes(n.Bytes), n.Leaf.Meta[api.MetaDate], n.Leaf.Path)
			} else {
				fmt.Fprintf(tw, "%s/\t%s\t%s\t\n", n.Name, units.Count(n.Items, "item"), units.Bytes(n.Bytes))
			}
		}
	})
}

// found is what a search of a restore point found.
type found struct {
	Entries  []api.Entry `json:"entries"`
	Snapshot string      `json:"snapshot"`
}

// writeFind writes the search results as a table: date, sender, subject,
// folder and item path.
func writeFind(w io.Writer, f found) {
	table(w, func(tw io.Writer) {
		fmt.Fprintf(tw, "DATE\tFROM\tSUBJECT\tFOLDER\tITEM\n")
		for _, e := range f.Entries {
			m := e.Meta
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m[api.MetaDate], m[api.MetaFrom], m[api.MetaSubject], m[api.MetaFolder], e.Path)
		}
		fmt.Fprintf(tw, "%s in snapshot %s\n", units.Count(len(f.Entries), "item"), f.Snapshot)
	})
}

// writeRestore writes what a restore into a mailbox did and which items failed.
func writeRestore(w io.Writer, r *api.RestoreReport) {
	where := fmt.Sprintf("beneath %q of %s", r.TargetFolder, r.TargetUser)
	if r.TargetFolder == "" {
		where = "to their original places in " + r.TargetUser
	}
	fmt.Fprintf(w, "restored %d of %d items from %s %s in %.1fs (%d skipped, %d replaced, %d failed)\n",
		r.Restored, r.Selected, r.Snapshot, where, r.Seconds, r.Skipped, r.Replaced, r.Failed)
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  failed:", e)
	}
}

// writeRollback writes what a rollback did, file by file.
func writeRollback(w io.Writer, r *api.RollbackReport) {
	verb, moved, dry := "restored", "quarantined into "+strconv.Quote(r.QuarantineFolder), ""
	if r.DryRun {
		verb, moved, dry = "would restore", "would quarantine", ", dry run: nothing changed"
	}
	what := "the OneDrive of " + r.User
	if r.Site != "" {
		what = fmt.Sprintf("%d libraries of %s", len(r.Libraries), r.Site)
		if len(r.Libraries) == 1 {
			what = "library " + strconv.Quote(r.Libraries[0]) + " of " + r.Site
		}
	}
	fmt.Fprintf(w, "rollback of %s to restore point %s (%s, the last before %s)%s\n", what, r.Snapshot,
		r.SnapshotTime.UTC().Format(minute), r.Before.UTC().Format(minute), dry)
	fmt.Fprintf(w, "%s %d files (%s), %s %d, %d unchanged, %d failed, in %.1fs\n", verb, len(r.Restored), units.Bytes(r.Bytes),
		moved, len(r.Quarantined), r.Unchanged, r.Failed, r.Seconds)
	for _, p := range r.Restored {
		fmt.Fprintln(w, "  "+verb+":", p)
	}
	for _, p := range r.Quarantined {
		fmt.Fprintln(w, "  quarantine:", p)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  failed:", e)
	}
}

// writeExport writes what an export into dest wrote.
func writeExport(w io.Writer, r *api.ExportReport, dest string) {
	fmt.Fprintf(w, "exported %s (%s) from %s as %s into %s under %s\n",
		units.Count(r.Items, "item"), units.Bytes(r.Bytes), r.Snapshot, r.Format, units.Count(len(r.Files), "file"), dest)
	if r.Format == "pst" {
		// A handful of files, one or more per mailbox: name them.
		for _, f := range r.Files {
			fmt.Fprintln(w, " ", f)
		}
	}
}

// writeRestoreTest writes what a restore test verified and what failed.
func writeRestoreTest(w io.Writer, r *api.RestoreTestReport) {
	fmt.Fprintf(w, "restore test of %s: %s (%s) verified, %d failed\n", r.Snapshot, units.Count(r.Items, "item"), units.Bytes(r.Bytes), len(r.Failures))
	for _, e := range r.Failures {
		fmt.Fprintln(w, "  failed:", e)
	}
}

// writeStatus writes the protection status: the last successful backup, the
// vault and the alerts.
func writeStatus(w io.Writer, st *api.Status) {
	if s := st.LastSuccess; s != nil {
		fmt.Fprintf(w, "last successful backup: %s (%s ago), %s\n", s.ID, age(s.AgeSeconds), units.Count(s.Items, "item"))
	} else {
		fmt.Fprintln(w, "last successful backup: none yet")
	}
	for _, c := range st.Coverage {
		fmt.Fprintf(w, "%s: %d of %d protected, %d unprotected, %d departed\n", c.Noun, c.Protected, c.All, len(c.Unprotected), len(c.Departed))
	}
	v := st.Vault
	fmt.Fprintf(w, "vault %s: layout %s, %s, %s used of %s, dedup %.2fx\n", v.VaultID[:min(8, len(v.VaultID))], v.Layout,
		units.Count(v.Snapshots, "snapshot"), units.Bytes(v.UsedBytes), units.Bytes(v.CapacityBytes), v.DedupRatio)
	if v.DeviceWarning != "" {
		fmt.Fprintln(w, "warning:", v.DeviceWarning)
	}
	for _, j := range st.Jobs {
		fmt.Fprintf(w, "running: %s: %s\n", j.Kind, jobLine(j, st.Now))
	}
	if o := st.Offsite; o != nil {
		fmt.Fprintln(w, offsiteLine(o, st.Now))
	}
	if len(st.Alerts) == 0 {
		fmt.Fprintln(w, "alerts: none")
	}
	for _, a := range st.Alerts {
		fmt.Fprintln(w, "alert:", a)
	}
}

// offsiteLine says in a line where the offsite copy stands.
func offsiteLine(o *api.OffsiteSummary, now time.Time) string {
	if !o.Published {
		return fmt.Sprintf("offsite copy (bucket %s): not run yet", o.Bucket)
	}
	last := "never"
	if !o.LastSuccess.IsZero() {
		last = age(now.Sub(o.LastSuccess).Seconds()) + " ago"
	}
	return fmt.Sprintf("offsite copy (bucket %s): %d of %d locked restore points offsite, newest %s; last success %s; %s uploaded",
		o.Bucket, o.SnapshotsOffsite, o.Snapshots, orDash(o.NewestOffsite), last, units.Bytes(o.BytesCopied))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeReport writes the protection report for an auditor: backups, restore
// tests, retention and open alerts over the period it covers.
func writeReport(w io.Writer, r *api.Report) {
	fmt.Fprintf(w, "Strongroom protection report, %s to %s\n", r.Since.Format(minute), r.Generated.Format(minute+" MST"))
	fmt.Fprintf(w, "tenant %s, vault %s (layout %s)\n\n", r.Tenant, r.VaultID, r.Layout)
	fmt.Fprintf(w, "backups: %d (%d complete, %d partial)\n", len(r.Backups), r.Successful, r.Partial)
	for _, b := range r.Backups {
		fmt.Fprintf(w, "  %s  %-8s  %6d items  %10s  %s units (%s failed), kept until %s\n", b.Created.Format(minute), b.Result, b.Items,
			units.Bytes(b.Bytes), b.Units, b.Failed, b.RetainUntil.Format(day))
	}
	if r.LastSuccess != nil {
		fmt.Fprintf(w, "last complete backup: %s (%s ago)\n", r.LastSuccess.Created.Format(minute), age(r.LastSuccess.AgeSeconds))
	}
	fmt.Fprintf(w, "\nrestore tests: %d run, %d passed\n", len(r.RestoreTests), r.RestoreTestsOK)
	for _, t := range r.RestoreTests {
		res := "passed"
		if !t.OK {
			res = fmt.Sprintf("FAILED (%s)", units.Count(len(t.Failures), "item"))
		}
		fmt.Fprintf(w, "  %s  %d items verified  %s\n", t.At.Format(minute), t.Items, res)
	}
	ret := r.Retention
	fmt.Fprintf(w, "\nretention: every restore point %s, first of each month %s; %d snapshots locked, until %s at the latest; oldest restore point %s\n",
		days(ret.Rollback), days(ret.Audit), ret.LockedSnapshots, ret.LockedUntil.Format(day), ret.Oldest.Format(day))
	if o := r.Offsite; o != nil {
		fmt.Fprintf(w, "\n%s\n", offsiteLine(o, r.Generated))
	}
	if len(r.Alerts) > 0 {
		fmt.Fprintln(w, "\nopen alerts:")
		for _, a := range r.Alerts {
			fmt.Fprintln(w, "  -", a)
		}
	}
}
