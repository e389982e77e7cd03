package agentctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/outcome"
)

// degraded is the error of work done only in part.
func degraded(format string, args ...any) error {
	return outcome.Degraded{Err: fmt.Errorf(format, args...)}
}

// failedSome is the verdict on a report that says failed things were not
// done (format takes the count): outcome.Degraded when there are any.
func failedSome(failed int, format string) error {
	if failed > 0 {
		return degraded(format, failed)
	}
	return nil
}

// followed runs call while following the agent's job of kind.
func followed[R any](ctx context.Context, svc api.Service, o outcome.Output, kind string, call func(context.Context) (*R, error)) (*R, error) {
	stop := follow(ctx, svc, o, kind)
	r, err := call(ctx)
	stop(err == nil)
	return r, err
}

// shown shows the report r an operation answered with err. A report that
// came with an error is shown only when kept (nil: never) says it holds
// work done; then the error stands. Otherwise the error is the showing's,
// or verdict's (nil: none) on the report.
func shown[R any](o outcome.Output, r *R, err error, kept func(*R) bool, text func(io.Writer, *R), verdict func(*R) error) error {
	if err != nil && (r == nil || kept == nil || !kept(r)) {
		return err
	}
	if serr := outcome.Show(o, r, text); err == nil {
		err = serr
	}
	if err == nil && verdict != nil {
		err = verdict(r)
	}
	return err
}

// Backup runs one backup of users (every mailbox when empty) and writes
// its report, also when it failed after committing a snapshot. A run that
// completed only in part is outcome.Degraded.
func Backup(ctx context.Context, svc api.Service, o outcome.Output, users []string) error {
	r, err := followed(ctx, svc, o, "backup", func(ctx context.Context) (*api.BackupReport, error) {
		return svc.Backup(ctx, api.BackupRequest{Users: users})
	})
	return shown(o, r, err, func(r *api.BackupReport) bool { return r.Snapshot != "" }, writeBackup, func(r *api.BackupReport) error {
		if r.Result != "success" {
			return degraded("backup %s: %d units failed, %d items not completed; they are retried on the next run", r.Result, r.Failed, r.FailedItems)
		}
		return nil
	})
}

// Snapshots writes the restore points.
func Snapshots(ctx context.Context, svc api.Service, o outcome.Output) error {
	snaps, err := svc.Snapshots(ctx)
	if err != nil {
		return err
	}
	return outcome.Show(o, snaps, writeSnapshots)
}

// List writes one level of restore point snapshot below the display path
// dir ("" for its users).
func List(ctx context.Context, svc api.Service, o outcome.Output, snapshot, dir string) error {
	var l listing
	var err error
	if l.Snapshot, l.Entries, err = svc.List(ctx, snapshot, dir); err != nil {
		return err
	}
	return outcome.Show(o, l, writeList)
}

// Find writes what a search of restore point snapshot found, at most
// limit items (0: all).
func Find(ctx context.Context, svc api.Service, o outcome.Output, snapshot string, q api.Query, limit int) error {
	var f found
	var err error
	if f.Snapshot, f.Entries, err = svc.Find(ctx, snapshot, q, limit); err != nil {
		return err
	}
	return outcome.Show(o, f, writeFind)
}

// Restore writes items back into a mailbox and says what it did, also
// when it failed after restoring some. Items not restored are
// outcome.Degraded.
func Restore(ctx context.Context, svc api.Service, o outcome.Output, req api.RestoreRequest) error {
	r, err := followed(ctx, svc, o, "restore", func(ctx context.Context) (*api.RestoreReport, error) { return svc.Restore(ctx, req) })
	return shown(o, r, err, func(r *api.RestoreReport) bool { return r.Selected > 0 }, writeRestore, func(r *api.RestoreReport) error {
		return failedSome(r.Failed, "%d items were not restored")
	})
}

// Rollback puts a drive back as it was before a time and writes what it
// did (or would do, dry). Files not put back are outcome.Degraded.
func Rollback(ctx context.Context, svc api.Service, o outcome.Output, req api.RollbackRequest) error {
	r, err := followed(ctx, svc, o, "rollback", func(ctx context.Context) (*api.RollbackReport, error) { return svc.Rollback(ctx, req) })
	return shown(o, r, err, nil, writeRollback, func(r *api.RollbackReport) error {
		return failedSome(r.Failed, "%d files were not rolled back")
	})
}

// Export writes the selected items as files below req.Dest and says what
// it wrote.
func Export(ctx context.Context, svc api.Service, o outcome.Output, req api.ExportRequest) error {
	r, err := followed(ctx, svc, o, "export", func(ctx context.Context) (*api.ExportReport, error) { return svc.Export(ctx, req) })
	return shown(o, r, err, nil, func(w io.Writer, r *api.ExportReport) { writeExport(w, r, req.Dest) }, nil)
}

// RestoreTest restores sample random items of the latest backup to
// scratch space and verifies them; a failed test is outcome.Degraded.
func RestoreTest(ctx context.Context, svc api.Service, o outcome.Output, sample int) error {
	r, err := followed(ctx, svc, o, "restore-test", func(ctx context.Context) (*api.RestoreTestReport, error) {
		return svc.RestoreTest(ctx, sample)
	})
	return shown(o, r, err, nil, writeRestoreTest, func(r *api.RestoreTestReport) error {
		if !r.OK {
			return degraded("restore test failed: run 'strongroom vault scrub --repair' and check the disks")
		}
		return nil
	})
}

// Status writes the protection status; open alerts are outcome.Degraded.
func Status(ctx context.Context, svc api.Service, o outcome.Output) error {
	st, err := svc.Status(ctx)
	return shown(o, st, err, nil, writeStatus, func(st *api.Status) error {
		if len(st.Alerts) > 0 {
			return degraded("%d alerts: %s", len(st.Alerts), strings.Join(st.Alerts, "; "))
		}
		return nil
	})
}

// Report writes the protection report of the period up to the agent's
// now.
func Report(ctx context.Context, svc api.Service, o outcome.Output, period time.Duration) error {
	st, err := svc.Status(ctx)
	if err != nil {
		return err
	}
	r, err := svc.Report(ctx, st.Now.Add(-period))
	if err != nil {
		return err
	}
	return outcome.Show(o, r, writeReport)
}
