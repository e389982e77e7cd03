package clock

import (
	"bytes"
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

// Elapsed reads a monotonic clock that keeps counting through suspend:
// which boot it belongs to, and the time since that boot began. Within one
// boot it cannot be set by anyone, so it is the clock's witness of time
// passing. [SystemElapsed] reads the kernel's.
type Elapsed func() (boot string, since time.Duration)

// SystemElapsed reads /proc/sys/kernel/random/boot_id and CLOCK_BOOTTIME.
func SystemElapsed() (string, time.Duration) {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return string(bytes.TrimSpace(b)), time.Duration(ts.Nano())
}

// Monotonic returns an Option that makes the clock advance, within one
// boot, by the elapsed time e reads rather than by the wall time: setting
// the system time then moves nothing, and a wall time that runs ahead of
// the trusted time by more than the maximum forward jump freezes expiry
// until confirmed. Across a reboot (another boot ID) the wall time is
// taken, within the maximum forward jump, as the time the machine was off.
func Monotonic(e Elapsed) Option { return func(c *Clock) { c.elapsed = e } }

// Strict returns an Option for the warden, whose clock state is the only
// record of the trusted time: a missing or unreadable state file is not
// started over from the wall time but frozen, awaiting an operator's
// confirmation. An unreadable file is kept beside, renamed
// "<name>.unreadable-<time>". Without Strict, a missing file starts the
// clock at the wall time and an unreadable one makes Open fail.
func Strict() Option { return func(c *Clock) { c.strict = true } }

// Reasons a clock is frozen, as Status reports them.
const (
	ReasonJump       = "jump"       // the wall time jumped ahead
	ReasonAhead      = "ahead"      // the stored trusted time was far ahead of the wall time
	ReasonMissing    = "missing"    // no state file (strict clocks only)
	ReasonUnreadable = "unreadable" // a state file that cannot be decoded (strict clocks only)
)

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
	// Reason says why the clock is frozen (one of the Reason constants),
	// empty when it is not.
	Reason string `json:"reason,omitempty"`
	// Witness is what advances the trusted time within a boot:
	// "monotonic" or "wall".
	Witness string `json:"witness,omitempty"`
}

// Clock is the trusted compliance clock backed by one state file. All of
// its methods are safe for concurrent use.
type Clock struct {
	path    string
	src     Source
	maxJump time.Duration
	elapsed Elapsed // see Monotonic; nil follows the wall time
	strict  bool    // see Strict
	lock    *os.File

	mu        sync.Mutex
	trusted   time.Time
	pending   bool
	reason    string        // why pending (Reason constants)
	boot      string        // boot of the monotonic reading taken with trusted
	since     time.Duration // monotonic reading taken with trusted
	persisted time.Time     // trusted time last written to the state file
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
		if c.strict {
			c.pending, c.reason = true, ReasonMissing
		}
		c.anchor()
	case err != nil:
		return fmt.Errorf("clock: read state file %s: %w", c.path, err)
	default:
		st, err := decodeState(data)
		if err != nil && c.strict {
			aside := c.path + ".unreadable-" + wallNow(c.src).Format("20060102T150405Z")
			if rerr := os.Rename(c.path, aside); rerr != nil {
				return fmt.Errorf("clock: state file %s cannot be used (%v) nor moved aside: %w", c.path, err, rerr)
			}
			c.trusted = wallNow(c.src)
			c.pending, c.reason = true, ReasonUnreadable
			c.anchor()
			break
		}
		if err != nil {
			return fmt.Errorf("clock: state file %s cannot be used (%v): %w; refusing to start. "+
				"Restore the file from a backup, or, after checking that the system time is right, "+
				"move it aside so that the clock starts again from the current wall time",
				c.path, err, ErrCorrupt)
		}
		c.trusted = st.Trusted
		c.pending, c.reason = st.JumpPending, st.Reason
		if c.pending && c.reason == "" {
			c.reason = ReasonJump
		}
		c.boot, c.since = st.Boot, time.Duration(st.Since)
		if wall := wallNow(c.src); c.trusted.Sub(wall) > c.maxJump {
			// A trusted time far ahead of the wall clock was not reached
			// by this clock's own small steps: the state file was written
			// by someone else, to make retention expire early. Freeze
			// expiry until an operator confirms the real time.
			c.pending, c.reason = true, ReasonAhead
		}
		c.observe(wallNow(c.src))
	}
	if err := c.persistLocked(c.trusted, c.pending); err != nil {
		return err
	}
	return nil
}

// anchor records the monotonic reading that goes with the trusted time
// now. c.mu must be held (or c not yet shared).
func (c *Clock) anchor() {
	if c.elapsed != nil {
		c.boot, c.since = c.elapsed()
	}
}

// wallNow reads src and drops the monotonic reading and the location, so
// that comparisons use the wall time alone. (Two time.Now values compare by
// their monotonic readings, which would hide a jump of the wall clock.)
func wallNow(src Source) time.Time {
	return src().Round(0).UTC()
}

// observe advances the trusted time, by the monotonic witness within a
// boot or else to wall, or enters the frozen state. It reports whether the
// state file should be written now. c.mu must be held.
func (c *Clock) observe(wall time.Time) (persist bool) {
	if c.elapsed != nil {
		boot, since := c.elapsed()
		if boot == "" {
			// The witness cannot be read: the time stands still rather
			// than follow the wall clock unwitnessed.
			return false
		}
		if boot == c.boot && since >= c.since {
			if c.pending {
				return false
			}
			c.trusted = c.trusted.Add(since - c.since)
			c.since = since
			if wall.Sub(c.trusted) > c.maxJump {
				// The system time was set far ahead while running.
				c.pending, c.reason = true, ReasonJump
				return true
			}
			return c.trusted.Sub(c.persisted) >= persistEvery
		}
		// Another boot: the wall time tells how long the machine was
		// off, within the maximum forward jump.
		defer func() { c.boot, c.since = boot, since }()
		persist = true
	}
	if c.pending || !wall.After(c.trusted) {
		return persist
	}
	if wall.Sub(c.trusted) > c.maxJump {
		c.pending, c.reason = true, ReasonJump
		return true
	}
	c.trusted = wall
	return persist || c.trusted.Sub(c.persisted) >= persistEvery
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
	return false, c.frozenWhy(wall)
}

// frozenWhy says why the clock is frozen and what the operator must do.
// c.mu must be held.
func (c *Clock) frozenWhy(wall time.Time) string {
	switch c.reason {
	case ReasonAhead:
		return fmt.Sprintf("the stored trusted time (%s) is %s ahead of the wall clock (%s): the clock state may have been tampered with; "+
			"expiry is suspended until an operator checks the system time and confirms it",
			c.trusted.Format(time.RFC3339), c.trusted.Sub(wall).Round(time.Second), wall.Format(time.RFC3339))
	case ReasonMissing:
		return fmt.Sprintf("the trusted clock's state %s is missing, so the time elapsed since it was last kept is unknown; "+
			"expiry is suspended until an operator checks the system time (%s) and confirms it", c.path, wall.Format(time.RFC3339))
	case ReasonUnreadable:
		return fmt.Sprintf("the trusted clock's state %s could not be read (kept beside it as .unreadable-*); "+
			"expiry is suspended until an operator checks the system time (%s) and confirms it", c.path, wall.Format(time.RFC3339))
	}
	return fmt.Sprintf("the wall clock (%s) is %s ahead of the last trusted time (%s), more than the %s allowed; "+
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
	st := Status{
		Trusted:        c.trusted,
		Wall:           wall,
		JumpPending:    c.pending,
		Jump:           wall.Sub(c.trusted),
		MaxForwardJump: c.maxJump,
		Witness:        "wall",
	}
	if c.pending {
		st.Reason = c.reason
	}
	if c.elapsed != nil {
		st.Witness = "monotonic"
	}
	return st
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
	if wall.After(next) || c.reason != ReasonJump {
		// After a tampered-ahead, missing or unreadable state the
		// operator confirms the wall time; stepping back is safe, it
		// only keeps locks longer.
		next = wall
	}
	prevBoot, prevSince := c.boot, c.since
	c.anchor()
	if err := c.persistLocked(next, false); err != nil {
		c.boot, c.since = prevBoot, prevSince
		return err
	}
	c.trusted, c.pending, c.reason = next, false, ""
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
	st := state{Version: stateVersion, Trusted: trusted, JumpPending: pending, Boot: c.boot, Since: int64(c.since)}
	if pending {
		st.Reason = c.reason
	}
	data, err := encodeState(st)
	if err != nil {
		return fmt.Errorf("clock: encode state for %s: %w", c.path, err)
	}
	if err := writeAtomic(c.path, data); err != nil {
		return err
	}
	c.persisted = trusted
	return nil
}
