package clock

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWall is a wall clock that tests set by hand.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeWall(t time.Time) *fakeWall { return &fakeWall{t: t} }

func (f *fakeWall) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeWall) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}

func (f *fakeWall) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openT(t *testing.T, path string, w *fakeWall, opts ...Option) *Clock {
	t.Helper()
	c, err := Open(path, w.Now, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readState decodes the state file as it is on disk.
func readState(t *testing.T, path string) state {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	st, err := decodeState(data)
	if err != nil {
		t.Fatalf("decode state %q: %v", data, err)
	}
	return st
}

func TestOpenCreatesStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	w := newFakeWall(start)
	c := openT(t, path, w)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	st := readState(t, path)
	if !st.Trusted.Equal(start) || st.JumpPending {
		t.Fatalf("state file = %+v, want trusted %v and no jump", st, start)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("state file mode = %v, want 0644 (the agent reads it, only the warden writes it)", fi.Mode().Perm())
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".clock.json.tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// TestNowSequence drives the wall clock through a series of steps and checks
// the trusted time and jump state after each one.
func TestNowSequence(t *testing.T) {
	type step struct {
		wall        time.Duration // wall time as an offset from start
		wantTrusted time.Duration // trusted time as an offset from start
		wantPending bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "monotonic small advances",
			steps: []step{
				{wall: time.Second, wantTrusted: time.Second},
				{wall: time.Minute, wantTrusted: time.Minute},
				{wall: time.Hour, wantTrusted: time.Hour},
			},
		},
		{
			name: "wall stands still",
			steps: []step{
				{wall: 0, wantTrusted: 0},
				{wall: 0, wantTrusted: 0},
			},
		},
		{
			name: "backwards jump holds trusted time",
			steps: []step{
				{wall: time.Hour, wantTrusted: time.Hour},
				{wall: -365 * 24 * time.Hour, wantTrusted: time.Hour},
				{wall: 30 * time.Minute, wantTrusted: time.Hour},
				{wall: time.Hour + time.Second, wantTrusted: time.Hour + time.Second},
			},
		},
		{
			name: "advance of exactly the limit is accepted",
			steps: []step{
				{wall: 24 * time.Hour, wantTrusted: 24 * time.Hour},
			},
		},
		{
			name: "forward jump freezes",
			steps: []step{
				{wall: time.Hour, wantTrusted: time.Hour},
				{wall: time.Hour + 24*time.Hour + time.Nanosecond, wantTrusted: time.Hour, wantPending: true},
				{wall: 72 * time.Hour, wantTrusted: time.Hour, wantPending: true},
			},
		},
		{
			name: "wall returning after a jump does not clear it",
			steps: []step{
				{wall: 48 * time.Hour, wantTrusted: 0, wantPending: true},
				{wall: time.Minute, wantTrusted: 0, wantPending: true},
			},
		},
		{
			name: "backwards jump then large forward jump freezes",
			steps: []step{
				{wall: -48 * time.Hour, wantTrusted: 0},
				{wall: 25 * time.Hour, wantTrusted: 0, wantPending: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWall(start)
			c := openT(t, filepath.Join(t.TempDir(), "clock.json"), w)
			prev := c.Now()
			for i, s := range tt.steps {
				w.Set(start.Add(s.wall))
				got := c.Now()
				if want := start.Add(s.wantTrusted); !got.Equal(want) {
					t.Fatalf("step %d: Now = %v, want %v", i, got, want)
				}
				if got.Before(prev) {
					t.Fatalf("step %d: Now went backwards from %v to %v", i, prev, got)
				}
				prev = got
				allowed, reason := c.ExpiryAllowed()
				if allowed == s.wantPending {
					t.Fatalf("step %d: ExpiryAllowed = %v (%q), want %v", i, allowed, reason, !s.wantPending)
				}
				if st := c.Status(); st.JumpPending != s.wantPending {
					t.Fatalf("step %d: Status.JumpPending = %v, want %v", i, st.JumpPending, s.wantPending)
				}
			}
		})
	}
}

func TestForwardJumpPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	w := newFakeWall(start)
	c := openT(t, path, w)
	w.Add(30 * 24 * time.Hour)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now after jump = %v, want frozen at %v", got, start)
	}
	allowed, reason := c.ExpiryAllowed()
	if allowed {
		t.Fatal("ExpiryAllowed = true after a 30-day forward jump")
	}
	for _, want := range []string{"720h0m0s ahead", "confirm"} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q does not mention %q", reason, want)
		}
	}
	if st := readState(t, path); !st.JumpPending || !st.Trusted.Equal(start) {
		t.Fatalf("state file = %+v, want jump pending at %v", st, start)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart, even one at which the wall clock looks normal again, keeps
	// the jump pending.
	for _, wall := range []time.Time{start.Add(30 * 24 * time.Hour), start.Add(time.Minute)} {
		w.Set(wall)
		c2, err := Open(path, w.Now)
		if err != nil {
			t.Fatal(err)
		}
		if got := c2.Now(); !got.Equal(start) {
			t.Errorf("wall %v: Now after reopen = %v, want %v", wall, got, start)
		}
		if ok, _ := c2.ExpiryAllowed(); ok {
			t.Errorf("wall %v: ExpiryAllowed after reopen = true, want false", wall)
		}
		if err := c2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJumpWhileStoppedIsDetectedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	w := newFakeWall(start)
	c := openT(t, path, w)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	w.Add(48 * time.Hour)
	c = openT(t, path, w)
	if st := c.Status(); !st.JumpPending || st.Jump != 48*time.Hour || !st.Trusted.Equal(start) {
		t.Fatalf("Status = %+v, want a pending jump of 48h from %v", st, start)
	}
	if st := readState(t, path); !st.JumpPending {
		t.Fatal("jump detected at Open was not written to the state file")
	}
}

func TestConfirm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	w := newFakeWall(start)
	c := openT(t, path, w)

	if err := c.Confirm(); !errors.Is(err, ErrNoJumpPending) {
		t.Fatalf("Confirm without a jump = %v, want ErrNoJumpPending", err)
	}

	jumped := start.Add(40 * 24 * time.Hour)
	w.Set(jumped)
	c.Now()
	if err := c.Confirm(); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if got := c.Now(); !got.Equal(jumped) {
		t.Fatalf("Now after Confirm = %v, want %v", got, jumped)
	}
	if ok, reason := c.ExpiryAllowed(); !ok || reason != "" {
		t.Fatalf("ExpiryAllowed after Confirm = %v, %q; want true, \"\"", ok, reason)
	}
	if st := readState(t, path); st.JumpPending || !st.Trusted.Equal(jumped) {
		t.Fatalf("state file after Confirm = %+v, want trusted %v without jump", st, jumped)
	}
	if err := c.Confirm(); !errors.Is(err, ErrNoJumpPending) {
		t.Fatalf("second Confirm = %v, want ErrNoJumpPending", err)
	}
	w.Add(time.Minute)
	if got := c.Now(); !got.Equal(jumped.Add(time.Minute)) {
		t.Fatalf("Now does not advance after Confirm: %v", got)
	}
}

func TestConfirmNeverGoesBackwards(t *testing.T) {
	w := newFakeWall(start)
	c := openT(t, filepath.Join(t.TempDir(), "clock.json"), w)
	w.Add(48 * time.Hour)
	c.Now()
	w.Set(start.Add(-time.Hour)) // the wall falls behind before the operator confirms
	if err := c.Confirm(); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now after Confirm with wall behind = %v, want %v", got, start)
	}
}

func TestConfirmFailsWhenStateCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clock.json")
	w := newFakeWall(start)
	c := openT(t, path, w)
	w.Add(48 * time.Hour)
	c.Now()
	// Replace the state file with a directory so that the rename fails.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Confirm(); err == nil {
		t.Fatal("Confirm succeeded although the state file could not be written")
	}
	if ok, _ := c.ExpiryAllowed(); ok {
		t.Fatal("a failed Confirm cleared the pending jump")
	}
}

func TestSmallAdvancePersists(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		persist func(*Clock) error // how the advance gets written
	}{
		{name: "Now after more than the persist interval", advance: time.Minute,
			persist: func(c *Clock) error { c.Now(); return c.Err() }},
		{name: "Persist after a short advance", advance: time.Second,
			persist: func(c *Clock) error { c.Now(); return c.Persist() }},
		{name: "Close after a short advance", advance: time.Second,
			persist: func(c *Clock) error { c.Now(); return c.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clock.json")
			w := newFakeWall(start)
			c := openT(t, path, w)
			w.Add(tt.advance)
			if err := tt.persist(c); err != nil {
				t.Fatal(err)
			}
			want := start.Add(tt.advance)
			if st := readState(t, path); !st.Trusted.Equal(want) {
				t.Fatalf("state file trusted = %v, want %v", st.Trusted, want)
			}
			c.Close()
			// Reopen with the wall clock set back: the persisted advance holds.
			w.Set(start)
			c2 := openT(t, path, w)
			if got := c2.Now(); !got.Equal(want) {
				t.Fatalf("Now after reopen = %v, want %v", got, want)
			}
		})
	}
}

func TestOpenRefusesCorruptState(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{name: "empty file", content: ""},
		{name: "truncated JSON", content: `{"version":1,"trusted":"2026-03-01T12:00:00Z"`},
		{name: "not JSON", content: "\x00\x00\x00\x00"},
		{name: "wrong version", content: `{"version":3,"trusted":"2026-03-01T12:00:00Z","jump_pending":false}`},
		{name: "missing trusted", content: `{"version":1,"jump_pending":false}`},
		{name: "zero trusted", content: `{"version":1,"trusted":"0001-01-01T00:00:00Z","jump_pending":false}`},
		{name: "bad time", content: `{"version":1,"trusted":"yesterday","jump_pending":false}`},
		{name: "missing jump_pending", content: `{"version":1,"trusted":"2026-03-01T12:00:00Z"}`},
		{name: "unknown field", content: `{"version":1,"trusted":"2026-03-01T12:00:00Z","jump_pending":false,"x":1}`},
		{name: "trailing data", content: `{"version":1,"trusted":"2026-03-01T12:00:00Z","jump_pending":false} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clock.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Open(path, newFakeWall(start).Now)
			if err == nil {
				c.Close()
				t.Fatal("Open accepted a corrupt state file")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "Restore") {
				t.Errorf("error %q does not name the file and say what to do", err)
			}
			data, _ := os.ReadFile(path)
			if string(data) != tt.content {
				t.Fatalf("corrupt state file was rewritten to %q", data)
			}
			// The lock was released: a fixed file can be opened at once.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			c = openT(t, path, newFakeWall(start))
			if !c.Now().Equal(start) {
				t.Fatal("clock did not start from the wall time after the file was moved aside")
			}
		})
	}
}

func TestOpenIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	w := newFakeWall(start)
	c := openT(t, path, w)
	if c2, err := Open(path, w.Now); !errors.Is(err, ErrLocked) {
		if err == nil {
			c2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	openT(t, path, w)
}

func TestMaxForwardJumpOption(t *testing.T) {
	tests := []struct {
		name        string
		opt         Option
		advance     time.Duration
		wantPending bool
	}{
		{name: "one hour limit, two hours advance", opt: MaxForwardJump(time.Hour), advance: 2 * time.Hour, wantPending: true},
		{name: "one hour limit, half hour advance", opt: MaxForwardJump(time.Hour), advance: 30 * time.Minute},
		{name: "week limit, three days advance", opt: MaxForwardJump(7 * 24 * time.Hour), advance: 72 * time.Hour},
		{name: "zero limit keeps the default", opt: MaxForwardJump(0), advance: 25 * time.Hour, wantPending: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWall(start)
			c := openT(t, filepath.Join(t.TempDir(), "clock.json"), w, tt.opt)
			w.Add(tt.advance)
			if got := c.Status().JumpPending; got != tt.wantPending {
				t.Fatalf("JumpPending = %v, want %v", got, tt.wantPending)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	w := newFakeWall(start)
	c := openT(t, filepath.Join(t.TempDir(), "clock.json"), w)
	w.Add(-time.Minute)
	data, err := json.Marshal(c.Status())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"trusted":             "2026-03-01T12:00:00Z",
		"wall":                "2026-03-01T11:59:00Z",
		"jump_pending":        false,
		"jump_ns":             float64(-time.Minute),
		"max_forward_jump_ns": float64(24 * time.Hour),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Status JSON %s = %v, want %v (all: %s)", k, got[k], v, data)
		}
	}
}

// TestWallMonotonicReadingIgnored checks that times carrying a monotonic
// reading (as time.Now returns) are compared by wall time only.
func TestWallMonotonicReadingIgnored(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "clock.json"), Wall)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := c.Now()
	if strings.Contains(got.String(), "m=") {
		t.Fatalf("Now kept a monotonic reading: %v", got)
	}
	if got.Location() != time.UTC {
		t.Fatalf("Now location = %v, want UTC", got.Location())
	}
}

func TestConcurrentUse(t *testing.T) {
	w := newFakeWall(start)
	c := openT(t, filepath.Join(t.TempDir(), "clock.json"), w)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := c.Now()
			for i := 0; i < 200; i++ {
				w.Add(10 * time.Millisecond)
				now := c.Now()
				if now.Before(prev) {
					t.Errorf("Now went backwards from %v to %v", prev, now)
					return
				}
				prev = now
				c.ExpiryAllowed()
				c.Status()
			}
		}()
	}
	wg.Wait()
	if want := start.Add(8 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("Now = %v, want %v", c.Now(), want)
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"version":1,"trusted":"2026-03-01T12:00:00Z","jump_pending":false}`))
	f.Add([]byte(`{"version":1,"trusted":"2026-03-01T12:00:00.123456789+05:30","jump_pending":true}`))
	f.Add([]byte(`{"version":1,"trusted":null,"jump_pending":true}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil {
			return
		}
		if st.Trusted.IsZero() || st.Version != stateVersion || st.Trusted.Location() != time.UTC {
			t.Fatalf("decodeState accepted an invalid state: %+v", st)
		}
		enc, err := encodeState(st)
		if err != nil {
			t.Fatalf("encodeState(%+v): %v", st, err)
		}
		again, err := decodeState(enc)
		if err != nil {
			t.Fatalf("decodeState(encodeState(%+v)) = %v", st, err)
		}
		if !again.Trusted.Equal(st.Trusted) || again.JumpPending != st.JumpPending {
			t.Fatalf("round trip changed %+v into %+v", st, again)
		}
	})
}

// TestClockStateWrittenAheadFreezesExpiry guards against a process that can
// write the state file but not the system time: a trusted time far ahead
// of the wall clock must not let retention expire early.
func TestClockStateWrittenAheadFreezesExpiry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	wall := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	src := func() time.Time { return wall }
	os.WriteFile(path, []byte(`{"version":1,"trusted":"2045-01-01T00:00:00Z","jump_pending":false}`), 0o600)
	c, err := Open(path, src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, why := c.ExpiryAllowed(); ok || !strings.Contains(why, "tampered") {
		t.Fatalf("ExpiryAllowed = %v, %q; want expiry frozen with a reason naming tampering", ok, why)
	}
	if err := c.Confirm(); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(wall) {
		t.Fatalf("after confirming, Now = %s; want the confirmed wall time %s", got, wall)
	}
	if ok, _ := c.ExpiryAllowed(); !ok {
		t.Fatal("expiry still frozen after the operator confirmed the time")
	}
}
