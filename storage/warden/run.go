package warden

import (
	"context"
	"fmt"
	"time"
)

// requestPoll is how often the loop looks for an operator's request
// between rounds.
const requestPoll = 2 * time.Second

// Run seals at once and then every interval, expires at once and then
// every expireEvery, and acts on confirmation requests within seconds,
// until ctx ends. Expiry runs beside sealing: while it waits for the agent
// to hand the vault over, new backups are still sealed. Each round's
// outcome goes to logf; a failed round is retried at the next interval and
// never stops the loop.
func Run(ctx context.Context, w *Warden, interval, expireEvery time.Duration, logf func(format string, args ...any)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		expireLoop(ctx, w, expireEvery, logf)
	}()
	sealLoop(ctx, w, interval, logf)
	<-done
	logf("warden stopped")
}

func sealLoop(ctx context.Context, w *Warden, interval time.Duration, logf func(format string, args ...any)) {
	var lastSeal time.Time
	first := true
	t := time.NewTicker(min(interval, requestPoll))
	defer t.Stop()
	for {
		if msg, err := w.HandleRequests(); err != nil {
			logf("warden request: %v", err)
		} else if msg != "" {
			logf("warden: %s", msg)
		}
		if time.Since(lastSeal) >= interval {
			lastSeal = time.Now()
			rep, err := w.Seal()
			switch {
			case err != nil:
				logf("warden seal: %v", err)
			case rep.Sealed > 0 || first || len(rep.Problems) > 0:
				logf("sealed %d files (%d were already sealed); %d new snapshots and %d new segments recorded", rep.Sealed, rep.AlreadySealed, len(rep.NewSnapshots), rep.NewSegments)
			}
			first = false
			for _, p := range rep.Problems {
				logf("warden ALERT: %s", p)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func expireLoop(ctx context.Context, w *Warden, every time.Duration, logf func(format string, args ...any)) {
	for {
		rep, err := w.Expire()
		if err != nil {
			logf("warden expire: %v", err)
		} else {
			logf("expired %d snapshots and %d segments; %d snapshots kept", len(rep.Snapshots), len(rep.Segments), rep.Kept)
			for _, id := range rep.Snapshots {
				logf("  removed snapshot %s", id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// Describe renders a status for people: one line per fact, alerts last.
func Describe(st Status) []string {
	state := "running"
	if st.Clock.JumpPending {
		state = "FROZEN (" + st.Clock.Reason + ")"
	}
	out := []string{
		fmt.Sprintf("trusted time    %s (%s, witness %s)", st.Clock.Trusted.UTC().Format(time.RFC3339), state, st.Clock.Witness),
		fmt.Sprintf("ledger          %d records: %d snapshots and %d segments kept", st.Records, st.Snapshots, st.Segments),
	}
	if !st.LastSeal.IsZero() {
		out = append(out, fmt.Sprintf("last seal       %s (%d files sealed)", st.LastSeal.UTC().Format(time.RFC3339), st.LastSealN))
	}
	if !st.LastExp.IsZero() {
		out = append(out, fmt.Sprintf("last expiry     %s", st.LastExp.UTC().Format(time.RFC3339)))
	}
	if st.Frozen != "" {
		out = append(out, "expiry          "+st.Frozen)
	}
	for _, a := range st.Alerts {
		out = append(out, "ALERT           "+a)
	}
	return out
}
