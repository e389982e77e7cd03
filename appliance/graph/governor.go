package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Observer receives what the governor sees; the agent's metrics implement
// it. Methods must be safe for concurrent use and fast.
type Observer interface {
	// Request is called once per HTTP response (including retried ones).
	Request(workload string, status int)
	// Throttled is called for every 429/503/504 with the wait it caused.
	Throttled(workload string, wait time.Duration)
}

type nopObserver struct{}

func (nopObserver) Request(string, int)             {}
func (nopObserver) Throttled(string, time.Duration) {}

// GovernorOptions tunes the governor.
type GovernorOptions struct {
	// PerResource is the most concurrent requests per mailbox, drive or
	// site (default 4, Exchange's limit).
	PerResource int
	// MaxRetries bounds retries of one request (default 8).
	MaxRetries int
	// MaxWait caps a single wait, whatever Retry-After says (default 5m).
	MaxWait time.Duration
	// BaseBackoff is the first backoff without a Retry-After (default 1s).
	BaseBackoff time.Duration
	// AttemptTimeout bounds one attempt of a request, from sending it
	// until its response body is closed (default 5m). Waits for a slot,
	// pauses and backoffs between attempts do not count: the governed
	// http.Client has no overall timeout, and a caller wanting one sets a
	// deadline on the request's context.
	AttemptTimeout time.Duration
	Observer       Observer
	// Reauth, when set, gives a fresh access token after a 401 (the
	// rejected token is passed in); the request is then retried once.
	Reauth func(ctx context.Context, rejected string) (string, error)
}

// Governor is an http.RoundTripper shared by all workers of a tenant.
type Governor struct {
	next http.RoundTripper
	opts GovernorOptions

	mu         sync.Mutex
	sems       map[string]chan struct{}
	pauseUntil time.Time
	stats      Stats
}

// Stats are the governor's running totals.
type Stats struct {
	Requests  int64         `json:"requests"`
	Throttled int64         `json:"throttled"`
	Retries   int64         `json:"retries"`
	Paused    time.Duration `json:"paused_ns"`
}

// NewGovernor wraps next.
func NewGovernor(next http.RoundTripper, o GovernorOptions) *Governor {
	if o.PerResource <= 0 {
		o.PerResource = 4
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 8
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 5 * time.Minute
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 5 * time.Minute
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	return &Governor{next: next, opts: o, sems: map[string]chan struct{}{}}
}

// Stats returns a copy of the running totals.
func (g *Governor) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// resourceOf returns the throttling key and workload of a Graph path such
// as /v1.0/users/{id}/mailFolders/... .
func resourceOf(path string) (key, workload string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) > 0 && (parts[0] == "v1.0" || parts[0] == "beta") {
		parts = parts[1:]
	}
	if len(parts) < 2 {
		return "", "directory"
	}
	key = parts[0] + "/" + parts[1]
	switch parts[0] {
	case "users", "me":
		workload = "exchange"
		if len(parts) > 2 && (parts[2] == "drive" || parts[2] == "drives") {
			workload = "onedrive"
		}
		if len(parts) == 2 {
			workload = "directory"
		}
	case "drives":
		workload = "onedrive"
	case "sites":
		workload = "sharepoint"
	case "teams", "groups", "chats":
		workload = "teams"
	default:
		workload = "directory"
	}
	return key, workload
}

func (g *Governor) sem(key string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sems[key]
	if s == nil {
		s = make(chan struct{}, g.opts.PerResource)
		g.sems[key] = s
	}
	return s
}

// RoundTrip sends req under the resource's concurrency limit, waiting out
// any tenant-wide pause, and retries throttled or failed attempts; a POST
// only when Graph cannot have applied it (see idempotent).
//
// The resource's slot is held until the caller closes the response body,
// not just until the headers arrive: Exchange counts a request as in flight
// until its body has been sent, and releasing early lets a fifth request
// start and draw a 429 that pauses the whole tenant.
func (g *Governor) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	key, workload := resourceOf(req.URL.Path)
	if key == "" {
		return g.roundTrip(req, workload)
	}
	s := g.sem(key)
	select {
	case s <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-s }) }
	resp, err := g.roundTrip(req, workload)
	if err != nil || resp.Body == nil {
		release()
		return resp, err
	}
	if buffered(resp) {
		// Read now and free the slot at once: kiota's redirect handler
		// never closes the body of a 3xx it follows, which would leak
		// the slot, and a small body costs nothing to hold in memory.
		resp.Body = readAll(resp.Body, smallBody)
		release()
		return resp, nil
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// smallBody is the most a response body is read into memory for, so that
// its slot can be released before the caller has seen it.
const smallBody = 64 << 10

// buffered reports whether a response body is read before RoundTrip
// returns: every redirect (its body is never read, nor always closed, by
// the redirect handler) and any body whose small length is known.
func buffered(resp *http.Response) bool {
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return true
	}
	return resp.ContentLength >= 0 && resp.ContentLength <= smallBody
}

// readAll reads at most limit bytes of body, closes it, and returns an
// in-memory body with what was read, followed by the read error if there
// was one (a truncated body stays visible as such).
func readAll(body io.ReadCloser, limit int64) io.ReadCloser {
	data, err := io.ReadAll(io.LimitReader(body, limit))
	body.Close()
	var r io.Reader = bytes.NewReader(data)
	if err != nil {
		r = io.MultiReader(r, errReader{err})
	}
	return io.NopCloser(r)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// releasingBody frees the resource's slot when the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

func (g *Governor) roundTrip(req *http.Request, workload string) (*http.Response, error) {
	ctx := req.Context()
	reauthed := false
	for attempt := 0; ; attempt++ {
		if err := g.waitPause(ctx); err != nil {
			return nil, err
		}
		if attempt > 0 {
			if req.Body != nil && req.GetBody == nil {
				return nil, errors.New("graph: request body cannot be re-sent for a retry")
			}
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				req.Body = body
			}
		}
		resp, err := g.attempt(req)
		g.mu.Lock()
		g.stats.Requests++
		g.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil || !retryableNetErr(err) || attempt >= g.opts.MaxRetries {
				return nil, err
			}
			if !idempotent(req) && !notSent(err) {
				// The request may have reached Graph and been applied.
				return nil, err
			}
			g.retryAfter(ctx, workload, g.backoff(attempt), false)
			continue
		}
		g.opts.Observer.Request(workload, resp.StatusCode)
		if resp.StatusCode == http.StatusUnauthorized && g.opts.Reauth != nil && !reauthed && req.Header.Get("Authorization") != "" {
			reauthed = true
			tok, err := g.opts.Reauth(ctx, bearer(req.Header.Get("Authorization")))
			if err != nil {
				return resp, nil
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			req.Header.Set("Authorization", "Bearer "+tok)
			attempt--
			continue
		}
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return resp, nil
		}
		if attempt >= g.opts.MaxRetries {
			return resp, nil
		}
		wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"))
		if !idempotent(req) && !(resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable && ok) {
			// A 504, or a 503 without Retry-After, may come after Graph
			// applied the request: sending a create again could make a
			// second item.
			return resp, nil
		}
		if !ok {
			wait = g.backoff(attempt)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		g.opts.Observer.Throttled(workload, wait)
		g.mu.Lock()
		g.stats.Throttled++
		g.mu.Unlock()
		// 429 and 503 pause the whole tenant: Microsoft counts the app's
		// requests across workers, so one worker's throttle is everyone's.
		tenantWide := resp.StatusCode != http.StatusGatewayTimeout
		if err := g.retryAfter(ctx, workload, wait, tenantWide); err != nil {
			return nil, err
		}
	}
}

// attempt sends req once under AttemptTimeout. The timeout covers reading
// the body too: it is cancelled when the body is closed.
func (g *Governor) attempt(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), g.opts.AttemptTimeout)
	resp, err := g.next.RoundTrip(req.WithContext(ctx))
	if err != nil || resp.Body == nil {
		cancel()
		return resp, err
	}
	resp.Body = &cancellingBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancellingBody ends its attempt's context when closed.
type cancellingBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancellingBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// retryAfter waits d (capped, with jitter), either as a tenant-wide pause
// or for this request alone.
func (g *Governor) retryAfter(ctx context.Context, workload string, d time.Duration, tenantWide bool) error {
	if d > g.opts.MaxWait {
		d = g.opts.MaxWait
	}
	d += time.Duration(rand.Int64N(int64(d)/10 + 1))
	g.mu.Lock()
	g.stats.Retries++
	if tenantWide {
		if until := time.Now().Add(d); until.After(g.pauseUntil) {
			g.pauseUntil = until
		}
		g.mu.Unlock()
		return g.waitPause(ctx)
	}
	g.mu.Unlock()
	return sleepCtx(ctx, d)
}

func (g *Governor) waitPause(ctx context.Context) error {
	g.mu.Lock()
	d := time.Until(g.pauseUntil)
	if d > 0 {
		g.stats.Paused += d
	}
	g.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return sleepCtx(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is exponential from BaseBackoff, capped at MaxWait.
func (g *Governor) backoff(attempt int) time.Duration {
	d := g.opts.BaseBackoff << min(attempt, 10)
	if d > g.opts.MaxWait {
		d = g.opts.MaxWait
	}
	return d
}

// parseRetryAfter reads seconds or an HTTP date.
func parseRetryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// idempotent reports whether req may be sent again when its outcome is
// unknown. A POST creates (a restored message, a folder) and is sent again
// only when Graph said it did not apply it: a 429 (throttled before being
// processed) or a 503 with Retry-After, or a failure to connect at all;
// one with an Idempotency-Key header is safe like the other methods.
func idempotent(req *http.Request) bool {
	if req.Method != http.MethodPost {
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}

// notSent reports a network error from before the request was written:
// the connection could not be made.
func notSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

func retryableNetErr(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}
