package tenantsim

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// throttler enforces per-mailbox limits: requests in flight and requests
// per fixed window. The key is the user id (or the drive id for file
// routes).
type throttler struct {
	cfg   Throttle
	now   func() time.Time
	mu    sync.Mutex
	boxes map[string]*boxState
}

type boxState struct {
	inflight    int
	windowStart time.Time
	count       int
}

func newThrottler(cfg Throttle, now func() time.Time) *throttler {
	return &throttler{cfg: cfg, now: now, boxes: map[string]*boxState{}}
}

// acquire admits a request for mailbox key. It returns a release func, or
// nil and the Retry-After seconds when the request must get 429.
func (t *throttler) acquire(key string) (release func(), retryAfter int) {
	if t.cfg.Mode == ThrottleOff {
		return func() {}, 0
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.boxes[key]
	if b == nil {
		b = &boxState{windowStart: now}
		t.boxes[key] = b
	}
	if now.Sub(b.windowStart) >= t.cfg.Window {
		b.windowStart, b.count = now, 0
	}
	if t.cfg.Requests > 0 && b.count >= t.cfg.Requests {
		left := b.windowStart.Add(t.cfg.Window).Sub(now)
		return nil, max(1, int((left+time.Second-1)/time.Second))
	}
	if t.cfg.Concurrent > 0 && b.inflight >= t.cfg.Concurrent {
		return nil, max(1, int((t.cfg.RetryAfter+time.Second-1)/time.Second))
	}
	b.count++
	b.inflight++
	return func() {
		t.mu.Lock()
		b.inflight--
		t.mu.Unlock()
	}, 0
}

// take spends cost from the tenant-wide budget key of limit per window.
// It returns 0 when admitted, else the Retry-After seconds.
func (t *throttler) take(key string, limit int, window time.Duration, cost int) (retryAfter int) {
	if t.cfg.Mode == ThrottleOff || limit <= 0 {
		return 0
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.boxes[key]
	if b == nil || now.Sub(b.windowStart) >= window {
		b = &boxState{windowStart: now}
		t.boxes[key] = b
	}
	if b.count+cost > limit {
		left := b.windowStart.Add(window).Sub(now)
		return max(1, int((left+time.Second-1)/time.Second))
	}
	b.count += cost
	return 0
}

// resourceUnits is what a file or site request costs.
func resourceUnits(r *http.Request, class string) int {
	switch {
	case r.Method != http.MethodGet:
		return 2
	case class == "files.delta":
		if r.URL.Query().Get("$deltatoken") != "" || strings.Contains(r.URL.Path, "(token=") {
			return 1
		}
		return 2
	case class == "files.content":
		return 1
	}
	last := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	switch last {
	case "children", "drives", "lists", "items", "versions", "permissions", "sites":
		return 2
	}
	return 1
}
