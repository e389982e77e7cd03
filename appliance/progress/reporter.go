package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/strongroom/strongroom/appliance/units"
)

// DefaultEvery is how often a Reporter without a bar writes a line.
const DefaultEvery = 5 * time.Second

// Options say how a Reporter shows progress.
type Options struct {
	// W receives the progress (the command's stderr).
	W io.Writer
	// Bar draws a bar that redraws in place; without it a plain line is
	// written every Every. Set it only when W is a terminal (see
	// Terminal).
	Bar bool
	// Every is the interval between plain lines (default DefaultEvery).
	Every time.Duration
	// Label starts every line: what the work is ("backup").
	Label string
	// Now reads the time (default time.Now); tests set it.
	Now func() time.Time
}

// Terminal reports whether w is a terminal, where a bar can be drawn.
func Terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Reporter shows the progress of one piece of work. Update and Finish may
// be called from different goroutines.
type Reporter struct {
	o        Options
	mu       sync.Mutex
	meter    *Meter
	bar      *progressbar.ProgressBar
	lastLine time.Time
	// lastUpdate is when the meter last took a sample.
	lastUpdate time.Time
	last       Snapshot
	// finished is set by Finish; later updates show nothing.
	finished bool
	seen     bool
}

// Start is New for the progress of an operation of the command line:
// none (a nil Reporter) when w is nil.
func Start(w io.Writer, bar bool, label string) *Reporter {
	if w == nil {
		return nil
	}
	return New(Options{W: w, Bar: bar, Label: label})
}

// New starts a reporter for work that starts now.
func New(o Options) *Reporter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	now := o.Now()
	return &Reporter{o: o, meter: NewMeter(now), lastLine: now}
}

// minUpdate is the least time between two updates that count: work that
// reports after every segment is not redrawn thousands of times a
// second.
const minUpdate = 250 * time.Millisecond

// Update shows s: it moves the bar, or writes a line when Every has
// passed since the last one. A nil Reporter shows nothing.
func (r *Reporter) Update(s Snapshot) {
	r.whileOpen(func() { r.update(s) })
}

// whileOpen runs f under the lock, unless r is nil or finished.
func (r *Reporter) whileOpen(f func()) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	f()
}

func (r *Reporter) update(s Snapshot) {
	now := r.o.Now()
	r.last, r.seen = s, true
	if now.Sub(r.lastUpdate) < minUpdate && (s.All == 0 || s.Done < s.All) {
		return
	}
	r.lastUpdate = now
	r.meter.Add(now, s)
	if r.o.Bar {
		r.drawBar(s)
		return
	}
	if now.Sub(r.lastLine) >= r.o.Every {
		r.lastLine = now
		fmt.Fprintln(r.o.W, r.o.Label+": "+Line(s, r.meter))
	}
}

// drawBar moves the bar to s, making it on the first call: a count of
// units when their total is known, a spinner until then. It redraws on
// every call, which comes about once a second.
func (r *Reporter) drawBar(s Snapshot) {
	max := s.All
	if max <= 0 {
		max = -1
	}
	if r.bar == nil {
		r.bar = progressbar.NewOptions64(max, progressbar.OptionSetWriter(r.o.W), progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionSetRenderBlankState(true))
	}
	if r.bar.GetMax64() != max {
		r.bar.ChangeMax64(max)
	}
	r.bar.Describe(r.o.Label + ": " + Line(Snapshot{Phase: s.Phase, Items: s.Items, Bytes: s.Bytes, BytesAll: s.BytesAll,
		Throttled: s.Throttled, Paused: s.Paused}, r.meter))
	_ = r.bar.Set64(s.Done)
}

// Done ends the display of work that completed: what was last seen is
// shown with every unit done, as "done".
func (r *Reporter) Done() {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.seen && !r.finished {
		r.last.Phase = "done"
		if r.last.All > 0 {
			r.last.Done = r.last.All
		}
		if r.last.BytesAll > 0 {
			r.last.Bytes = r.last.BytesAll
		}
	}
	r.mu.Unlock()
	r.Finish()
}

// Finish ends the display (a second call does nothing): the bar is left as it stands on its own line,
// and without a bar a last line is written if any progress was seen since
// the last one.
func (r *Reporter) Finish() {
	r.whileOpen(r.finish)
}

func (r *Reporter) finish() {
	r.finished = true
	if r.seen && !r.o.Now().Equal(r.lastUpdate) {
		r.meter.Add(r.o.Now(), r.last)
		if r.o.Bar {
			r.drawBar(r.last)
		}
	}
	if r.bar != nil {
		_ = r.bar.Exit()
		fmt.Fprintln(r.o.W)
		r.bar = nil
		return
	}
	if r.seen && !r.o.Bar && r.o.Now().Sub(r.lastLine) > 0 {
		fmt.Fprintln(r.o.W, r.o.Label+": "+Line(r.last, r.meter))
	}
	r.seen = false
}

// Line describes s in one line, with the rates and time left of m:
// "backing up mailboxes, 7/15 mailboxes, 954 items, 56.0 MiB at 1.2 MiB/s,
// 12 throttled (paused 34s), 1m30s left".
func Line(s Snapshot, m *Meter) string {
	var parts []string
	if s.Phase != "" {
		parts = append(parts, s.Phase)
	}
	if s.All > 0 || s.Done > 0 {
		noun := s.Noun
		if noun == "" {
			noun = "units"
		}
		total := "?"
		if s.All > 0 {
			total = fmt.Sprint(s.All)
		}
		parts = append(parts, fmt.Sprintf("%d/%s %s", s.Done, total, noun))
	}
	if s.Items > 0 {
		parts = append(parts, units.Count(s.Items, "item"))
	}
	if s.Bytes > 0 || s.BytesAll > 0 {
		b := units.Bytes(s.Bytes)
		if s.BytesAll > 0 {
			b += " of " + units.Bytes(s.BytesAll)
		}
		if rate := m.BytesPerSecond(); rate > 0 {
			b += " at " + units.Bytes(int64(rate)) + "/s"
		}
		parts = append(parts, b)
	} else if rate := m.ItemsPerSecond(); rate > 0 {
		parts = append(parts, fmt.Sprintf("%.1f items/s", rate))
	}
	if s.Throttled > 0 || s.Paused > 0 {
		parts = append(parts, fmt.Sprintf("%d throttled (paused %s)", s.Throttled, units.Age(s.Paused)))
	}
	if left, ok := m.ETA(); ok {
		parts = append(parts, units.Age(left)+" left")
	}
	parts = append(parts, units.Age(m.Elapsed())+" elapsed")
	return strings.Join(parts, ", ")
}
