package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/agentview"
	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/daemon"
)

func init() {
	for _, mk := range []func() *cobra.Command{newAgentCmd, newBackupCmd, newSnapshotsCmd, newLsCmd, newFindCmd,
		newRestoreCmd, newExportCmd, newRestoreTestCmd, newStatusCmd, newReportCmd, newDeleteCmd} {
		register(mk)
	}
}

// agentFlags are shared by every command that talks to the agent.
type agentFlags struct {
	config string
	json   bool
}

func (f *agentFlags) register(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().StringVar(&f.config, "config", envOr("STRONGROOM_CONFIG", defaultConfigPath), "agent configuration file (env STRONGROOM_CONFIG)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON instead of text")
	return cmd
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

// question is one call to the agent and how a command shows the answer:
// JSON with --json, text otherwise.
type question[T any] struct {
	ask  func(cmd *cobra.Command, args []string, svc api.Service) (T, error)
	text func(w io.Writer, answer T)
	// partial, when set, says whether an answer that came with an error
	// is still worth showing before the error (a backup that committed a
	// snapshot, a restore that wrote some items).
	partial func(T) bool
	// verdict, when set, turns a shown answer into the exit error (a
	// partial backup, failed items, open alerts).
	verdict func(T) error
}

// body is the command body that asks q with the flags of f.
func (q question[T]) body(f *agentFlags) func(*cobra.Command, []string) error {
	return f.run(func(cmd *cobra.Command, args []string, svc api.Service) error {
		answer, err := q.ask(cmd, args, svc)
		if err != nil && (q.partial == nil || !q.partial(answer)) {
			return err
		}
		if f.json {
			printJSON(cmd.OutOrStdout(), answer)
		} else {
			q.text(cmd.OutOrStdout(), answer)
		}
		if err != nil || q.verdict == nil {
			return err
		}
		return q.verdict(answer)
	})
}

// degraded is the exit error of a command that did its work only in part.
func degraded(format string, args ...any) error {
	return exitError{exitDegraded, fmt.Errorf(format, args...)}
}

func newAgentCmd() *cobra.Command {
	var f agentFlags
	return f.register(&cobra.Command{
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
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return daemon.Run(ctx, cfg, version, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
		},
	})
}

func newBackupCmd() *cobra.Command {
	var f agentFlags
	var users []string
	cmd := f.register(&cobra.Command{
		Use:   "backup",
		Short: "Run one backup now and commit a restore point",
		Long: `Backs up every mailbox of the tenant (or only --user ones; the others are
carried over unchanged) and commits one snapshot. Prints what was done and
what did not complete. Exit code 1 when the run failed, 3 when it completed
only partly.`,
		Args: cobra.NoArgs,
		RunE: question[*agent.BackupReport]{
			ask: func(cmd *cobra.Command, _ []string, svc api.Service) (*agent.BackupReport, error) {
				return svc.Backup(cmd.Context(), agent.BackupRequest{Users: users})
			},
			text:    agentview.Backup,
			partial: func(r *agent.BackupReport) bool { return r != nil && r.Snapshot != "" },
			verdict: func(r *agent.BackupReport) error {
				if r.Result != "success" {
					return degraded("backup %s: %d mailboxes failed, %d items not completed; they are retried on the next run", r.Result, r.Failed, r.FailedItems)
				}
				return nil
			},
		}.body(&f),
	})
	cmd.Flags().StringSliceVar(&users, "user", nil, "back up only this mailbox (UPN or id; repeatable)")
	return cmd
}

func newSnapshotsCmd() *cobra.Command {
	var f agentFlags
	return f.register(&cobra.Command{
		Use:   "snapshots",
		Short: "List restore points",
		Args:  cobra.NoArgs,
		RunE: question[[]agent.SnapshotSummary]{
			ask: func(cmd *cobra.Command, _ []string, svc api.Service) ([]agent.SnapshotSummary, error) {
				return svc.Snapshots(cmd.Context())
			},
			text: agentview.Snapshots,
		}.body(&f),
	})
}

func newLsCmd() *cobra.Command {
	var f agentFlags
	return f.register(&cobra.Command{
		Use:   "ls SNAPSHOT [PATH]",
		Short: "Browse a restore point: users, then Mail/Contacts/Calendar, then folders and items",
		Long: `Lists one level of a snapshot by display path, like a directory:
  strongroom ls latest
  strongroom ls latest alice@contoso.com/Mail/Inbox
SNAPSHOT is an id, a unique prefix, or "latest".`,
		Args: snapshotFirst(cobra.RangeArgs(1, 2)),
		RunE: question[agentview.Listing]{
			ask: func(cmd *cobra.Command, args []string, svc api.Service) (l agentview.Listing, err error) {
				l.Snapshot, l.Entries, err = svc.List(cmd.Context(), args[0], strings.Join(args[1:], ""))
				return l, err
			},
			text: agentview.List,
		}.body(&f),
	})
}

func newFindCmd() *cobra.Command {
	var f agentFlags
	var q catalog.Query
	var snapshot, after, before string
	var limit int
	cmd := f.register(&cobra.Command{
		Use:     "find",
		Short:   "Search a restore point by user, folder, subject, sender and date",
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return snapshotArg(snapshot, "strongroom snapshots") },
		RunE: question[agentview.Found]{
			ask: func(cmd *cobra.Command, _ []string, svc api.Service) (found agentview.Found, err error) {
				if q.After, err = parseDay("--after", after); err != nil {
					return found, err
				}
				if q.Before, err = parseDay("--before", before); err != nil {
					return found, err
				}
				found.Snapshot, found.Entries, err = svc.Find(cmd.Context(), snapshot, q, limit)
				return found, err
			},
			text: agentview.Find,
		}.body(&f),
	})
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

// parseDay reads the date of flag, when given.
func parseDay(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := config.ParseDate(s)
	if err != nil {
		return t, usageError{fmt.Errorf("%s: %w", flag, err)}
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
	cmd := f.register(&cobra.Command{
		Use:   "restore SNAPSHOT",
		Short: "Restore a message, folder, contacts, calendar or whole mailbox into a mailbox",
		Long: `Writes items from SNAPSHOT back into Exchange Online, by default into a new
folder "Restored <snapshot time>" of the original mailbox, recreating the
folder structure beneath it. Uses the restore app's credentials when the
configuration has restore_app.
  strongroom restore latest --user alice@contoso.com --folder "Inbox/Signed Contracts"
  strongroom restore 20261126T0200 --user alice@contoso.com --target-user bob@contoso.com`,
		Args: snapshotFirst(cobra.ExactArgs(1)),
		RunE: question[*agent.RestoreReport]{
			ask: func(cmd *cobra.Command, args []string, svc api.Service) (*agent.RestoreReport, error) {
				req.Snapshot = args[0]
				return svc.Restore(cmd.Context(), req)
			},
			text:    agentview.Restore,
			partial: func(r *agent.RestoreReport) bool { return r != nil && r.Selected > 0 },
			verdict: func(r *agent.RestoreReport) error {
				if r.Failed > 0 {
					return degraded("%d items were not restored", r.Failed)
				}
				return nil
			},
		}.body(&f),
	})
	selectionFlags(cmd, &req.Selection)
	cmd.Flags().StringVar(&req.TargetUser, "target-user", "", "restore into this mailbox instead (UPN or id)")
	cmd.Flags().StringVar(&req.TargetFolder, "target-folder", "", "name of the new folder to restore into")
	cmd.Flags().StringVar(&req.Collision, "collision", "skip", "when the item already exists there: skip, copy or replace")
	return cmd
}

func newExportCmd() *cobra.Command {
	var f agentFlags
	var req agent.ExportRequest
	cmd := f.register(&cobra.Command{
		Use:   "export SNAPSHOT --format eml|mbox|maildir|vcf|ics --dest DIR",
		Short: "Export mail as EML/mbox/Maildir, contacts as VCF, calendars as ICS",
		Args:  snapshotFirst(cobra.ExactArgs(1)),
		RunE: question[*agent.ExportReport]{
			ask: func(cmd *cobra.Command, args []string, svc api.Service) (*agent.ExportReport, error) {
				req.Snapshot = args[0]
				return svc.Export(cmd.Context(), req)
			},
			text: func(w io.Writer, r *agent.ExportReport) { agentview.Export(w, r, req.Dest) },
		}.body(&f),
	})
	selectionFlags(cmd, &req.Selection)
	cmd.Flags().StringVar(&req.Format, "format", "mbox", "eml, mbox or maildir for mail; vcf for contacts; ics for calendars")
	cmd.Flags().StringVar(&req.Dest, "dest", "", "destination directory")
	return cmd
}

func newRestoreTestCmd() *cobra.Command {
	var f agentFlags
	var sample int
	cmd := f.register(&cobra.Command{
		Use:   "restore-test",
		Short: "Restore a random sample of the latest backup to scratch space and verify it",
		Args:  cobra.NoArgs,
		RunE: question[*agent.RestoreTestReport]{
			ask: func(cmd *cobra.Command, _ []string, svc api.Service) (*agent.RestoreTestReport, error) {
				return svc.RestoreTest(cmd.Context(), sample)
			},
			text: agentview.RestoreTest,
			verdict: func(r *agent.RestoreTestReport) error {
				if !r.OK {
					return degraded("restore test failed: run 'strongroom vault scrub --repair' and check the disks")
				}
				return nil
			},
		}.body(&f),
	})
	cmd.Flags().IntVar(&sample, "sample", 50, "number of random items to restore")
	return cmd
}

func newStatusCmd() *cobra.Command {
	var f agentFlags
	return f.register(&cobra.Command{
		Use:   "status",
		Short: "Show protection status: last backups, coverage, disks, alerts",
		Args:  cobra.NoArgs,
		RunE: question[*agent.Status]{
			ask: func(cmd *cobra.Command, _ []string, svc api.Service) (*agent.Status, error) {
				return svc.Status(cmd.Context())
			},
			text: agentview.Status,
			verdict: func(st *agent.Status) error {
				if len(st.Alerts) > 0 {
					return degraded("%d alerts: %s", len(st.Alerts), strings.Join(st.Alerts, "; "))
				}
				return nil
			},
		}.body(&f),
	})
}

func newReportCmd() *cobra.Command {
	var f agentFlags
	var since string
	cmd := f.register(&cobra.Command{
		Use:   "report",
		Short: "Protection report for an auditor or customer: backups, failures, restore tests, retention",
		Args:  cobra.NoArgs,
		RunE: question[*agent.Report]{
			ask: func(cmd *cobra.Command, _ []string, svc api.Service) (*agent.Report, error) {
				d, err := config.ParseDuration(since)
				if err != nil {
					return nil, usageError{fmt.Errorf("--since: %w", err)}
				}
				st, err := svc.Status(cmd.Context())
				if err != nil {
					return nil, err
				}
				return svc.Report(cmd.Context(), st.Now.Add(-d))
			},
			text: agentview.Report,
		}.body(&f),
	})
	cmd.Flags().StringVar(&since, "since", "30d", "period to cover, e.g. 1d, 30d, 1y")
	return cmd
}

func newDeleteCmd() *cobra.Command {
	var f agentFlags
	return f.register(&cobra.Command{
		Use:   "delete SNAPSHOT",
		Short: "Ask to delete a restore point (refused while it is retention-locked)",
		Long: `Deleting a restore point before its retain-until is refused, whoever asks,
and the refusal is counted in strongroom_retention_refusals_total. After it,
expiry is done by the warden (strongroom warden expire), never by the agent.`,
		Args: snapshotFirst(cobra.ExactArgs(1)),
		RunE: f.run(func(cmd *cobra.Command, args []string, svc api.Service) error {
			return svc.DeleteSnapshot(cmd.Context(), args[0])
		}),
	})
}
