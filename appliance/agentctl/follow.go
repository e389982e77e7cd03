package agentctl

import (
	"context"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/progress"
)

// pollEvery is how often follow asks the agent for its status: often
// enough for a bar that moves, seldom enough to cost the agent nothing.
const pollEvery = time.Second

// follow shows the progress of the agent's job of the given kind on
// o.Progress while the call that started it blocks: it asks svc for the
// agent's status every second (or every o.ProgressEvery when shorter)
// until the returned stop is called, with ok when the call succeeded (the
// last line then shows the work done). stop does not wait for a status
// call in flight; nothing is shown after it.
func follow(ctx context.Context, svc api.Service, o outcome.Output, kind string) (stop func(ok bool)) {
	if o.Progress == nil {
		return func(bool) {}
	}
	rep := progress.New(progress.Options{W: o.Progress, Bar: o.Bar, Every: o.ProgressEvery, Label: kind})
	poll := pollEvery
	if o.ProgressEvery > 0 {
		poll = min(poll, o.ProgressEvery)
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			st, err := svc.Status(ctx)
			if err != nil {
				continue // the agent is busy or restarting: try again
			}
			if j := newestJob(st.Jobs, kind); j != nil {
				rep.Update(snapshotOf(*j))
			}
		}
	}()
	return func(ok bool) {
		cancel()
		if ok {
			rep.Done()
		} else {
			rep.Finish()
		}
	}
}

// newestJob is the most recently started running job of kind: the one
// this command started (the agent runs one backup at a time; another
// restore started meanwhile is newer only if it started later).
func newestJob(jobs []api.JobStatus, kind string) *api.JobStatus {
	for i := len(jobs) - 1; i >= 0; i-- {
		if jobs[i].Kind == kind {
			return &jobs[i]
		}
	}
	return nil
}

// snapshotOf is a job's progress as the progress display reads it.
func snapshotOf(j api.JobStatus) progress.Snapshot {
	phase := j.Phase
	if j.Message != "" {
		phase = j.Message
	}
	s := progress.Snapshot{Phase: phase, Done: int64(j.UnitsDone), All: int64(j.UnitsAll), Noun: j.Noun,
		Bytes: j.Bytes, BytesAll: j.BytesAll, Throttled: j.Throttled, Paused: j.ThrottlePaused}
	if j.Noun != "items" {
		s.Items = int64(j.Items) // else Done counts them already
	}
	return s
}

// jobLine describes a running job as it stands at now (the agent's
// time), with its rates since it started.
func jobLine(j api.JobStatus, now time.Time) string {
	m := progress.NewMeter(j.Started)
	m.Add(now, snapshotOf(j))
	return progress.Line(snapshotOf(j), m)
}
