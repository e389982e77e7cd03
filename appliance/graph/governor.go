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
	// Throttled is called once for every response that asked the agent to
	// back off, a 429 or a 503 with Retry-After, retried or not, with the
	// delay its Retry-After asked for (0 for a 429 without one). A 504 or
	// a 503 without Retry-After is a failure, not a throttle: it is only
	// seen through Request.
	Throttled(workload string, retryAfter time.Duration)
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
	// ResourceUnitsPerMinute paces OneDrive and SharePoint requests,
	// downloads from their pre-authenticated URLs included, to the
	// tenant's budget of resource units (see resourceUnits and
	// spendUnits): a request waits until the units it costs are there.
	// Spending the budget evenly instead of meeting 429s keeps the whole
	// tenant from pausing. 0: no pacing.
	ResourceUnitsPerMinute int
	// TeamsPerSecond paces Teams and group requests (/teams, /groups,
	// /chats) to the rate Graph documents per app and tenant for channel
	// messages, about 20 a second: a request waits for its turn instead
	// of meeting a 429 that pauses the whole tenant (see spendTeams).
	// 0: no pacing.
	TeamsPerSecond int
	// Now reads the clock that pauses are measured against (default
	// time.Now); tests give a fake one.
	Now func() time.Time
}

// Governor is an http.RoundTripper shared by all workers of a tenant.
type Governor struct {
	next http.RoundTripper
	opts GovernorOptions

	mu   sync.Mutex
	sems map[string]chan struct{}
	// pauseUntil holds every request of the tenant; boxPause holds the
	// requests of one mailbox (keyed like sems), after a 429 that spoke
	// for that mailbox alone. Expired entries are dropped by waitPause.
	pauseUntil time.Time
	boxPause   map[string]time.Time
	stats      Stats
	// units is the resource-unit budget, teams the Teams request budget.
	units, teams bucket
}

// Stats are the governor's running totals.
type Stats struct {
	// Requests counts HTTP responses and transport errors, retries
	// included.
	Requests int64 `json:"requests"`
	// Throttled counts responses that asked the agent to back off (a 429,
	// or a 503 with Retry-After), whether they were retried or not.
	Throttled int64 `json:"throttled"`
	// MailboxThrottled is the part of Throttled that paused one mailbox
	// only: a 429 on a mailbox's URL.
	MailboxThrottled int64 `json:"mailbox_throttled"`
	// Retries counts waits before sending a request again.
	Retries int64 `json:"retries"`
	// CutShort counts JSON answers whose body ended early and which were
	// asked for again.
	CutShort int64 `json:"cut_short"`
	// Paused is the wall time during which the whole tenant was paused.
	Paused time.Duration `json:"paused_ns"`
	// UnitsWait is the time requests waited for resource units, summed
	// over the requests.
	UnitsWait time.Duration `json:"units_wait_ns"`
	// TeamsWait is the time Teams and group requests waited for their
	// turn under TeamsPerSecond, summed over the requests.
	TeamsWait time.Duration `json:"teams_wait_ns"`
	// ResourceUnits is what the OneDrive and SharePoint requests cost
	// against the tenant's resource-unit budget, retries included (see
	// resourceUnits).
	ResourceUnits int64 `json:"resource_units"`
	// MailboxPaused is the wall time each mailbox was paused on its own,
	// summed over the mailboxes (two mailboxes paused for the same second
	// count two seconds).
	MailboxPaused time.Duration `json:"mailbox_paused_ns"`
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
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Governor{next: next, opts: o, sems: map[string]chan struct{}{}, boxPause: map[string]time.Time{}}
}

// Stats returns a copy of the running totals.
func (g *Governor) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// resource is what a request is throttled by.
type resource struct {
	// key names the mailbox, drive or site ("users/{id}", "drives/{id}",
	// "sites/{id}", "me"), lower case: Graph IDs and UPNs ignore case, and
	// one mailbox must be one key. Empty for tenant-level requests.
	key string
	// workload is the metrics label.
	workload string
	// mailbox reports a request to one mailbox's Outlook data, which
	// Exchange throttles per app per mailbox: a 429 on it pauses that
	// mailbox only.
	mailbox bool
}

// mailboxSegments are the children of /users/{id} (or /me) that are the
// mailbox's Outlook data, subject to Exchange's per-mailbox limits. The
// rest (drive, memberOf, chats, ...) belong to other services.
var mailboxSegments = map[string]bool{
	"messages": true, "mailfolders": true, "contacts": true, "contactfolders": true,
	"events": true, "calendar": true, "calendars": true, "calendargroups": true,
	"calendarview": true, "mailboxsettings": true, "outlook": true,
	"inferenceclassification": true, "sendmail": true, "photo": true, "photos": true,
	"people": true, "findmeetingtimes": true, "getmailtips": true, "todo": true,
}

// resourceOf returns the resource of a Graph path such as
// /v1.0/users/{id}/mailFolders/... .
func resourceOf(path string) resource {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) > 0 && (parts[0] == "v1.0" || parts[0] == "beta") {
		parts = parts[1:]
	}
	if len(parts) > 0 && parts[0] == "me" {
		// /me/x is /users/{signed-in user}/x.
		parts = append([]string{"me", ""}, parts[1:]...)
	}
	if len(parts) < 2 {
		return resource{workload: "directory"}
	}
	r := resource{key: strings.ToLower(strings.TrimSuffix(parts[0]+"/"+parts[1], "/")), workload: "directory"}
	switch parts[0] {
	case "users", "me":
		if len(parts) == 2 {
			break // the user record itself
		}
		r.workload = "exchange"
		switch child := strings.ToLower(parts[2]); {
		case child == "drive" || child == "drives":
			r.workload = "onedrive"
		case mailboxSegments[child]:
			r.mailbox = true
		}
	case "drives":
		r.workload = "onedrive"
	case "sites":
		r.workload = "sharepoint"
	case "teams", "groups", "chats":
		r.workload = "teams"
	}
	return r
}

// spendUnits waits until cost resource units are in the budget and takes
// them. The budget holds at most a twentieth of a minute's units and
// refills at 95 % of the rate: no 60-second window, fixed or sliding, sees
// more than the tenant's budget (a twentieth plus 95 % of it).
func (g *Governor) spendUnits(ctx context.Context, cost int) error {
	perMinute := float64(g.opts.ResourceUnitsPerMinute)
	if perMinute <= 0 || cost == 0 {
		return nil
	}
	capacity, perSecond := max(perMinute/20, float64(cost)), 0.95*perMinute/60
	return g.spend(ctx, &g.units, float64(cost), capacity, perSecond, &g.stats.UnitsWait)
}

// bucket is a token budget, refilled at a rate up to a capacity, that
// starts full. The governor's mutex guards it.
type bucket struct {
	// tokens is what the budget held at at.
	tokens float64
	at     time.Time
}

// take refills b up to now and takes n tokens when they are there;
// otherwise it takes none and returns how long until they will be.
func (b *bucket) take(now time.Time, n, capacity, perSecond float64) (wait time.Duration, ok bool) {
	if b.at.IsZero() {
		b.tokens = capacity
	} else {
		b.tokens = min(capacity, b.tokens+now.Sub(b.at).Seconds()*perSecond)
	}
	b.at = now
	if b.tokens >= n {
		b.tokens -= n
		return 0, true
	}
	return time.Duration((n - b.tokens) / perSecond * float64(time.Second)), false
}

// spend waits until n tokens of b are there and takes them, adding each
// wait to *waited (a Stats field).
func (g *Governor) spend(ctx context.Context, b *bucket, n, capacity, perSecond float64, waited *time.Duration) error {
	for {
		g.mu.Lock()
		wait, ok := b.take(g.opts.Now(), n, capacity, perSecond)
		*waited += wait
		g.mu.Unlock()
		if ok {
			return nil
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// pace waits until req may go: its resource units, and its turn when it
// is a Teams or group request.
func (g *Governor) pace(ctx context.Context, req *http.Request, res resource) error {
	if err := g.spendUnits(ctx, resourceUnits(req, res)); err != nil {
		return err
	}
	if res.workload == "teams" {
		return g.spendTeams(ctx)
	}
	return nil
}

// spendTeams waits for a Teams request's turn. As with resource units,
// the budget holds a twentieth of a second's requests (at least one) and
// refills at 95 % of TeamsPerSecond, so that no one-second window, fixed
// or sliding, sees more than the limit.
func (g *Governor) spendTeams(ctx context.Context) error {
	if g.opts.TeamsPerSecond <= 0 {
		return nil
	}
	capacity, rate := max(1, float64(g.opts.TeamsPerSecond)/20), 0.95*float64(g.opts.TeamsPerSecond)
	return g.spend(ctx, &g.teams, 1, capacity, rate, &g.stats.TeamsWait)
}

// downloadKey marks, in a request's context, a download from a
// pre-authenticated URL of OneDrive or SharePoint: its host and path are
// not Graph's, but it costs a resource unit like any download.
type downloadKey struct{}

// resourceUnits is what a request costs against the resource-unit budget
// Microsoft sets OneDrive and SharePoint per app and tenant: 1 for a single
// item, a download or a delta with a token; 2 for a listing, a delta
// without a token or a write; 5 for permissions (an item's, a library
// root's, a site's, read one at a time or created). Other workloads cost
// none.
func resourceUnits(req *http.Request, res resource) int {
	if req.Context().Value(downloadKey{}) != nil {
		return 1
	}
	if res.workload != "onedrive" && res.workload != "sharepoint" {
		return 0
	}
	path := strings.ToLower(req.URL.Path)
	q := req.URL.Query()
	switch {
	case strings.HasSuffix(path, "/permissions") || strings.Contains(path, "/permissions/") || strings.Contains(strings.ToLower(q.Get("$expand")), "permissions"):
		return 5
	case req.Method != http.MethodGet:
		return 2
	case strings.Contains(path, "/delta"):
		if q.Get("token") != "" || q.Get("$deltatoken") != "" || q.Get("$skiptoken") != "" || strings.Contains(path, "token=") {
			return 1
		}
		return 2
	}
	for _, list := range []string{"/children", "/versions", "/drives", "/lists", "/items", "/pages", "/columns", "/sites"} {
		if strings.HasSuffix(path, list) || strings.HasSuffix(path, list+"/microsoft.graph.sitepage") {
			return 2
		}
	}
	return 1
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
// any pause of the tenant or of its mailbox, and retries throttled or
// failed attempts; a POST only when Graph cannot have applied it (see
// idempotent).
//
// The resource's slot is held until the caller closes the response body,
// not just until the headers arrive: Exchange counts a request as in flight
// until its body has been sent, and releasing early lets a fifth request
// start and draw a 429 that pauses the mailbox.
func (g *Governor) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	res := resourceOf(req.URL.Path)
	if res.key == "" {
		return g.roundTrip(req, res)
	}
	s := g.sem(res.key)
	select {
	case s <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-s }) }
	resp, err := g.roundTrip(req, res)
	if err != nil || resp.Body == nil {
		release()
		return resp, err
	}
	if _, ok := resp.Body.(wholeBody); ok {
		release()
		return resp, nil
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

// keepWhole hands on a successful answer, read whole first when it is a
// JSON page (wholeJSON). It returns no answer and no error when the page
// was cut short and the same GET is to be sent again, after the back-off.
func (g *Governor) keepWhole(ctx context.Context, req *http.Request, resp *http.Response, attempt int) (*http.Response, error) {
	if !wholeJSON(req, resp) {
		return resp, nil
	}
	rerr := readWhole(resp)
	if rerr == nil || ctx.Err() != nil || !retryableNetErr(rerr) || attempt >= g.opts.MaxRetries {
		return resp, nil
	}
	// The answer was cut short (a dropped connection mid-page): the same
	// GET asked again gives the whole page.
	g.mu.Lock()
	g.stats.CutShort++
	g.mu.Unlock()
	if err := g.retryAfter(ctx, g.backoff(attempt), scopeRequest, ""); err != nil {
		return nil, err
	}
	return nil, nil
}

// maxWholeJSON is the largest JSON answer read whole before it is handed
// on; Graph's list and delta pages are far smaller.
const maxWholeJSON = 32 << 20

// wholeJSON reports whether resp is a successful JSON answer to a GET, the
// kind the SDK parses into a typed page: one cut short fails the parse with
// "unexpected EOF", too late for a retry, so the governor reads it whole
// first. Downloads (MIME, file content) stream on: their reader sees the
// cut itself and the item is fetched again by its workload.
func wholeJSON(req *http.Request, resp *http.Response) bool {
	if req.Method != http.MethodGet || resp.StatusCode < 200 || resp.StatusCode > 299 || resp.Body == nil {
		return false
	}
	if resp.ContentLength > maxWholeJSON {
		return false
	}
	ct := resp.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/json")
}

// readWhole replaces resp's body by the bytes read from it, closing the
// original. On a read error it returns the error and the new body replays
// the bytes read and then the error, so a caller that does not retry sees
// the cut as before. A body longer than maxWholeJSON goes on streaming
// after the bytes read.
func readWhole(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxWholeJSON+1))
	switch {
	case err != nil:
		resp.Body.Close()
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), errReader{err}))
		return err
	case len(data) > maxWholeJSON:
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(data), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	resp.Body = wholeBody{bytes.NewReader(data)}
	resp.ContentLength = int64(len(data))
	return nil
}

// wholeBody is an answer read whole into memory by readWhole.
type wholeBody struct{ *bytes.Reader }

func (wholeBody) Close() error { return nil }

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

// pauseScope is what a throttled or failed attempt makes wait.
type pauseScope int

const (
	scopeRequest pauseScope = iota // the request alone (a 504, a dropped connection)
	scopeMailbox                   // every request to the mailbox (a 429 on a mailbox URL)
	scopeTenant                    // every request of the tenant (a 503, any other 429)
)

// scopeOf decides what a 429, 503 or 504 on a request to res pauses.
// Exchange throttles per app per mailbox, so a 429 on a mailbox's URL
// says that mailbox's budget (4 in flight, 10,000 per 10 minutes) is
// spent and other mailboxes may go on. A 429 anywhere else (the user
// listing, $batch, groups, sites, drives) comes from a limit shared by the
// tenant's requests, and a 503 means the service itself is struggling:
// both pause everyone.
func scopeOf(res resource, status int) pauseScope {
	switch {
	case status == http.StatusGatewayTimeout:
		return scopeRequest
	case status == http.StatusTooManyRequests && res.mailbox:
		return scopeMailbox
	default:
		return scopeTenant
	}
}

func (g *Governor) roundTrip(req *http.Request, res resource) (*http.Response, error) {
	ctx := req.Context()
	workload := res.workload
	mailbox := ""
	if res.mailbox {
		mailbox = res.key
	}
	reauthed := false
	for attempt := 0; ; attempt++ {
		if err := g.waitPause(ctx, mailbox); err != nil {
			return nil, err
		}
		if err := g.pace(ctx, req, res); err != nil {
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
		g.stats.ResourceUnits += int64(resourceUnits(req, res))
		g.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil || !retryableNetErr(err) || attempt >= g.opts.MaxRetries {
				return nil, err
			}
			if !idempotent(req) && !notSent(err) {
				// The request may have reached Graph and been applied.
				return nil, err
			}
			if werr := g.retryAfter(ctx, g.backoff(attempt), scopeRequest, ""); werr != nil {
				return nil, werr
			}
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
			if resp, err = g.keepWhole(ctx, req, resp, attempt); resp != nil || err != nil {
				return resp, err
			}
			continue
		}
		retryAfter, ok := parseRetryAfter(resp.Header.Get("Retry-After"))
		scope := scopeOf(res, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable && ok {
			// Graph asked to back off: counted whether or not there is
			// a retry left, with what it asked for, not what we wait.
			g.opts.Observer.Throttled(workload, retryAfter)
			g.mu.Lock()
			g.stats.Throttled++
			if scope == scopeMailbox {
				g.stats.MailboxThrottled++
			}
			g.mu.Unlock()
		}
		if attempt >= g.opts.MaxRetries {
			return resp, nil
		}
		if !idempotent(req) && !(resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable && ok) {
			// A 504, or a 503 without Retry-After, may come after Graph
			// applied the request: sending a create again could make a
			// second item.
			return resp, nil
		}
		wait := retryAfter
		if !ok {
			wait = g.backoff(attempt)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := g.retryAfter(ctx, wait, scope, mailbox); err != nil {
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

// retryAfter waits d (capped, with jitter) before a retry: as a pause of
// the tenant or of the mailbox, which every request of it then waits out
// too, or for this request alone.
func (g *Governor) retryAfter(ctx context.Context, d time.Duration, scope pauseScope, mailbox string) error {
	if d > g.opts.MaxWait {
		d = g.opts.MaxWait
	}
	d += time.Duration(rand.Int64N(int64(d)/10 + 1))
	now := g.opts.Now()
	g.mu.Lock()
	g.stats.Retries++
	switch scope {
	case scopeTenant:
		g.stats.Paused += extendPause(&g.pauseUntil, now, now.Add(d))
	case scopeMailbox:
		until := g.boxPause[mailbox]
		g.stats.MailboxPaused += extendPause(&until, now, now.Add(d))
		g.boxPause[mailbox] = until
	}
	g.mu.Unlock()
	if scope == scopeRequest {
		return sleepCtx(ctx, d)
	}
	return g.waitPause(ctx, mailbox)
}

// extendPause moves *until to newUntil if that is later, and returns the
// wall time the pause grew by: only what was not already paused counts,
// so that Stats says how long requests were held, not how many waited.
func extendPause(until *time.Time, now, newUntil time.Time) time.Duration {
	from := *until
	if from.Before(now) {
		from = now
	}
	if !newUntil.After(from) {
		return 0
	}
	*until = newUntil
	return newUntil.Sub(from)
}

// waitPause returns once neither the tenant nor mailbox (when not empty)
// is paused. A pause extended during the wait is waited out too.
func (g *Governor) waitPause(ctx context.Context, mailbox string) error {
	for {
		now := g.opts.Now()
		g.mu.Lock()
		until := g.pauseUntil
		if mailbox != "" {
			if b, ok := g.boxPause[mailbox]; ok {
				if !b.After(now) {
					delete(g.boxPause, mailbox)
				} else if b.After(until) {
					until = b
				}
			}
		}
		g.mu.Unlock()
		d := until.Sub(now)
		if d <= 0 {
			return nil
		}
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
	}
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
