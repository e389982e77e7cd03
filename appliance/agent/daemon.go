package agent

import (
	"context"
	"time"
)

// Run is the daemon loop: a backup every schedule interval (the first one
// at start when the last success is older than the interval), a restore
// test every restore-test interval and a scrub every scrub interval, until
// ctx ends. Failures are logged and reported through metrics; the loop
// goes on.
func (a *Agent) Run(ctx context.Context) error {
	sched := a.cfg.Schedule
	nextBackup := a.ticks()
	if st, err := a.Status(ctx); err == nil && st.LastSuccess != nil {
		if wait := sched.Interval.D() - time.Duration(st.LastSuccess.AgeSeconds*float64(time.Second)); wait > 0 {
			nextBackup = a.ticks().Add(wait)
		}
	}
	nextTest := a.ticks().Add(time.Minute)
	nextScrub := a.ticks().Add(sched.ScrubInterval.D())
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if did, err := a.handOver(ctx); err != nil {
			a.log.Error("hand-over to the warden", "err", err)
		} else if did {
			continue
		}
		now := a.ticks()
		switch {
		case !now.Before(nextBackup):
			nextBackup = now.Add(sched.Interval.D())
			rep, err := a.Backup(ctx, BackupRequest{})
			if err != nil {
				a.log.Error("backup failed", "err", err)
			} else {
				a.log.Info("backup done", "snapshot", rep.Snapshot, "result", rep.Result, "items", rep.Items,
					"new", rep.NewItems, "failed_units", rep.Failed, "seconds", int(rep.Seconds))
			}
		case !now.Before(nextTest):
			nextTest = now.Add(sched.RestoreTestInterval.D())
			rep, err := a.RestoreTest(ctx, 50)
			if err != nil {
				a.log.Warn("restore test not run", "err", err)
			} else {
				a.log.Info("restore test", "ok", rep.OK, "items", rep.Items, "failures", len(rep.Failures))
			}
		case !now.Before(nextScrub):
			nextScrub = now.Add(sched.ScrubInterval.D())
			rep, err := a.Scrub(ctx, false)
			if err != nil {
				a.log.Error("scrub failed", "err", err)
			} else {
				a.log.Info("scrub", "segments", rep.Segments, "problems", len(rep.Problems), "healthy", rep.Healthy)
			}
		}
	}
}
