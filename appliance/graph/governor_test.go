package graph

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
)

type countingObserver struct {
	mu        sync.Mutex
	statuses  map[int]int
	throttled int
}

func (o *countingObserver) Request(_ string, status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.statuses[status]++
}

func (o *countingObserver) Throttled(string, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.throttled++
}

// TestGovernorLimitsAndRetries guards the throttle contract: never more
// than PerResource concurrent requests against one mailbox, a 429 with
// Retry-After pauses and is retried until it succeeds, and every response
// is observed.
func TestGovernorLimitsAndRetries(t *testing.T) {
	var inFlight, peak, calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if calls.Add(1)%5 == 0 {
			w.Header().Set("Retry-After", "0.05")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		time.Sleep(5 * time.Millisecond)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	obs := &countingObserver{statuses: map[int]int{}}
	g := NewGovernor(http.DefaultTransport, GovernorOptions{PerResource: 4, BaseBackoff: 10 * time.Millisecond, Observer: obs})
	hc := &http.Client{Transport: g}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get(srv.URL + "/v1.0/users/u1/mailFolders/inbox/messages")
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- &statusErr{resp.StatusCode}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 4 {
		t.Fatalf("peak concurrency against one mailbox = %d, want <= 4", p)
	}
	if obs.throttled == 0 || obs.statuses[429] != obs.throttled || obs.statuses[200] != 40 {
		t.Fatalf("observer saw %v and %d throttles; want 40 successes and every 429 counted", obs.statuses, obs.throttled)
	}
}

type statusErr struct{ code int }

func (e *statusErr) Error() string { return http.StatusText(e.code) }

func TestResourceOf(t *testing.T) {
	cases := []struct{ path, key, workload string }{
		{"/v1.0/users/abc/mailFolders/x/messages/delta()", "users/abc", "exchange"},
		{"/v1.0/users/abc/drive/root/delta()", "users/abc", "onedrive"},
		{"/v1.0/drives/d1/items/i", "drives/d1", "onedrive"},
		{"/v1.0/sites/s1/lists", "sites/s1", "sharepoint"},
		{"/v1.0/users", "", "directory"},
		{"/v1.0/users/abc", "users/abc", "directory"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			k, w := resourceOf(c.path)
			if k != c.key || w != c.workload {
				t.Fatalf("resourceOf(%q) = %q, %q; want %q, %q", c.path, k, w, c.key, c.workload)
			}
		})
	}
}

func TestMissingRoles(t *testing.T) {
	got := Missing([]string{"Mail.ReadWrite", "User.Read.All"}, BackupRoles)
	if len(got) != 2 || got[0] != "Contacts.Read" || got[1] != "Calendars.Read" {
		t.Fatalf("Missing = %v, want [Contacts.Read Calendars.Read]", got)
	}
}

// TestGovernorReauthOn401 guards recovery from a token revoked mid-run:
// one 401 leads to one fresh token and a retry with it.
func TestGovernorReauthOn401(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var asked []string
	g := NewGovernor(http.DefaultTransport, GovernorOptions{Reauth: func(_ context.Context, rejected string) (string, error) {
		asked = append(asked, rejected)
		return "fresh", nil
	}})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1.0/users/u1/messages", nil)
	req.Header.Set("Authorization", "Bearer stale")
	resp, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(asked) != 1 || asked[0] != "stale" {
		t.Fatalf("status %d after reauth, reauth asked %v; want 200 after one reauth for the stale token", resp.StatusCode, asked)
	}
	req2, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1.0/users/u1/messages", nil)
	req2.Header.Set("Authorization", "Bearer other-stale")
	g.opts.Reauth = func(context.Context, string) (string, error) { return "still-bad", nil }
	resp, err = g.RoundTrip(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a token the tenant keeps rejecting gave %d, want the 401 back after one retry", resp.StatusCode)
	}
}

// TestGovernorRedirectReleasesSlot guards the slot of a redirected
// request: kiota's redirect handler follows a 3xx without closing its
// body, so the governor must free the slot itself. With one slot per
// mailbox, a leak would block the second request for good.
func TestGovernorRedirectReleasesSlot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1.0/users/u1/messages/m1/$value" {
			http.Redirect(w, r, "/v1.0/users/u1/content/m1", http.StatusFound)
			return
		}
		w.Write([]byte("MIME"))
	}))
	defer srv.Close()
	g := NewGovernor(http.DefaultTransport, GovernorOptions{PerResource: 1})
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(g, khttp.NewRedirectHandler()),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1.0/users/u1/messages/m1/$value", nil)
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("request %d after a redirect: %v (a slot leaked?)", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != 200 || string(body) != "MIME" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
}

// TestGovernorSmallBodyInMemory guards that a small body of known length
// is handed over in memory with its slot already free, and that a large
// one keeps its slot until closed.
func TestGovernorSmallBodyInMemory(t *testing.T) {
	big := strings.Repeat("x", smallBody+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/big") {
			w.Write([]byte(big))
			return
		}
		w.Write([]byte(`{"value":[]}`))
	}))
	defer srv.Close()
	g := NewGovernor(http.DefaultTransport, GovernorOptions{PerResource: 1})
	get := func(path string) *http.Response {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		resp, err := g.RoundTrip(req)
		if err != nil {
			return nil
		}
		return resp
	}
	small := get("/v1.0/users/u1/small")
	if small == nil {
		t.Fatal("first request failed")
	}
	big1 := get("/v1.0/users/u1/big")
	if big1 == nil {
		t.Fatal("the slot of a small, unclosed body was not released")
	}
	if b, _ := io.ReadAll(small.Body); string(b) != `{"value":[]}` {
		t.Fatalf("small body read back as %q", b)
	}
	if get("/v1.0/users/u1/small") != nil {
		t.Fatal("a large body's slot was released before the body was closed")
	}
	big1.Body.Close()
	if r := get("/v1.0/users/u1/small"); r == nil {
		t.Fatal("closing the large body did not free its slot")
	}
}

// TestGovernorAttemptTimeout guards the per-attempt bound: an attempt
// that hangs is abandoned after AttemptTimeout and retried, and a body
// that stalls while being read ends with an error instead of hanging.
func TestGovernorAttemptTimeout(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path == "/v1.0/users/u1/hang" && n == 1 {
			<-r.Context().Done()
			return
		}
		if r.URL.Path == "/v1.0/users/u1/stall" {
			w.Header().Set("Content-Length", "200000")
			w.Write(make([]byte, 100000))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	g := NewGovernor(http.DefaultTransport, GovernorOptions{AttemptTimeout: 200 * time.Millisecond, BaseBackoff: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1.0/users/u1/hang", nil)
	resp, err := g.RoundTrip(req)
	if err != nil {
		t.Fatalf("a hung attempt was not retried: %v", err)
	}
	resp.Body.Close()
	if calls.Load() != 2 {
		t.Fatalf("%d attempts, want the hung one and its retry", calls.Load())
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/v1.0/users/u1/stall", nil)
	resp, err = g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a stalled body read to the end without error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a stalled body was not bounded by AttemptTimeout")
	}
}

// TestGovernorPostRetries guards creates against duplicates: a POST is
// sent again only after a 429 or a 503 with Retry-After (Graph did not
// apply it), never after a 504, a 503 without Retry-After or a dropped
// connection, where it may have been applied. A GET is retried on all.
func TestGovernorPostRetries(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := r.URL.Query().Get("mode")
		mu.Lock()
		calls[r.Method+" "+mode]++
		n := calls[r.Method+" "+mode]
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		if n > 1 {
			w.WriteHeader(http.StatusCreated)
			return
		}
		switch mode {
		case "429":
			w.WriteHeader(http.StatusTooManyRequests)
		case "503-retry-after":
			w.Header().Set("Retry-After", "0.01")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "504":
			w.WriteHeader(http.StatusGatewayTimeout)
		case "reset":
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
		}
	}))
	defer srv.Close()
	g := NewGovernor(http.DefaultTransport, GovernorOptions{BaseBackoff: 5 * time.Millisecond})
	cases := []struct {
		method, mode string
		sent         int
	}{
		{"POST", "429", 2},
		{"POST", "503-retry-after", 2},
		{"POST", "503", 1},
		{"POST", "504", 1},
		{"POST", "reset", 1},
		{"GET", "503", 2},
		{"GET", "504", 2},
		{"GET", "reset", 2},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.mode, func(t *testing.T) {
			var body io.Reader
			if c.method == "POST" {
				body = strings.NewReader("bWltZQ==")
			}
			req, _ := http.NewRequest(c.method, srv.URL+"/v1.0/users/u1/mailFolders/f1/messages?mode="+c.mode, body)
			resp, err := g.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			mu.Lock()
			sent := calls[c.method+" "+c.mode]
			mu.Unlock()
			if sent != c.sent {
				t.Fatalf("sent %d times (err %v), want %d", sent, err, c.sent)
			}
		})
	}
}
