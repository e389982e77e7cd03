package main

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
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/appliance/osupdate"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() {
	register(newAgentCmd)
	register(newBackupCmd)
	register(newSnapshotsCmd)
	register(newLsCmd)
	register(newFindCmd)
	register(newRestoreCmd)
	register(newExportCmd)
	register(newRestoreTestCmd)
	register(newStatusCmd)
}

// agentFlags are shared by every command that talks to the agent.
type agentFlags struct {
	config string
	json   bool
}

func (f *agentFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", envOr("STRONGROOM_CONFIG", "/etc/strongroom/strongroom.yaml"), "agent configuration file (env STRONGROOM_CONFIG)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON instead of text")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// service connects to the running agent daemon over its socket, or, when
// none runs, opens the agent in this process. close must be called.
func (f *agentFlags) service() (svc api.Service, close func(), err error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return nil, nil, err
	}
	if r, err := api.Dial(cfg.APISocket); err == nil {
		return r, func() {}, nil
	}
	a, err := agent.New(agent.Options{Config: cfg, Log: quietLog()})
	if err != nil {
		return nil, nil, err
	}
	return a, func() { a.Close() }, nil
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newAgentCmd() *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the backup agent daemon (schedule, metrics endpoint, API socket)",
		Long: `Runs the agent: backups on the configured schedule, scheduled restore tests
and scrubs, the Prometheus endpoint on metrics_listen, and the API on
api_socket that the CLI and the console use while the daemon runs.
The agent needs no privileges: it cannot delete or unseal stored data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(f.config)
			if err != nil {
				return err
			}
			reg := prometheus.NewRegistry()
			var a *agent.Agent
			m := metrics.New(reg, version, metrics.WithVaultStatus(func() (vault.Status, error) { return a.VaultStatus() }))
			m.SetSchedule(cfg.Schedule.Interval.D())
			if st, err := osupdate.NewSystem().Running(); err == nil {
				_, tpmErr := os.Stat("/sys/class/tpm/tpm0")
				m.SetOSInfo(string(st.Slot), st.ImageVersion, st.RootHash, tpmErr == nil)
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			a, err = agent.New(agent.Options{Config: cfg, Observer: metricsObserver{m}, Log: log, WaitForVault: 15 * time.Minute})
			if err != nil {
				return err
			}
			defer a.Close()
			if st, err := a.Status(context.Background()); err == nil {
				if st.LastSuccess != nil {
					m.SetLastSuccess("exchange", st.LastSuccess.Created)
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ml, err := net.Listen("tcp", cfg.MetricsListen)
			if err != nil {
				return fmt.Errorf("metrics_listen %s: %w", cfg.MetricsListen, err)
			}
			go http.Serve(ml, metrics.Handler(reg))
			os.MkdirAll(filepath.Dir(cfg.APISocket), 0o750)
			os.Remove(cfg.APISocket)
			al, err := net.Listen("unix", cfg.APISocket)
			if err != nil {
				return fmt.Errorf("api_socket %s: %w", cfg.APISocket, err)
			}
			defer os.Remove(cfg.APISocket)
			go http.Serve(al, api.Handler(a))
			log.Info("agent running", "metrics", ml.Addr().String(), "socket", cfg.APISocket, "interval", cfg.Schedule.Interval.D())
			return a.Run(ctx)
		},
	}
	f.register(cmd)
	return cmd
}

func newBackupCmd() *cobra.Command {
	var f agentFlags
	var users []string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Run one backup now and commit a restore point",
		Long: `Backs up every mailbox of the tenant (or only --user ones; the others are
carried over unchanged) and commits one snapshot. Prints what was done and
what did not complete. Exit code 1 when the run failed, 3 when it completed
only partly.`,
		Args: cobra.NoArgs,
		RunE: f.run(func(cmd *cobra.Command, _ []string, svc api.Service) error {
			rep, err := svc.Backup(cmd.Context(), agent.BackupRequest{Users: users})
			if rep != nil && (err == nil || rep.Snapshot != "") {
				if f.json {
					printJSON(cmd.OutOrStdout(), rep)
				} else {
					printBackup(cmd.OutOrStdout(), rep)
				}
			}
			if err != nil {
				return err
			}
			if rep.Result != "success" {
				return exitError{exitDegraded, fmt.Errorf("backup %s: %d mailboxes failed, %d items not completed; they are retried on the next run", rep.Result, rep.Failed, rep.FailedItems)}
			}
			return nil
		}),
	}
	f.register(cmd)
	cmd.Flags().StringSliceVar(&users, "user", nil, "back up only this mailbox (UPN or id; repeatable)")
	return cmd
}

func printBackup(w io.Writer, r *agent.BackupReport) {
	fmt.Fprintf(w, "snapshot %s (%s) in %.1fs, retained until %s\n", r.Snapshot, r.Result, r.Seconds, r.RetainUntil.Format("2006-01-02"))
	fmt.Fprintf(w, "mailboxes %d backed up, %d failed, %d departed\n", r.Mailboxes, r.Failed, len(r.Departed))
	fmt.Fprintf(w, "items %d (%d new or changed, %d unchanged, %d moved, %d removed, %d not completed)\n", r.Items, r.NewItems, r.Carried, r.Moved, r.Removed, r.FailedItems)
	fmt.Fprintf(w, "downloaded %s, stored %s new; %d Graph requests, %d throttled\n", units.Bytes(r.Bytes), units.Bytes(r.StoredBytes), r.Requests, r.Throttled)
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  not completed:", e)
	}
}

func newSnapshotsCmd() *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "snapshots",
		Short: "List restore points",
		Args:  cobra.NoArgs,
		RunE: f.run(func(cmd *cobra.Command, _ []string, svc api.Service) error {
			snaps, err := svc.Snapshots(cmd.Context())
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), snaps)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SNAPSHOT\tCREATED\tRESULT\tITEMS\tSIZE\tRETAINED UNTIL")
			for _, s := range snaps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Created.Format("2006-01-02 15:04"), s.Result, s.Items, units.Bytes(s.Bytes), s.RetainUntil.Format("2006-01-02"))
			}
			return tw.Flush()
		}),
	}
	f.register(cmd)
	return cmd
}

func newLsCmd() *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "ls SNAPSHOT [PATH]",
		Short: "Browse a restore point: users, then Mail/Contacts/Calendar, then folders and items",
		Long: `Lists one level of a snapshot by display path, like a directory:
  strongroom ls latest
  strongroom ls latest alice@contoso.com/Mail/Inbox
SNAPSHOT is an id, a unique prefix, or "latest".`,
		Args: snapshotFirst(cobra.RangeArgs(1, 2)),
		RunE: f.run(func(cmd *cobra.Command, args []string, svc api.Service) error {
			dir := ""
			if len(args) == 2 {
				dir = args[1]
			}
			id, nodes, err := svc.List(cmd.Context(), args[0], dir)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"snapshot": id, "entries": nodes})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, n := range nodes {
				if n.Leaf != nil && n.Items == 1 {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Name, units.Bytes(n.Bytes), n.Leaf.Meta[catalog.MetaDate], n.Leaf.Path)
				} else {
					fmt.Fprintf(tw, "%s/\t%d items\t%s\t\n", n.Name, n.Items, units.Bytes(n.Bytes))
				}
			}
			return tw.Flush()
		}),
	}
	f.register(cmd)
	return cmd
}

func newFindCmd() *cobra.Command {
	var f agentFlags
	var q catalog.Query
	var snapshot, after, before string
	var limit int
	cmd := &cobra.Command{
		Use:   "find",
		Short: "Search a restore point by user, folder, subject, sender and date",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			return snapshotArg(snapshot, "strongroom snapshots")
		},
		RunE: f.run(func(cmd *cobra.Command, _ []string, svc api.Service) error {
			var err error
			if q.After, err = parseDay(after); err != nil {
				return usageError{fmt.Errorf("--after: %w", err)}
			}
			if q.Before, err = parseDay(before); err != nil {
				return usageError{fmt.Errorf("--before: %w", err)}
			}
			id, entries, err := svc.Find(cmd.Context(), snapshot, q, limit)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"snapshot": id, "entries": entries})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "DATE\tFROM\tSUBJECT\tFOLDER\tITEM\n")
			for _, e := range entries {
				m := e.Meta
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m[catalog.MetaDate], m[catalog.MetaFrom], m[catalog.MetaSubject], m[catalog.MetaFolder], e.Path)
			}
			fmt.Fprintf(tw, "%d items in snapshot %s\n", len(entries), id)
			return tw.Flush()
		}),
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&snapshot, "snapshot", "latest", "snapshot to search")
	fl.StringVar(&q.User, "user", "", "mailbox (UPN or id)")
	fl.StringVar(&q.Kind, "kind", "", "message, contact or event")
	fl.StringVar(&q.Folder, "folder", "", "folder display path prefix, e.g. Inbox/Projects")
	fl.StringVar(&q.Subject, "subject", "", "subject contains")
	fl.StringVar(&q.From, "from", "", "sender contains")
	fl.StringVar(&after, "after", "", "date on or after (YYYY-MM-DD or RFC 3339)")
	fl.StringVar(&before, "before", "", "date before (YYYY-MM-DD or RFC 3339)")
	fl.IntVar(&limit, "limit", 1000, "stop after this many results (0: all)")
	return cmd
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, errors.New("use YYYY-MM-DD or an RFC 3339 time")
	}
	return t, nil
}

// snapshotFirst checks the positional arguments with check and then
// refuses an empty SNAPSHOT, the first of them.
func snapshotFirst(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return err
		}
		return snapshotArg(args[0], "strongroom snapshots")
	}
}

// selectionFlags name what to restore or export.
func selectionFlags(cmd *cobra.Command, s *agent.Selection) {
	fl := cmd.Flags()
	fl.StringVar(&s.User, "user", "", "source mailbox (UPN or id)")
	fl.StringVar(&s.Folder, "folder", "", "folder display path, restored recursively (e.g. \"Inbox/Signed Contracts\")")
	fl.StringVar(&s.Kind, "kind", "", "mail, contacts or calendar (default: all)")
	fl.StringSliceVar(&s.Paths, "item", nil, "one item by its path as shown by ls/find (repeatable)")
}

func newRestoreCmd() *cobra.Command {
	var f agentFlags
	var req agent.RestoreRequest
	cmd := &cobra.Command{
		Use:   "restore SNAPSHOT",
		Short: "Restore a message, folder, contacts, calendar or whole mailbox into a mailbox",
		Long: `Writes items from SNAPSHOT back into Exchange Online, by default into a new
folder "Restored <snapshot time>" of the original mailbox, recreating the
folder structure beneath it. Uses the restore app's credentials when the
configuration has restore_app.
  strongroom restore latest --user alice@contoso.com --folder "Inbox/Signed Contracts"
  strongroom restore 20261126T0200 --user alice@contoso.com --target-user bob@contoso.com`,
		Args: snapshotFirst(cobra.ExactArgs(1)),
		RunE: f.run(func(cmd *cobra.Command, args []string, svc api.Service) error {
			req.Snapshot = args[0]
			rep, err := svc.Restore(cmd.Context(), req)
			if err != nil && (rep == nil || rep.Selected == 0) {
				return err
			}
			if f.json {
				printJSON(cmd.OutOrStdout(), rep)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "restored %d of %d items from %s into %q of %s in %.1fs (%d skipped, %d replaced, %d failed)\n",
					rep.Restored, rep.Selected, rep.Snapshot, rep.TargetFolder, rep.TargetUser, rep.Seconds, rep.Skipped, rep.Replaced, rep.Failed)
				for _, e := range rep.Errors {
					fmt.Fprintln(cmd.OutOrStdout(), "  failed:", e)
				}
			}
			if err != nil {
				return err
			}
			if rep.Failed > 0 {
				return exitError{exitDegraded, fmt.Errorf("%d items were not restored", rep.Failed)}
			}
			return nil
		}),
	}
	f.register(cmd)
	selectionFlags(cmd, &req.Selection)
	cmd.Flags().StringVar(&req.TargetUser, "target-user", "", "restore into this mailbox instead (UPN or id)")
	cmd.Flags().StringVar(&req.TargetFolder, "target-folder", "", "name of the new folder to restore into")
	cmd.Flags().StringVar(&req.Collision, "collision", "skip", "when the item already exists there: skip, copy or replace")
	return cmd
}

func newExportCmd() *cobra.Command {
	var f agentFlags
	var req agent.ExportRequest
	cmd := &cobra.Command{
		Use:   "export SNAPSHOT --format eml|mbox|maildir|vcf|ics --dest DIR",
		Short: "Export mail as EML/mbox/Maildir, contacts as VCF, calendars as ICS",
		Args:  snapshotFirst(cobra.ExactArgs(1)),
		RunE: f.run(func(cmd *cobra.Command, args []string, svc api.Service) error {
			req.Snapshot = args[0]
			rep, err := svc.Export(cmd.Context(), req)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d items (%s) from %s as %s into %d files under %s\n", rep.Items, units.Bytes(rep.Bytes), rep.Snapshot, rep.Format, len(rep.Files), req.Dest)
			return nil
		}),
	}
	f.register(cmd)
	selectionFlags(cmd, &req.Selection)
	cmd.Flags().StringVar(&req.Format, "format", "mbox", "eml, mbox or maildir for mail; vcf for contacts; ics for calendars")
	cmd.Flags().StringVar(&req.Dest, "dest", "", "destination directory")
	return cmd
}

func newRestoreTestCmd() *cobra.Command {
	var f agentFlags
	var sample int
	cmd := &cobra.Command{
		Use:   "restore-test",
		Short: "Restore a random sample of the latest backup to scratch space and verify it",
		Args:  cobra.NoArgs,
		RunE: f.run(func(cmd *cobra.Command, _ []string, svc api.Service) error {
			rep, err := svc.RestoreTest(cmd.Context(), sample)
			if err != nil {
				return err
			}
			if f.json {
				printJSON(cmd.OutOrStdout(), rep)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "restore test of %s: %d items (%s) verified, %d failed\n", rep.Snapshot, rep.Items, units.Bytes(rep.Bytes), len(rep.Failures))
				for _, e := range rep.Failures {
					fmt.Fprintln(cmd.OutOrStdout(), "  failed:", e)
				}
			}
			if !rep.OK {
				return exitError{exitDegraded, errors.New("restore test failed: run 'strongroom vault scrub --repair' and check the disks")}
			}
			return nil
		}),
	}
	f.register(cmd)
	cmd.Flags().IntVar(&sample, "sample", 50, "number of random items to restore")
	return cmd
}

func newStatusCmd() *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show protection status: last backups, coverage, disks, alerts",
		Args:  cobra.NoArgs,
		RunE: f.run(func(cmd *cobra.Command, _ []string, svc api.Service) error {
			st, err := svc.Status(cmd.Context())
			if err != nil {
				return err
			}
			if f.json {
				printJSON(cmd.OutOrStdout(), st)
			} else {
				w := cmd.OutOrStdout()
				if s := st.LastSuccess; s != nil {
					fmt.Fprintf(w, "last successful backup: %s (%s ago), %d items\n", s.ID, units.Age(time.Duration(s.AgeSeconds*float64(time.Second))), s.Items)
				} else {
					fmt.Fprintln(w, "last successful backup: none yet")
				}
				fmt.Fprintf(w, "vault %s: layout %s, %d snapshots, %s used of %s, dedup %.2fx\n", st.Vault.VaultID[:8], st.Vault.Layout, st.Vault.Snapshots,
					units.Bytes(st.Vault.UsedBytes), units.Bytes(st.Vault.CapacityBytes), st.Vault.DedupRatio)
				if len(st.Alerts) == 0 {
					fmt.Fprintln(w, "alerts: none")
				}
				for _, a := range st.Alerts {
					fmt.Fprintln(w, "alert:", a)
				}
			}
			if len(st.Alerts) > 0 {
				return exitError{exitDegraded, fmt.Errorf("%d alerts: %s", len(st.Alerts), strings.Join(st.Alerts, "; "))}
			}
			return nil
		}),
	}
	f.register(cmd)
	return cmd
}

// run wraps a command body that needs the agent: it connects (or opens the
// agent in-process), runs fn and lets go of the agent afterwards.
func (f *agentFlags) run(fn func(cmd *cobra.Command, args []string, svc api.Service) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		svc, done, err := f.service()
		if err != nil {
			return err
		}
		defer done()
		return fn(cmd, args, svc)
	}
}
