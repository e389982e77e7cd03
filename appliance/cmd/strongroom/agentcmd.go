package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/agentctl"
	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/daemon"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/units"
)

func init() {
	register(newAgentCmd, newBackupCmd, newSnapshotsCmd, newLsCmd, newFindCmd, newRestoreCmd, newRollbackCmd,
		newExportCmd, newRestoreTestCmd, newStatusCmd, newReportCmd, newDeleteCmd)
}

// listRestorePoints is the command that lists the restore points.
const listRestorePoints = "strongroom snapshots"

// agentFlags gives cmd the flags of every command that talks to the agent:
// its configuration file and --json.
func agentFlags(cmd *cobra.Command) (configPath *string, asJSON *bool) {
	def := os.Getenv("STRONGROOM_CONFIG")
	if def == "" {
		def = defaultConfigPath
	}
	return cmd.Flags().String("config", def, "agent configuration file (env STRONGROOM_CONFIG)"),
		cmd.Flags().Bool("json", false, "print JSON instead of text")
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// onAgent makes c a command that runs fn with the agent: it connects to
// the daemon (or opens the agent in this process), runs fn with the agent
// and where to write, and lets go of the agent afterwards.
func onAgent(c *cobra.Command, fn func(ctx context.Context, args []string, svc api.Service, o outcome.Output) error) *cobra.Command {
	configPath, asJSON := agentFlags(c)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, err := config.Load(*configPath)
		if err != nil {
			return err
		}
		svc, done, err := daemon.Connect(cfg, daemon.Local{Log: quietLog()})
		if err != nil {
			return err
		}
		defer done()
		return fn(cmd.Context(), args, svc, output(cmd, *asJSON))
	}
	return c
}

// noArgs adapts an agent operation that takes no arguments to onAgent.
func noArgs(op func(ctx context.Context, svc api.Service, o outcome.Output) error) func(context.Context, []string, api.Service, outcome.Output) error {
	return func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) error { return op(ctx, svc, o) }
}

func newAgentCmd() *cobra.Command {
	c := command("agent", "Run the backup agent daemon (schedule, metrics endpoint, API socket)", "agent", cobra.NoArgs)
	configPath, _ := agentFlags(c)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		return daemon.Serve(cmd.Context(), *configPath, version, cmd.ErrOrStderr())
	}
	return c
}

func newBackupCmd() *cobra.Command {
	var users []string
	c := command("backup", "Run one backup now and commit a restore point", "backup", cobra.NoArgs)
	onAgent(c, func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) error {
		return agentctl.Backup(ctx, svc, o, users)
	})
	c.Flags().StringSliceVar(&users, "user", nil, "back up only this mailbox (UPN or id; repeatable)")
	return c
}

func newSnapshotsCmd() *cobra.Command {
	return onAgent(command("snapshots", "List restore points", "", cobra.NoArgs), noArgs(agentctl.Snapshots))
}

func newLsCmd() *cobra.Command {
	c := command("ls SNAPSHOT [PATH]", "Browse a restore point: users, then Mail/Contacts/Calendar, then folders and items", "ls",
		snapshotFirst(listRestorePoints, cobra.RangeArgs(1, 2)))
	return onAgent(c, func(ctx context.Context, args []string, svc api.Service, o outcome.Output) error {
		return agentctl.List(ctx, svc, o, args[0], strings.Join(args[1:], ""))
	})
}

func newFindCmd() *cobra.Command {
	var q api.Query
	var snapshot, after, before string
	var limit int
	c := command("find", "Search a restore point by user, folder, subject, sender and date", "", cobra.NoArgs)
	c.PreRunE = func(*cobra.Command, []string) error { return snapshotArg(snapshot, listRestorePoints) }
	onAgent(c, func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) (err error) {
		if q.After, err = parseDay("--after", after); err != nil {
			return err
		}
		if q.Before, err = parseDay("--before", before); err != nil {
			return err
		}
		return agentctl.Find(ctx, svc, o, snapshot, q, limit)
	})
	fl := c.Flags()
	fl.StringVar(&snapshot, "snapshot", "latest", "snapshot to search")
	fl.StringVar(&q.User, "user", "", "mailbox (UPN or id)")
	fl.StringVar(&q.Kind, "kind", "", "message, contact or event")
	fl.StringVar(&q.Folder, "folder", "", "folder display path prefix, e.g. Inbox/Projects")
	fl.StringVar(&q.Subject, "subject", "", "subject contains")
	fl.StringVar(&q.From, "from", "", "sender contains")
	fl.StringVar(&after, "after", "", "date on or after (YYYY-MM-DD or RFC 3339)")
	fl.StringVar(&before, "before", "", "date before (YYYY-MM-DD or RFC 3339)")
	fl.IntVar(&limit, "limit", 1000, "stop after this many results (0: all)")
	return c
}

// parseDay reads the date of flag, when given.
func parseDay(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := units.ParseDate(s)
	if err != nil {
		return t, usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return t, nil
}

// selection makes c take the SNAPSHOT argument and the flags that name
// what to restore or export into s.
func selection(c *cobra.Command, s *api.Selection) *cobra.Command {
	c.Args = snapshotFirst(listRestorePoints, cobra.ExactArgs(1))
	c.PreRun = func(_ *cobra.Command, args []string) { s.Snapshot = args[0] }
	fl := c.Flags()
	fl.StringVar(&s.User, "user", "", "source user: their mailbox or OneDrive (UPN or id), or a SharePoint site (URL or id)")
	fl.StringVar(&s.Folder, "folder", "", "folder display path, restored recursively (e.g. \"Inbox/Signed Contracts\", \"Dokumente/Projekte\")")
	fl.StringVar(&s.Kind, "kind", "", "mail, contacts, calendar, files, lists, pages, permissions (a site's), team (a whole team), or (export only) channels and conversations (default: every kind; a user's mail and files go separately; a site's all together)")
	fl.StringSliceVar(&s.Paths, "item", nil, "one item by its path as shown by ls/find (repeatable)")
	return c
}

func newRestoreCmd() *cobra.Command {
	var req api.RestoreRequest
	c := selection(command("restore SNAPSHOT", "Restore mail, contacts, calendars, OneDrive or library files into a mailbox, drive or site", "restore", nil), &req.Selection)
	onAgent(c, func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) error {
		return agentctl.Restore(ctx, svc, o, req)
	})
	c.Flags().StringVar(&req.TargetUser, "target-user", "", "restore into this user's mailbox or drive instead (UPN or id), or for library files this site (URL or id)")
	c.Flags().StringVar(&req.TargetFolder, "target-folder", "", "parent folder to restore beneath (default: the original places; mail, contacts, calendars: the selected --folder goes beneath it by its own name)")
	c.Flags().StringVar(&req.Collision, "collision", "skip", "when the item already exists there: skip, copy or replace")
	c.Flags().StringVar(&req.Version, "version", "", "files: restore this earlier version of each selected file (an id under NAME.versions/ in ls)")
	c.Flags().BoolVar(&req.AllVersions, "all-versions", false, "files: recreate each file's history, its earlier versions oldest first, then the file")
	c.Flags().BoolVar(&req.Permissions, "permissions", false, "files and sites: re-apply the files' sharing and the site's permissions as they were (off by default: it can re-expose what was unshared on purpose)")
	c.Flags().Var(units.DateFlag{T: &req.From}, "from", "Teams channels: only threads with a message or reply created at or after TIME (YYYY-MM-DD or RFC 3339): their message, and their replies in the window")
	c.Flags().Var(units.DateFlag{T: &req.To}, "to", "Teams channels: only threads with a message or reply created before TIME (with --from: in [--from, --to))")
	return c
}

func newRollbackCmd() *cobra.Command {
	var req api.RollbackRequest
	var before string
	c := command("rollback --user U | --site S [--library L] --before TIME",
		"Put a user's OneDrive or a site's libraries back as they were before a time (ransomware, a bad sync)", "rollback", cobra.NoArgs)
	// Which of --user, --site, --library and --before go together is the
	// agent's to say (a refusal naming them).
	c.PreRunE = func(*cobra.Command, []string) (err error) {
		req.Before, err = parseDay("--before", before)
		return err
	}
	onAgent(c, func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) error {
		return agentctl.Rollback(ctx, svc, o, req)
	})
	fl := c.Flags()
	fl.StringVar(&req.User, "user", "", "the OneDrive's owner (UPN or id)")
	fl.StringVar(&req.Site, "site", "", "a SharePoint site (URL or id): roll back its document libraries instead")
	fl.StringVar(&req.Library, "library", "", "with --site: only the library of this name")
	fl.StringVar(&before, "before", "", "when the damage began: YYYY-MM-DD or RFC 3339; the last restore point before it is used")
	fl.BoolVar(&req.DryRun, "dry-run", false, "say what would be restored and quarantined, change nothing")
	fl.Bool("drive", true, "with --user: roll back the user's OneDrive (the default)")
	return c
}

func newExportCmd() *cobra.Command {
	var req api.ExportRequest
	var split string
	c := selection(command("export SNAPSHOT --format eml|mbox|maildir|vcf|ics|pst|tar|files|csv|json|html --dest DIR",
		"Export mail as EML/mbox/Maildir, contacts as VCF, calendars as ICS, mailboxes as Outlook PST, files as tar or a tree, lists as CSV or JSON, Teams channels as HTML, group conversations as mbox", "export", nil), &req.Selection)
	onAgent(c, func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) error {
		return agentctl.Export(ctx, svc, o, req)
	})
	// A bad size is refused before the agent is looked for.
	setSnapshot := c.PreRun
	c.PreRun = nil
	c.PreRunE = func(cmd *cobra.Command, args []string) error {
		setSnapshot(cmd, args)
		n, err := units.ParseBytes(split)
		if err != nil {
			return usageError{fmt.Errorf("--split-size: %w", err)}
		}
		req.SplitSize = n
		return nil
	}
	c.Flags().StringVar(&req.Format, "format", "mbox", "eml, mbox or maildir for mail; vcf for contacts; ics for calendars; pst for whole mailboxes (mail, contacts, calendars); tar or files for files (with manifest.json); csv or json for lists; html for Teams channels (with JSON); mbox with --kind conversations for group conversations")
	c.Flags().StringVar(&req.Dest, "dest", "", "destination directory")
	c.Flags().StringVar(&split, "split-size", "20GB", "with --format pst: continue in a numbered file past this size (e.g. 4GB, 500MiB)")
	return c
}

func newRestoreTestCmd() *cobra.Command {
	var sample int
	c := command("restore-test", "Restore a random sample of the latest backup to scratch space and verify it", "", cobra.NoArgs)
	onAgent(c, func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) error {
		return agentctl.RestoreTest(ctx, svc, o, sample)
	})
	c.Flags().IntVar(&sample, "sample", 50, "number of random items to restore")
	return c
}

func newStatusCmd() *cobra.Command {
	return onAgent(command("status", "Show protection status: last backups, coverage, disks, alerts", "", cobra.NoArgs), noArgs(agentctl.Status))
}

func newReportCmd() *cobra.Command {
	var since string
	c := command("report", "Protection report for an auditor or customer: backups, failures, restore tests, retention", "", cobra.NoArgs)
	onAgent(c, func(ctx context.Context, _ []string, svc api.Service, o outcome.Output) error {
		d, err := units.ParseDuration(since)
		if err != nil {
			return usageError{fmt.Errorf("--since: %w", err)}
		}
		return agentctl.Report(ctx, svc, o, d)
	})
	c.Flags().StringVar(&since, "since", "30d", "period to cover, e.g. 1d, 30d, 1y")
	return c
}

func newDeleteCmd() *cobra.Command {
	c := command("delete SNAPSHOT", "Ask to delete a restore point (refused while it is retention-locked)", "delete",
		snapshotFirst(listRestorePoints, cobra.ExactArgs(1)))
	return onAgent(c, func(ctx context.Context, args []string, svc api.Service, _ outcome.Output) error {
		return svc.DeleteSnapshot(ctx, args[0])
	})
}
