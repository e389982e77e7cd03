package progress_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/progress"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// TestMeterRateAndETA guards the figures an operator plans by: the rate
// over the recent window and the time left at that pace.
func TestMeterRateAndETA(t *testing.T) {
	type step struct {
		sec  int
		snap progress.Snapshot
	}
	cases := []struct {
		name      string
		steps     []step
		bytesRate float64
		itemsRate float64
		eta       time.Duration
		etaKnown  bool
	}{
		{name: "nothing yet", steps: []step{{0, progress.Snapshot{All: 10}}}},
		{name: "no total", steps: []step{{10, progress.Snapshot{Done: 3, Items: 50, Bytes: 1000}}},
			bytesRate: 100, itemsRate: 5},
		{name: "steady units", steps: []step{{10, progress.Snapshot{Done: 2, All: 10, Items: 20, Bytes: 2000}}, {20, progress.Snapshot{Done: 4, All: 10, Items: 40, Bytes: 4000}}},
			bytesRate: 200, itemsRate: 2, eta: 30 * time.Second, etaKnown: true},
		{name: "bytes total wins over units", steps: []step{{10, progress.Snapshot{Done: 1, All: 2, Bytes: 250, BytesAll: 1000}}},
			bytesRate: 25, eta: 30 * time.Second, etaKnown: true},
		// After 100 s at 1 unit per 10 s the pace doubles: the window of
		// 30 s follows it (2 units per 10 s), the whole run would not.
		{name: "window follows a change of pace", steps: []step{
			{50, progress.Snapshot{Done: 5, All: 40}}, {100, progress.Snapshot{Done: 10, All: 40}},
			{110, progress.Snapshot{Done: 12, All: 40}}, {120, progress.Snapshot{Done: 14, All: 40}}, {130, progress.Snapshot{Done: 16, All: 40}}},
			eta: 120 * time.Second, etaKnown: true},
		// A throttling pause stalls the window: the estimate falls back
		// to the pace of the whole run rather than having none.
		{name: "stall in the window", steps: []step{{20, progress.Snapshot{Done: 5, All: 10}}, {60, progress.Snapshot{Done: 5, All: 10}}, {90, progress.Snapshot{Done: 5, All: 10}}},
			eta: 90 * time.Second, etaKnown: true},
		{name: "done", steps: []step{{5, progress.Snapshot{Done: 10, All: 10}}}, eta: 0, etaKnown: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := progress.NewMeter(t0)
			for _, s := range c.steps {
				m.Add(at(s.sec), s.snap)
			}
			if got := m.BytesPerSecond(); got != c.bytesRate {
				t.Errorf("BytesPerSecond = %v, want %v", got, c.bytesRate)
			}
			if got := m.ItemsPerSecond(); got != c.itemsRate {
				t.Errorf("ItemsPerSecond = %v, want %v", got, c.itemsRate)
			}
			eta, ok := m.ETA()
			if ok != c.etaKnown || (ok && (eta-c.eta).Abs() > time.Millisecond) {
				t.Errorf("ETA = %v, %v; want %v, %v", eta, ok, c.eta, c.etaKnown)
			}
		})
	}
}

// TestReporterLines guards the output where no bar can be drawn (a pipe,
// a log, --json): one line every interval with phase, counts, bytes,
// rate, throttling and time left, and a last line at the end.
func TestReporterLines(t *testing.T) {
	var out bytes.Buffer
	now := t0
	r := progress.New(progress.Options{W: &out, Label: "backup", Every: 5 * time.Second, Now: func() time.Time { return now }})
	for s := 1; s <= 12; s++ {
		now = at(s)
		r.Update(progress.Snapshot{Phase: "backing up mailboxes", Done: int64(s), All: 24, Noun: "mailboxes", Items: int64(10 * s),
			Bytes: int64(s) << 20, Throttled: 3, Paused: 7 * time.Second})
	}
	r.Finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines over 12 s at one every 5 s and one at the end, want 3:\n%s", len(lines), out.String())
	}
	want := "backup: backing up mailboxes, 5/24 mailboxes, 50 items, 5.0 MiB at 1.0 MiB/s, 3 throttled (paused 7s), 19s left, 5s elapsed"
	if lines[0] != want {
		t.Errorf("first line\n%s\nwant\n%s", lines[0], want)
	}
	if !strings.HasPrefix(lines[2], "backup: backing up mailboxes, 12/24 mailboxes, 120 items") || !strings.HasSuffix(lines[2], "12s left, 12s elapsed") {
		t.Errorf("last line: %s", lines[2])
	}
}

// TestReporterBar guards the terminal display: the progress bar library
// draws the units and the line with items and bytes.
func TestReporterBar(t *testing.T) {
	var out bytes.Buffer
	now := t0
	r := progress.New(progress.Options{W: &out, Bar: true, Label: "scrub", Now: func() time.Time { return now }})
	now = at(2)
	r.Update(progress.Snapshot{Phase: "checking shards", Done: 30, All: 120, Noun: "shards", Bytes: 64 << 20})
	r.Finish()
	got := out.String()
	for _, want := range []string{"(30/120", "scrub: checking shards, 64.0 MiB at 32.0 MiB/s"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output lacks %q: %q", want, got)
		}
	}
	if progress.Terminal(&out) {
		t.Error("a buffer is taken for a terminal")
	}
}

// TestReporterDone guards the last line of work that completed: every
// unit done, whatever the last poll saw, and nothing after it.
func TestReporterDone(t *testing.T) {
	var out bytes.Buffer
	now := t0
	r := progress.New(progress.Options{W: &out, Label: "export", Every: time.Hour, Now: func() time.Time { return now }})
	now = at(3)
	r.Update(progress.Snapshot{Phase: "exporting", Done: 40, All: 50, Noun: "items", Bytes: 3 << 20, BytesAll: 4 << 20})
	now = at(4)
	r.Done()
	r.Update(progress.Snapshot{Phase: "exporting", Done: 45, All: 50})
	r.Finish()
	if want := "export: done, 50/50 items, 4.0 MiB of 4.0 MiB at 1.0 MiB/s, 0s left, 4s elapsed\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}
