package clock

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBoot is a settable monotonic witness: a boot ID and the time since.
type fakeBoot struct {
	mu    sync.Mutex
	boot  string
	since time.Duration
}

func (b *fakeBoot) Read() (string, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.boot, b.since
}

func (b *fakeBoot) Add(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.since += d
}

func (b *fakeBoot) Reboot(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.boot, b.since = id, time.Second
}

// TestMonotonicWitness: within one boot the trusted time advances by the
// monotonic clock alone, so setting the system time ahead moves nothing,
// by a little or by a lot; across a reboot the wall time counts within the
// maximum forward jump; a restart in the same boot continues exactly.
func TestMonotonicWitness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	w := newFakeWall(start)
	b := &fakeBoot{boot: "boot-1", since: time.Hour}
	c := openT(t, path, w, Monotonic(b.Read), Strict())
	if ok, why := c.ExpiryAllowed(); ok || !strings.Contains(why, "missing") {
		t.Fatalf("strict clock with no state: ExpiryAllowed = %v %q, want frozen for the missing state", ok, why)
	}
	if err := c.Confirm(); err != nil {
		t.Fatal(err)
	}
	// Monotonic time passes; the wall clock is set 23.9 h ahead.
	b.Add(10 * time.Minute)
	w.Add(10*time.Minute + 23*time.Hour + 54*time.Minute)
	if got, want := c.Now(), start.Add(10*time.Minute); !got.Equal(want) {
		t.Fatalf("after the wall was set 23.9 h ahead: trusted %v, want %v (monotonic only)", got, want)
	}
	if ok, _ := c.ExpiryAllowed(); !ok {
		t.Fatal("a wall clock within the forward-jump limit froze expiry")
	}
	// The wall clock set 100 years ahead while running freezes expiry.
	w.Add(100 * 365 * 24 * time.Hour)
	if ok, why := c.ExpiryAllowed(); ok || !strings.Contains(why, "ahead") {
		t.Fatalf("wall 100 years ahead: ExpiryAllowed = %v %q, want frozen", ok, why)
	}
	if got := c.Now(); got.After(start.Add(11 * time.Minute)) {
		t.Fatalf("trusted time followed the wall clock 100 years ahead: %v", got)
	}
	c.Close()

	// Restart in the same boot: the frozen state and the anchor survive.
	w.Set(start.Add(20 * time.Minute))
	b.Add(10 * time.Minute)
	c = openT(t, path, w, Monotonic(b.Read), Strict())
	if ok, _ := c.ExpiryAllowed(); ok {
		t.Fatal("the frozen state was lost over a restart")
	}
	if err := c.Confirm(); err != nil {
		t.Fatal(err)
	}
	at := c.Now()
	c.Close()
	b.Add(5 * time.Minute)
	w.Add(3 * time.Hour) // the wall moves more, the restart must not follow it
	c = openT(t, path, w, Monotonic(b.Read), Strict())
	if got, want := c.Now(), at.Add(5*time.Minute); !got.Equal(want) {
		t.Fatalf("restart in the same boot: trusted %v, want %v", got, want)
	}
	c.Close()

	// A reboot after 6 hours off: the wall time counts.
	b.Reboot("boot-2")
	w.Add(6 * time.Hour)
	c = openT(t, path, w, Monotonic(b.Read), Strict())
	if got := c.Now(); !got.Equal(w.Now()) {
		t.Fatalf("after a reboot within the jump limit: trusted %v, want the wall time %v", got, w.Now())
	}
	c.Close()
	// A reboot with the wall 40 days ahead is a jump to confirm.
	b.Reboot("boot-3")
	w.Add(40 * 24 * time.Hour)
	c = openT(t, path, w, Monotonic(b.Read), Strict())
	if ok, _ := c.ExpiryAllowed(); ok {
		t.Fatal("a reboot with the wall 40 days ahead did not freeze expiry")
	}
}

// TestStrictUnreadableState: an unreadable state freezes the clock, is kept
// aside for inspection, and is never "ok" until confirmed.
func TestStrictUnreadableState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clock.json")
	if err := os.WriteFile(path, []byte(`{"version":2,"trusted":"2126-01-01T00:00:00Z"`), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newFakeWall(start)
	c := openT(t, path, w, Strict())
	st := c.Status()
	if !st.JumpPending || st.Reason != ReasonUnreadable {
		t.Fatalf("status %+v, want frozen as unreadable", st)
	}
	aside, _ := filepath.Glob(path + ".unreadable-*")
	if len(aside) != 1 {
		t.Fatalf("unreadable state kept as %v, want one file beside", aside)
	}
	if err := c.Confirm(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.ExpiryAllowed(); !ok || !c.Now().Equal(start) {
		t.Fatalf("after confirming: expiry %v at %v, want allowed at %v", ok, c.Now(), start)
	}
}

// TestFollowerReadsOnly: the agent's view never writes the state file and
// reports a missing one as frozen.
func TestFollowerReadsOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	w := newFakeWall(start)
	f := Follow(path, w.Now)
	if st := f.Status(); !st.JumpPending || st.Reason != ReasonMissing {
		t.Fatalf("no state: follower status %+v, want frozen (missing)", st)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the follower created the state file: %v", err)
	}
	c := openT(t, path, w)
	w.Add(time.Hour)
	c.Now()
	c.Persist()
	w.Set(start) // the wall clock steps back: the follower does not
	if got := f.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("follower Now %v, want the trusted %v", got, start.Add(time.Hour))
	}
	if st := f.Status(); st.JumpPending {
		t.Fatalf("follower status %+v, want running", st)
	}
}
