package progress

import "time"

// Snapshot is the state of long work at one moment.
type Snapshot struct {
	// Phase says what the work does now ("backing up mailboxes").
	Phase string
	// Done of All units of work (Noun names them); All is 0 when the
	// total is not known yet.
	Done, All int64
	Noun      string
	// Items and Bytes handled so far; BytesAll is the total when known,
	// else 0.
	Items           int64
	Bytes, BytesAll int64
	// Throttled counts answers that asked the work to back off; Paused is
	// how long throttling has held it back so far.
	Throttled int64
	Paused    time.Duration
}

// fraction is how much of the work is done, between 0 and 1, from the
// bytes when their total is known (the finer measure), else from the
// units; ok is false when neither total is known.
func (s Snapshot) fraction() (f float64, ok bool) {
	switch {
	case s.BytesAll > 0:
		return min(1, float64(s.Bytes)/float64(s.BytesAll)), true
	case s.All > 0:
		return min(1, float64(s.Done)/float64(s.All)), true
	}
	return 0, false
}

// window is how far back a Meter looks for its rates: long enough to
// smooth one slow mailbox or a throttling pause, short enough to follow a
// change of pace.
const window = 30 * time.Second

type sample struct {
	at   time.Time
	snap Snapshot
}

// Meter works out rates and the time left from snapshots of one piece
// of work. It is not safe for concurrent use.
type Meter struct {
	start   time.Time
	samples []sample // oldest first, within the window but for the first
}

// NewMeter starts a meter for work that started at start with nothing
// done.
func NewMeter(start time.Time) *Meter {
	return &Meter{start: start, samples: []sample{{at: start}}}
}

// Add records the work's state at time at. Samples older than the window
// are dropped, keeping the newest of them as the base of the rates.
func (m *Meter) Add(at time.Time, s Snapshot) {
	m.samples = append(m.samples, sample{at, s})
	cut := 0
	for cut+1 < len(m.samples)-1 && at.Sub(m.samples[cut+1].at) >= window {
		cut++
	}
	m.samples = m.samples[cut:]
}

// span is the first and last sample the rates are worked out between.
func (m *Meter) span() (first, last sample, secs float64) {
	first, last = m.samples[0], m.samples[len(m.samples)-1]
	return first, last, last.at.Sub(first.at).Seconds()
}

// BytesPerSecond is the recent rate of bytes handled.
func (m *Meter) BytesPerSecond() float64 {
	first, last, secs := m.span()
	if secs <= 0 {
		return 0
	}
	return float64(last.snap.Bytes-first.snap.Bytes) / secs
}

// ItemsPerSecond is the recent rate of items handled.
func (m *Meter) ItemsPerSecond() float64 {
	first, last, secs := m.span()
	if secs <= 0 {
		return 0
	}
	return float64(last.snap.Items-first.snap.Items) / secs
}

// ETA is the time left at the recent pace: what remains of the work
// divided by how fast its done fraction grew over the window (or since
// the start, when the window saw no growth). ok is false while that
// cannot be known: no total, or nothing done yet.
func (m *Meter) ETA() (left time.Duration, ok bool) {
	first, last, secs := m.span()
	f, known := last.snap.fraction()
	if !known || f <= 0 {
		return 0, false
	}
	if f >= 1 {
		return 0, true
	}
	f0, _ := first.snap.fraction()
	if f <= f0 || secs <= 0 {
		// Nothing done within the window: fall back to the whole run.
		f0, secs = 0, last.at.Sub(m.start).Seconds()
	}
	if secs <= 0 {
		return 0, false
	}
	perSecond := (f - f0) / secs
	return time.Duration((1 - f) / perSecond * float64(time.Second)).Round(time.Second), true
}

// Elapsed is how long the work has run at the last sample.
func (m *Meter) Elapsed() time.Duration {
	return m.samples[len(m.samples)-1].at.Sub(m.start)
}
