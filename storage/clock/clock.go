package clock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Source returns the current wall time. Tests inject a fake Source; the
// appliance uses [Wall].
type Source func() time.Time

// Wall is the Source that reads the operating system's wall clock. It is the
// only place in Strongroom that reads the wall time.
var Wall Source = time.Now

// DefaultMaxForwardJump is the largest step forward of the wall time that is
// accepted without an operator's confirmation, unless [MaxForwardJump]
// configures another limit.
const DefaultMaxForwardJump = 24 * time.Hour

// persistEvery is how far the trusted time may run ahead of the state file
// before Now writes it again. Losing this much on a crash only makes the
// clock more conservative after a restart.
const persistEvery = 5 * time.Second

// ErrCorrupt is wrapped by the error that Open returns when the state file
// exists but cannot be decoded. The clock refuses to start rather than
// silently starting over from the wall time.
var ErrCorrupt = errors.New("clock state file is corrupt")

// ErrNoJumpPending is returned by Confirm when there is no forward jump
// waiting for an operator's confirmation.
var ErrNoJumpPending = errors.New("clock: no forward jump is pending confirmation")

// ErrLocked is wrapped by the error that Open returns when another Clock,
// in this or another process, already has the state file open.
var ErrLocked = errors.New("clock state file is in use by another clock")

// ErrClosed is returned by Confirm and Persist after Close.
var ErrClosed = errors.New("clock: closed")

// Option changes how Open sets up a Clock.
type Option func(*Clock)

// MaxForwardJump returns an Option that sets the largest step forward of the
// wall time that the Clock accepts without an operator's confirmation. A
// limit of zero or less is ignored and [DefaultMaxForwardJump] is used.
func MaxForwardJump(d time.Duration) Option {
	return func(c *Clock) {
		if d > 0 {
			c.maxJump = d
		}
	}
}

// Floor returns an Option for when the state file is missing (lost with
// the disk that held it, or deleted): the trusted time then starts from t,
// the newest time the caller knows was once trusted, instead of from the
// wall time, so a wall time more than the maximum forward jump ahead of t
// is a forward jump awaiting confirmation. A zero t changes nothing.
func Floor(t time.Time) Option { return func(c *Clock) { c.floor = t.Round(0).UTC() } }

// Status is a snapshot of a Clock, for operators and for the status API.
type Status struct {
	// Trusted is the trusted time, as Now would return it.
	Trusted time.Time `json:"trusted"`
	// Wall is the wall time read when the snapshot was taken.
	Wall time.Time `json:"wall"`
	// JumpPending reports whether a forward jump awaits Confirm.
	JumpPending bool `json:"jump_pending"`
	// Jump is Wall minus Trusted, in nanoseconds when encoded as JSON. It
	// is negative while the wall time is behind the trusted time.
	Jump time.Duration `json:"jump_ns"`
	// MaxForwardJump is the configured limit, in nanoseconds in JSON.
	MaxForwardJump time.Duration `json:"max_forward_jump_ns"`
}

// Clock is the trusted compliance clock backed by one state file. All of
// its methods are safe for concurrent use.
type Clock struct {
	path    string
	src     Source
	maxJump time.Duration
	floor   time.Time // see Floor
	lock    *os.File

	mu        sync.Mutex
	trusted   time.Time
	pending   bool
	ahead     bool      // the stored trusted time was far ahead of the wall clock at load
	persisted time.Time // trusted time last written to the state file
	closed    bool
	lastErr   error // last persistence error from Now, nil after a success
}

// Open opens the clock whose state is kept at path, reading the wall time
// from src (nil means [Wall]). A missing state file is created starting at
// the current wall time. A state file that cannot be decoded is refused with
// an error wrapping [ErrCorrupt]. Open takes an exclusive lock on path+".lock"
// so that only one Clock uses a state file at a time; call Close to release
// it.
func Open(path string, src Source, opts ...Option) (*Clock, error) {
	if src == nil {
		src = Wall
	}
	c := &Clock{path: path, src: src, maxJump: DefaultMaxForwardJump}
	for _, o := range opts {
		o(c)
	}

	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("clock: open lock file: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("clock: %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("clock: lock %s.lock: %w", path, err)
	}
	c.lock = lock

	if err := c.load(); err != nil {
		c.releaseLock()
		return nil, err
	}
	return c, nil
}

// load reads the state file, or creates it, and records the first
// observation of the wall time.
func (c *Clock) load() error {
	data, err := os.ReadFile(c.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.trusted = wallNow(c.src)
		if !c.floor.IsZero() && (c.trusted.Before(c.floor) || c.trusted.Sub(c.floor) > c.maxJump) {
			// Start from the floor: a wall time behind it waits, one far
			// ahead of it is a forward jump awaiting confirmation.
			c.trusted = c.floor
			c.observe(wallNow(c.src))
		}
	case err != nil:
		return fmt.Errorf("clock: read state file %s: %w", c.path, err)
	default:
		st, err := decodeState(data)
		if err != nil {
			return fmt.Errorf("clock: state file %s cannot be used (%v): %w; refusing to start. "+
				"Restore the file from a backup, or, after checking that the system time is right, "+
				"move it aside so that the clock starts again from the current wall time",
				c.path, err, ErrCorrupt)
		}
		c.trusted = st.Trusted
		c.pending = st.JumpPending
		if wall := wallNow(c.src); c.trusted.Sub(wall) > c.maxJump {
			// A trusted time far ahead of the wall clock was not reached
			// by this clock's own small steps: the state file was written
			// by someone else, to make retention expire early. Freeze
			// expiry until an operator confirms the real time.
			c.pending, c.ahead = true, true
		}
		c.observe(wallNow(c.src))
	}
	if err := c.persistLocked(c.trusted, c.pending); err != nil {
		return err
	}
	return nil
}

// wallNow reads src and drops the monotonic reading and the location, so
// that comparisons use the wall time alone. (Two time.Now values compare by
// their monotonic readings, which would hide a jump of the wall clock.)
func wallNow(src Source) time.Time {
	return src().Round(0).UTC()
}

// observe advances the trusted time to wall or enters the jump pending
// state. It reports whether the state file should be written now. c.mu must
// be held.
func (c *Clock) observe(wall time.Time) (persist bool) {
	if c.pending || !wall.After(c.trusted) {
		return false
	}
	if wall.Sub(c.trusted) > c.maxJump {
		c.pending = true
		return true
	}
	c.trusted = wall
	return c.trusted.Sub(c.persisted) >= persistEvery
}

// Now returns the trusted time. It never returns a time earlier than one it
// returned before, and it does not advance while a jump is pending. Now
// writes the state file every few seconds of advance; a failure to write is
// kept and reported by Err rather than stopping the clock.
func (c *Clock) Now() time.Time {
	wall := wallNow(c.src)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.observe(wall) && !c.closed {
		c.lastErr = c.persistLocked(c.trusted, c.pending)
	}
	return c.trusted
}

// ExpiryAllowed reports whether retention may expire data now. It is false
// while a forward jump is pending, and the reason then says what happened
// and what the operator must do. The reason is empty when expiry is allowed.
func (c *Clock) ExpiryAllowed() (bool, string) {
	wall := wallNow(c.src)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.observe(wall) && !c.closed {
		c.lastErr = c.persistLocked(c.trusted, c.pending)
	}
	if !c.pending {
		return true, ""
	}
	if c.ahead {
		return false, fmt.Sprintf("the stored trusted time (%s) is %s ahead of the wall clock (%s): the clock state may have been tampered with; "+
			"expiry is suspended until an operator checks the system time and confirms it",
			c.trusted.Format(time.RFC3339), c.trusted.Sub(wall).Round(time.Second), wall.Format(time.RFC3339))
	}
	return false, fmt.Sprintf("the wall clock (%s) is %s ahead of the last trusted time (%s), more than the %s allowed; "+
		"expiry is suspended until an operator checks the system time and confirms it",
		wall.Format(time.RFC3339), wall.Sub(c.trusted).Round(time.Second), c.trusted.Format(time.RFC3339), c.maxJump)
}

// Status returns a snapshot of the clock.
func (c *Clock) Status() Status {
	wall := wallNow(c.src)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.observe(wall) && !c.closed {
		c.lastErr = c.persistLocked(c.trusted, c.pending)
	}
	return Status{
		Trusted:        c.trusted,
		Wall:           wall,
		JumpPending:    c.pending,
		Jump:           wall.Sub(c.trusted),
		MaxForwardJump: c.maxJump,
	}
}

// Confirm accepts the current wall time as trusted and ends the jump pending
// state. It returns [ErrNoJumpPending] when no jump is pending. The new state
// is written to the state file before Confirm returns; if that fails the
// jump stays pending. If the wall time has meanwhile fallen behind the
// trusted time, the trusted time is kept, since it never goes backwards.
func (c *Clock) Confirm() error {
	wall := wallNow(c.src)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if !c.pending {
		return ErrNoJumpPending
	}
	next := c.trusted
	if wall.After(next) || c.ahead {
		// After a tampered-ahead state the operator confirms the wall
		// time; stepping back is safe, it only keeps locks longer.
		next = wall
	}
	if err := c.persistLocked(next, false); err != nil {
		return err
	}
	c.trusted, c.pending, c.ahead = next, false, false
	return nil
}

// Persist writes the current trusted time and state to the state file now,
// for example before a planned shutdown.
func (c *Clock) Persist() error {
	wall := wallNow(c.src)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.observe(wall)
	return c.persistLocked(c.trusted, c.pending)
}

// Err returns the error from the last write of the state file made by Now,
// ExpiryAllowed or Status, or nil if that write succeeded.
func (c *Clock) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Close writes the state file a last time and releases the lock on it. After
// Close, Now keeps working in memory but nothing more is written.
func (c *Clock) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	err := c.persistLocked(c.trusted, c.pending)
	c.closed = true
	if rerr := c.releaseLock(); err == nil {
		err = rerr
	}
	return err
}

func (c *Clock) releaseLock() error {
	if c.lock == nil {
		return nil
	}
	err := c.lock.Close() // closing the descriptor drops the flock
	c.lock = nil
	return err
}

// persistLocked writes the given state and, on success, records it as
// persisted. c.mu must be held.
func (c *Clock) persistLocked(trusted time.Time, pending bool) error {
	data, err := encodeState(state{Version: stateVersion, Trusted: trusted, JumpPending: pending})
	if err != nil {
		return fmt.Errorf("clock: encode state for %s: %w", c.path, err)
	}
	if err := writeAtomic(c.path, data); err != nil {
		return err
	}
	c.persisted = trusted
	return nil
}
