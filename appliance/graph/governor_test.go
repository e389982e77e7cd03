package graph

import (
	"context"
	"errors"
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

// TestResourceOf guards how a request is throttled: by which mailbox,
// drive or site, under which workload label, and whether a 429 on it
// speaks for one mailbox only.
func TestResourceOf(t *testing.T) {
	cases := []struct {
		name, path, key, workload string
		mailbox                   bool
	}{
		{"mail delta", "/v1.0/users/abc/mailFolders/x/messages/delta()", "users/abc", "exchange", true},
		{"message MIME", "/v1.0/users/abc/messages/m1/$value", "users/abc", "exchange", true},
		{"contacts", "/v1.0/users/abc/contactFolders/c/contacts/delta()", "users/abc", "exchange", true},
		{"calendar", "/v1.0/users/abc/calendars/c/events/delta()", "users/abc", "exchange", true},
		{"UPN in any case is one mailbox", "/v1.0/users/Alice@Contoso.com/mailFolders", "users/alice@contoso.com", "exchange", true},
		{"me", "/v1.0/me/messages", "me", "exchange", true},
		{"beta", "/beta/users/abc/events", "users/abc", "exchange", true},
		{"group membership is not the mailbox", "/v1.0/users/abc/memberOf", "users/abc", "exchange", false},
		{"user's drive", "/v1.0/users/abc/drive/root/delta()", "users/abc", "onedrive", false},
		{"drive", "/v1.0/drives/d1/items/i", "drives/d1", "onedrive", false},
		{"site", "/v1.0/sites/s1/lists", "sites/s1", "sharepoint", false},
		{"group", "/v1.0/groups/g1/conversations", "groups/g1", "teams", false},
		{"user listing", "/v1.0/users", "", "directory", false},
		{"batch", "/v1.0/$batch", "", "directory", false},
		{"user record", "/v1.0/users/abc", "users/abc", "directory", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := resourceOf(c.path)
			if r.key != c.key || r.workload != c.workload || r.mailbox != c.mailbox {
				t.Fatalf("resourceOf(%q) = %+v; want key %q, workload %q, mailbox %v", c.path, r, c.key, c.workload, c.mailbox)
			}
		})
	}
}

func TestMissingRoles(t *testing.T) {
	held := []string{"Mail.ReadWrite", "User.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Group.Read.All",
		"ChannelMessage.Read.All", "TeamMember.Read.All", "TeamsTab.Read.All"}
	got := Missing(held, BackupRoles)
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

// throttleServer answers the first request to throttlePath with status and
// a Retry-After of 30 s, and everything else with 200; it counts what
// reached it by path.
type throttleServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newThrottleServer(t *testing.T, throttlePath string, status int) *throttleServer {
	ts := &throttleServer{hits: map[string]int{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.hits[r.URL.Path]++
		n := ts.hits[r.URL.Path]
		ts.mu.Unlock()
		if r.URL.Path == throttlePath && n == 1 {
			w.Header().Set("Retry-After", "30")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(`{"error":{"code":"ApplicationThrottled","message":"throttled"}}`))
			return
		}
		w.Write([]byte(`{"value":[]}`))
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *throttleServer) hit(path string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.hits[path]
}

type retryAfterObserver struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (o *retryAfterObserver) Request(string, int) {}

func (o *retryAfterObserver) Throttled(_ string, retryAfter time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, retryAfter)
}

// TestGovernorPauseScope guards what a throttle pauses: a 429 on one
// mailbox's URL holds that mailbox only (Exchange limits each mailbox on
// its own), while a 503 anywhere or a 429 on a tenant-level URL holds
// every request of the tenant. The throttled request is answered with
// Retry-After: 30, so a held request is one that cannot reach the server
// before its short deadline, and a free one is one that does.
func TestGovernorPauseScope(t *testing.T) {
	const (
		boxA     = "/v1.0/users/a/mailFolders/inbox/messages/delta()"
		boxAUPN  = "/v1.0/users/A@Contoso.com/messages/m1/$value"
		boxB     = "/v1.0/users/b/mailFolders/inbox/messages/delta()"
		drive    = "/v1.0/users/a/drive/root/delta()"
		listing  = "/v1.0/users"
		batch    = "/v1.0/$batch"
		site     = "/v1.0/sites/s1/lists"
		heldFor  = 300 * time.Millisecond // deadline of a request expected to be held
		freeWait = 10 * time.Second       // deadline of a request expected to go through
	)
	cases := []struct {
		name      string
		throttled string // path answered with status once
		status    int
		sameBox   string // another request to the throttled mailbox, or ""
		holdsB    bool   // whether mailbox b is held too
		mailbox   bool   // whether the pause is the mailbox's alone
	}{
		{"429 on a mailbox holds that mailbox only", boxA, http.StatusTooManyRequests, "/v1.0/users/a/contactFolders/c/contacts/delta()", false, true},
		{"429 on a mailbox named by UPN holds it in any case", "/v1.0/users/a@contoso.com/mailFolders", http.StatusTooManyRequests, boxAUPN, false, true},
		{"503 on a mailbox holds the tenant", boxA, http.StatusServiceUnavailable, "", true, false},
		{"429 on the user listing holds the tenant", listing, http.StatusTooManyRequests, "", true, false},
		{"429 on $batch holds the tenant", batch, http.StatusTooManyRequests, "", true, false},
		{"429 on a user's drive holds the tenant", drive, http.StatusTooManyRequests, "", true, false},
		{"429 on a site holds the tenant", site, http.StatusTooManyRequests, "", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newThrottleServer(t, c.throttled, c.status)
			obs := &retryAfterObserver{}
			g := NewGovernor(http.DefaultTransport, GovernorOptions{Observer: obs})
			get := func(ctx context.Context, path string) error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
				resp, err := g.RoundTrip(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return &statusErr{resp.StatusCode}
				}
				return nil
			}

			// The throttled request waits out its Retry-After in the
			// background until the end of the test.
			ctxA, cancelA := context.WithCancel(context.Background())
			doneA := make(chan error, 1)
			go func() { doneA <- get(ctxA, c.throttled) }()
			deadline := time.Now().Add(freeWait)
			for g.Stats().Retries == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the throttled request never started waiting")
				}
				time.Sleep(5 * time.Millisecond)
			}

			wait := heldFor
			if !c.holdsB {
				wait = freeWait
			}
			ctxB, cancelB := context.WithTimeout(context.Background(), wait)
			errB := get(ctxB, boxB)
			cancelB()
			switch {
			case c.holdsB && (!errors.Is(errB, context.DeadlineExceeded) || srv.hit(boxB) != 0):
				t.Errorf("mailbox b: %v after %d requests reached the server; want it held by the tenant-wide pause", errB, srv.hit(boxB))
			case !c.holdsB && (errB != nil || srv.hit(boxB) != 1):
				t.Errorf("mailbox b: %v after %d requests reached the server; want it served while only mailbox a is paused", errB, srv.hit(boxB))
			}
			if c.sameBox != "" {
				ctx, cancel := context.WithTimeout(context.Background(), heldFor)
				err := get(ctx, c.sameBox)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) || srv.hit(c.sameBox) != 0 {
					t.Errorf("another request to the paused mailbox: %v after %d reached the server; want it held until Retry-After", err, srv.hit(c.sameBox))
				}
			}

			cancelA()
			if err := <-doneA; !errors.Is(err, context.Canceled) || srv.hit(c.throttled) != 1 {
				t.Errorf("throttled request: %v after %d attempts; want it still waiting out Retry-After: 30 when cancelled", err, srv.hit(c.throttled))
			}

			// What the governor reports: one throttle, with the 30 s
			// Graph asked for, and a pause of the right scope of at
			// least that long in wall time (jitter adds up to 10 %).
			st := g.Stats()
			obs.mu.Lock()
			waits := append([]time.Duration(nil), obs.waits...)
			obs.mu.Unlock()
			if len(waits) != 1 || waits[0] != 30*time.Second || st.Throttled != 1 {
				t.Errorf("observer saw Retry-After %v, stats %d throttled; want one throttle of 30s", waits, st.Throttled)
			}
			paused, other := st.Paused, st.MailboxPaused
			wantBox := int64(0)
			if c.mailbox {
				paused, other, wantBox = st.MailboxPaused, st.Paused, 1
			}
			if paused < 30*time.Second || paused > 33*time.Second || other != 0 || st.MailboxThrottled != wantBox {
				t.Errorf("stats %+v; want a pause of 30–33 s counted once, as the mailbox's: %v", st, c.mailbox)
			}
		})
	}
}

// TestGovernorThrottleReporting guards honest numbers: only a response
// that asked to back off (429, 503 with Retry-After) counts as throttled,
// with the delay Graph asked for, including one that exhausts the retries;
// a 504 or a bare 503 is a failure, retried but not a throttle. Paused
// counts wall time once, however many requests waited through it.
func TestGovernorThrottleReporting(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch r.URL.Query().Get("mode") {
		case "504":
			if n%2 == 1 {
				w.WriteHeader(http.StatusGatewayTimeout)
				return
			}
		case "503":
			if n%2 == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		case "always-429":
			w.Header().Set("Retry-After", "0.02")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case "pause":
			if n == 1 {
				w.Header().Set("Retry-After", "0.3")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	get := func(g *Governor, mode string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1.0/users/u1/messages?mode="+mode, nil)
		resp, err := g.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("failures are not throttles", func(t *testing.T) {
		calls.Store(0)
		obs := &retryAfterObserver{}
		g := NewGovernor(http.DefaultTransport, GovernorOptions{BaseBackoff: 5 * time.Millisecond, Observer: obs})
		if get(g, "504") != 200 || get(g, "503") != 200 {
			t.Fatal("a 504 or a bare 503 was not retried")
		}
		if st := g.Stats(); st.Throttled != 0 || st.Retries != 2 || len(obs.waits) != 0 {
			t.Fatalf("stats %+v, observer %v; want 2 retries and no throttle", st, obs.waits)
		}
	})
	t.Run("the last 429 counts too", func(t *testing.T) {
		obs := &retryAfterObserver{}
		g := NewGovernor(http.DefaultTransport, GovernorOptions{MaxRetries: 2, Observer: obs})
		if code := get(g, "always-429"); code != http.StatusTooManyRequests {
			t.Fatalf("status %d once retries ran out, want 429", code)
		}
		st := g.Stats()
		if st.Throttled != 3 || st.MailboxThrottled != 3 || st.Retries != 2 || len(obs.waits) != 3 || obs.waits[2] != 20*time.Millisecond {
			t.Fatalf("stats %+v, observer %v; want 3 throttles of 20ms and 2 retries", st, obs.waits)
		}
	})
	t.Run("a pause is counted once in wall time", func(t *testing.T) {
		calls.Store(0)
		g := NewGovernor(http.DefaultTransport, GovernorOptions{})
		first := make(chan int, 1)
		go func() { first <- get(g, "pause") }()
		for g.Stats().Retries == 0 {
			time.Sleep(time.Millisecond)
		}
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := get(g, "pause"); code != 200 {
					t.Errorf("status %d", code)
				}
			}()
		}
		wg.Wait()
		if code := <-first; code != 200 {
			t.Fatalf("status %d after the pause", code)
		}
		if st := g.Stats(); st.Paused < 300*time.Millisecond || st.Paused > 330*time.Millisecond {
			t.Fatalf("Paused = %v after one pause of 0.3 s that 9 requests waited out; want 300–330ms", st.Paused)
		}
	})
}

// TestResourceUnits guards the cost table the governor counts OneDrive and
// SharePoint requests with.
func TestResourceUnits(t *testing.T) {
	cases := []struct {
		method, url string
		want        int
	}{
		{"GET", "https://g/v1.0/users/u/messages", 0},
		{"GET", "https://g/v1.0/users/u/drive", 1},
		{"GET", "https://g/v1.0/drives/d/items/i/content", 1},
		{"GET", "https://g/v1.0/drives/d/root/delta", 2},
		{"GET", "https://g/v1.0/drives/d/root/delta?token=abc", 1},
		{"GET", "https://g/v1.0/drives/d/items/i/children", 2},
		{"GET", "https://g/v1.0/drives/d/items/i/versions", 2},
		{"GET", "https://g/v1.0/drives/d/items/i/permissions", 5},
		{"GET", "https://g/v1.0/drives/d/items/i?$expand=permissions", 5},
		{"GET", "https://g/v1.0/drives/d/root/permissions", 5},
		{"GET", "https://g/v1.0/sites/s/permissions", 5},
		{"GET", "https://g/v1.0/sites/s/permissions/p1", 5},
		{"POST", "https://g/v1.0/sites/s/permissions", 5},
		{"PUT", "https://g/v1.0/drives/d/items/p:/a.txt:/content", 2},
		{"GET", "https://g/v1.0/sites/s/lists", 2},
		{"GET", "https://g/v1.0/sites/s/pages/microsoft.graph.sitePage", 2},
		{"GET", "https://g/v1.0/sites/s", 1},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, c.url, nil)
		if got := resourceUnits(req, resourceOf(req.URL.Path)); got != c.want {
			t.Errorf("%s %s: %d resource units, want %d", c.method, c.url, got, c.want)
		}
	}
	// A download from a pre-authenticated URL is on another host and path.
	req, _ := http.NewRequestWithContext(context.WithValue(context.Background(), downloadKey{}, true), "GET", "https://contoso.sharepoint.com/_layouts/15/download.aspx?UniqueId=x", nil)
	if got := resourceUnits(req, resourceOf(req.URL.Path)); got != 1 {
		t.Errorf("a download from a pre-authenticated URL: %d resource units, want 1", got)
	}
}

// TestGovernorPacesResourceUnits guards the pacing of OneDrive and
// SharePoint requests: a full budget is spent at once, then requests wait
// for the units they cost, and Exchange requests never wait for units.
func TestGovernorPacesResourceUnits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer srv.Close()
	// 600 units a minute: a budget of 30 refilled at 9.5 a second; a
	// permissions request costs 5.
	g := NewGovernor(http.DefaultTransport, GovernorOptions{ResourceUnitsPerMinute: 600})
	c := &http.Client{Transport: g}
	get := func(path string) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	start := time.Now()
	for range 6 {
		get("/v1.0/drives/d/items/i/permissions")
	}
	if g.Stats().UnitsWait != 0 {
		t.Fatalf("the first 30 units waited %s", g.Stats().UnitsWait)
	}
	for range 50 {
		get("/v1.0/users/u/messages") // Exchange: no units
	}
	for range 3 {
		get("/v1.0/drives/d/items/i/permissions")
	}
	// 15 more units at 9.5 a second: about 1.6 s (less what refilled
	// while the first requests ran).
	elapsed := time.Since(start)
	if st := g.Stats(); st.ResourceUnits != 45 || st.UnitsWait == 0 || elapsed < time.Second {
		t.Fatalf("after 9 permission requests: %d units, waited %s, took %s; want 45 units and a wait of over a second", st.ResourceUnits, st.UnitsWait, elapsed)
	}
}

// TestGovernorPacesTeams guards the pacing of Teams and group requests:
// a twentieth of a second's worth go at once, the next ones wait their
// turn, and other workloads never wait for it.
func TestGovernorPacesTeams(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer srv.Close()
	// 40 a second: 2 at once, then 38 a second.
	g := NewGovernor(http.DefaultTransport, GovernorOptions{TeamsPerSecond: 40})
	c := &http.Client{Transport: g}
	get := func(path string) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for range 2 {
		get("/v1.0/teams/t/channels/c/messages/delta")
	}
	for range 30 {
		get("/v1.0/users/u/messages")
	}
	if w := g.Stats().TeamsWait; w != 0 {
		t.Fatalf("the first 2 Teams requests or Exchange requests waited %s", w)
	}
	start := time.Now()
	for range 20 {
		get("/v1.0/groups/g/threads")
	}
	// 20 more at 38 a second: about half a second.
	if st, took := g.Stats(), time.Since(start); st.TeamsWait < 300*time.Millisecond || took < 300*time.Millisecond {
		t.Fatalf("20 Teams requests at 38 a second: waited %s, took %s", st.TeamsWait, took)
	}
}
