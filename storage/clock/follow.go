package clock

import (
	"os"
	"sync"
	"time"
)

// Follower is a read-only view of a Clock's state file, for a process that
// must not move the trusted clock: the agent names its snapshots by it,
// while expiry is decided by the warden's own Clock. It never writes and
// takes no lock.
type Follower struct {
	path string
	src  Source

	mu   sync.Mutex
	last time.Time
}

// Follow returns a Follower of the state file at path, reading the wall time
// from src (nil means [Wall]).
func Follow(path string, src Source) *Follower {
	if src == nil {
		src = Wall
	}
	return &Follower{path: path, src: src}
}

// Path is the state file followed.
func (f *Follower) Path() string { return f.path }

// Now returns the wall time, but never a time before the trusted time the
// state file holds, nor before a time Now returned before.
func (f *Follower) Now() time.Time {
	now := wallNow(f.src)
	if st, err := f.read(); err == nil && st.Trusted.After(now) {
		now = st.Trusted
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last.After(now) {
		now = f.last
	}
	f.last = now
	return now
}

func (f *Follower) read() (state, error) {
	b, err := os.ReadFile(f.path)
	if err != nil {
		return state{}, err
	}
	return decodeState(b)
}

// Status reports the trusted clock as its owner last wrote it. A missing
// or unreadable state file is reported frozen, with the reason, never as
// a clock that is fine.
func (f *Follower) Status() Status {
	wall := wallNow(f.src)
	st, err := f.read()
	switch {
	case os.IsNotExist(err):
		return Status{Trusted: f.Now(), Wall: wall, JumpPending: true, Reason: ReasonMissing, MaxForwardJump: DefaultMaxForwardJump}
	case err != nil:
		return Status{Trusted: f.Now(), Wall: wall, JumpPending: true, Reason: ReasonUnreadable, MaxForwardJump: DefaultMaxForwardJump}
	}
	s := Status{Trusted: st.Trusted, Wall: wall, JumpPending: st.JumpPending, Jump: wall.Sub(st.Trusted), MaxForwardJump: DefaultMaxForwardJump, Witness: "wall"}
	if st.JumpPending {
		s.Reason = st.Reason
		if s.Reason == "" {
			s.Reason = ReasonJump
		}
	}
	if st.Boot != "" {
		s.Witness = "monotonic"
	}
	return s
}
