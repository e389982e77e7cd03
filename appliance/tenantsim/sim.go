package tenantsim

import (
	"compress/gzip"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sim is a simulated Microsoft 365 tenant serving Graph over HTTPS.
//
// A Sim is safe for concurrent use: its HTTP handlers and Go methods share
// one lock over the tenant content. It serves from Start until Close.
type Sim struct {
	cfg      Config
	tenantID string
	backup   App
	restore  App
	ca       *authority

	tokenKey        []byte
	tokenCache      sync.Map // raw token -> *tokenClaims
	tokensValidFrom atomic.Int64
	nonce           atomic.Uint64

	requestIDBase [8]byte
	requestSeq    atomic.Uint64

	mu         sync.RWMutex
	seq        uint64 // last change sequence number
	deltaEpoch uint64 // delta tokens of another epoch answer 410
	users      []*user
	byID       map[string]*user // by id and by lower-case UPN
	pool       []*attachment
	drives     map[string]*drive
	// sparse are the sparse contents AddSparseFile made, by SHA-256.
	sparse map[string]*sparseContent
	sites  []*site
	groups []*group

	uploadsMu sync.Mutex
	uploads   map[string]*uploadSession
	uploadSeq atomic.Uint64

	routes   router
	counters counters
	throttle *throttler
	faults   *faultInjector

	srv       *http.Server
	baseURL   string
	authority string
	// dlSrv serves the download host; downloadRoot is its URL root,
	// https://DownloadHost:PORT/.
	dlSrv        *http.Server
	downloadRoot string
}

// New generates the tenant described by cfg. It does not listen; call
// Start.
func New(cfg Config) (*Sim, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("tenant simulator config: %w", err)
	}
	// Certificates are checked by clients against their real clock, not
	// the simulator's (possibly fake) one.
	ca, err := newAuthority(time.Now(), cfg.PublicHost, cfg.DownloadHost)
	if err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:      cfg,
		tenantID: cfg.TenantID,
		ca:       ca,
		tokenKey: randomBytes(32),
		byID:     map[string]*user{},
		drives:   map[string]*drive{},
	}
	if s.tenantID == "" {
		s.tenantID = guid(cfg.Seed, "tenant")
	}
	copy(s.requestIDBase[:], randomBytes(8))
	s.backup = App{Name: "Strongroom Backup", ClientID: guid(cfg.Seed, "backup-app"), ClientSecret: secret(), Roles: append(slices.Clone(backupRoles), cfg.ExtraBackupRoles...)}
	s.restore = App{Name: "Strongroom Restore", ClientID: guid(cfg.Seed, "restore-app"), ClientSecret: secret(), Roles: append(slices.Clone(restoreRoles), cfg.ExtraRestoreRoles...)}
	s.throttle = newThrottler(cfg.Throttle, cfg.Now)
	s.faults = newFaultInjector(cfg.Seed, cfg.Faults)
	s.generate()
	s.registerRoutes()
	return s, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// secret makes a client secret in the shape Entra uses (40 characters).
func secret() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-"
	b := randomBytes(40)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Start listens on addr ("127.0.0.1:0" when empty) and serves HTTPS in
// the background until Close. The download host listens on another port
// of the same address.
func (s *Sim) Start(addr string) error {
	if s.srv != nil {
		return errors.New("tenant simulator already started")
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	host := "127.0.0.1"
	if s.cfg.PublicHost != "" {
		host = s.cfg.PublicHost
	}
	s.authority = fmt.Sprintf("https://%s/", net.JoinHostPort(host, strconv.Itoa(port)))
	s.baseURL = s.authority + "v1.0"
	dlHost, _, err := net.SplitHostPort(addr)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	dlLn, err := net.Listen("tcp", net.JoinHostPort(dlHost, "0"))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("listen for downloads on %s: %w", dlHost, err)
	}
	s.downloadRoot = fmt.Sprintf("https://%s/", net.JoinHostPort(s.cfg.DownloadHost, strconv.Itoa(dlLn.Addr().(*net.TCPAddr).Port)))
	s.srv = s.newServer(s)
	s.dlSrv = s.newServer(http.HandlerFunc(s.serveDownload))
	go func() { _ = s.srv.Serve(s.tlsListener(ln)) }()
	go func() { _ = s.dlSrv.Serve(s.tlsListener(dlLn)) }()
	return nil
}

func (s *Sim) tlsListener(ln net.Listener) net.Listener {
	return tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{s.ca.server},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	})
}

func (s *Sim) newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 only: fault injection drops connections, which HTTP/2
		// would hide behind stream resets.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     nil,
	}
}

// Close stops serving and drops open connections.
func (s *Sim) Close() error {
	if s.srv == nil {
		return nil
	}
	return errors.Join(s.srv.Close(), s.dlSrv.Close())
}

// TenantID is the directory (tenant) id clients authenticate against.
func (s *Sim) TenantID() string { return s.tenantID }

// BaseURL is the Graph root, e.g. https://127.0.0.1:PORT/v1.0. Empty
// before Start.
func (s *Sim) BaseURL() string { return s.baseURL }

// AuthorityHost is the identity endpoint root, e.g. https://127.0.0.1:PORT/,
// for azidentity's Cloud.ActiveDirectoryAuthorityHost.
func (s *Sim) AuthorityHost() string { return s.authority }

func (s *Sim) authorityHost() string { return s.authority }

// DownloadRoot is the root of the download host, e.g.
// https://localhost:PORT/: pre-authenticated content URLs start with it.
// Empty before Start.
func (s *Sim) DownloadRoot() string { return s.downloadRoot }

// CAPEM is the PEM certificate of the authority that signed the server
// certificate; clients must trust it.
func (s *Sim) CAPEM() []byte { return s.ca.caPEM }

// BackupApp is the read-only application registration.
func (s *Sim) BackupApp() App { return s.backup }

// RestoreApp is the application registration allowed to write.
func (s *Sim) RestoreApp() App { return s.restore }

// answered counts a request of class answered through cw and tells
// Config.OnRequest.
func (s *Sim) answered(r *http.Request, class string, cw *countingWriter, immutable bool, start time.Time) {
	s.counters.record(class, cw.status(), cw.n, immutable)
	if s.cfg.OnRequest != nil {
		s.cfg.OnRequest(r, class, cw.status(), start, time.Now())
	}
}

// ServeHTTP dispatches to the identity, Graph and /_sim/ handlers.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stampHeaders(w, r)
	cw := &countingWriter{ResponseWriter: w}
	class := "unknown"
	immutable := prefersImmutableIDs(r)
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				s.answered(r, class, cw, immutable, start)
				panic(v)
			}
			if !cw.wrote {
				writeError(cw, r, errf(http.StatusInternalServerError, "InternalServerError", fmt.Sprint("tenant simulator: ", v)))
			}
		}
		s.answered(r, class, cw, immutable, start)
	}()
	path := r.URL.Path
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case strings.HasPrefix(path, "/_sim/"):
		class = "sim"
		s.serveControl(cw, r, segs[1:])
	case len(segs) == 2 && segs[0] == "_upload":
		class = "upload"
		s.serveUpload(cw, r, segs[1])
	case len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration":
		class = "identity"
		s.handleOpenID(cw, r, segs[0])
	case len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token":
		class = "identity"
		s.handleToken(cw, r, segs[0])
	case len(segs) > 1 && segs[0] == "v1.0":
		class = s.serveGraph(cw, r, segs[1:])
	default:
		writeError(cw, r, errNoRoute)
	}
}

func (s *Sim) serveGraph(w *countingWriter, r *http.Request, segs []string) string {
	segs, pathErr := s.rewriteDrivePath(r.Method, segs)
	rte, params, pathOK := s.routes.match(r.Method, segs)
	class := "unknown"
	if rte != nil {
		class = rte.class
	}
	caller, gerr := s.verifyToken(r)
	if gerr != nil {
		writeError(w, r, gerr)
		return class
	}
	if pathErr != nil {
		writeError(w, r, pathErr)
		return class
	}
	if rte == nil {
		if pathOK {
			writeError(w, r, errf(http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method '"+r.Method+"' is not allowed on this resource."))
		} else {
			writeError(w, r, errNoRoute)
		}
		return class
	}
	if !caller.has(rte.perm) {
		writeError(w, r, errf(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again."))
		return class
	}
	// The throttle unit is the mailbox, or the drive for file routes. A
	// mailbox named by UPN and by id is one unit.
	if key := firstNonEmpty(params["uid"], params["did"]); key != "" {
		s.mu.RLock()
		if u := s.byID[strings.ToLower(key)]; u != nil {
			key = u.id
		} else if u := s.byID[key]; u != nil {
			key = u.id
		}
		s.mu.RUnlock()
		release, retry := s.throttle.acquire(key)
		if release == nil {
			s.counters.throttled.Add(1)
			e := *errf(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
			e.retryAfter = retry
			writeError(w, r, &e)
			return class
		}
		defer release()
	}
	if gerr := s.tenantBudget(r, class); gerr != nil {
		writeError(w, r, gerr)
		return class
	}
	if !s.faultsApply(w, r) {
		return class
	}
	if gerr := limitBody(w, r, class); gerr != nil {
		writeError(w, r, gerr)
		return class
	}
	if r.Body != nil {
		if isGzip(r) {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				writeError(w, r, errf(http.StatusBadRequest, "BadRequest", "The request body is not valid gzip."))
				return class
			}
			r.Body = zr
		}
	}
	if gerr := rte.h(&request{w: w, r: r, params: params, caller: caller, sim: s}); gerr != nil {
		writeError(w, r, gerr)
	}
	return class
}

// ExpireTokens makes every access token issued so far invalid, as if they
// had all expired mid-run. Clients must fetch a new one.
func (s *Sim) ExpireTokens() {
	s.tokensValidFrom.Store(s.cfg.Now().UnixNano() + 1)
}

// ExpireDeltaTokens makes every delta and skip token issued so far answer
// 410 Gone, forcing a full resync: resyncRequired for mail, contacts,
// events and channel messages; for drives one of Graph's two resync codes,
// chosen by seed, drive and the number of expiries so far, with a Location
// header that starts the new enumeration.
func (s *Sim) ExpireDeltaTokens() {
	s.mu.Lock()
	s.deltaEpoch++
	s.mu.Unlock()
}

// tenantBudget applies the tenant-wide limits: SharePoint/OneDrive
// resource units per minute and Teams requests per second.
func (s *Sim) tenantBudget(r *http.Request, class string) *graphError {
	t := s.throttle
	var retry int
	var msg string
	switch {
	case strings.HasPrefix(class, "files") || class == "sites":
		retry = t.take("tenant:ru", t.cfg.ResourceUnits, time.Minute, resourceUnits(r, class))
		msg = "The request has been throttled: the tenant exceeded its resource units per minute."
	case class == "teams":
		retry = t.take("tenant:teams", t.cfg.TeamsPerSecond, time.Second, 1)
		msg = "The request has been throttled: too many Teams requests per second."
	}
	if retry == 0 {
		return nil
	}
	s.counters.throttled.Add(1)
	e := errf(http.StatusTooManyRequests, "activityLimitReached", msg)
	e.retryAfter = retry
	return e
}
