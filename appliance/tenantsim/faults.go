package tenantsim

import (
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// faultInjector decides, per Graph request, whether to misbehave.
type faultInjector struct {
	mu        sync.Mutex
	f         Faults
	rng       *rand.Rand
	burstLeft int
	burstCode int
}

func newFaultInjector(seed int64, f Faults) *faultInjector {
	f.ExpireTokens = false
	f.CorruptContent = maps.Clone(f.CorruptContent)
	return &faultInjector{f: f, rng: rand.New(rand.NewPCG(uint64(seed), 0xfa17))}
}

// Faults returns the faults in force.
func (s *Sim) Faults() Faults {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	f := s.faults.f
	f.CorruptContent = maps.Clone(f.CorruptContent)
	return f
}

// corrupt says whether this download of item id must be corrupted, and
// counts it.
func (fi *faultInjector) corrupt(id string) bool {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	n := fi.f.CorruptContent[id]
	switch {
	case n == 0:
		return false
	case n == 1:
		delete(fi.f.CorruptContent, id)
	case n > 1:
		fi.f.CorruptContent[id] = n - 1
	}
	return true
}

// SetFaults replaces the faults in force. ExpireTokens is applied once
// (see Faults) and not kept.
func (s *Sim) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.ServerErrorBurst == 0 {
		f.ServerErrorBurst = 3
	}
	if f.ExpireTokens {
		s.ExpireTokens()
		f.ExpireTokens = false
	}
	f.CorruptContent = maps.Clone(f.CorruptContent)
	s.faults.mu.Lock()
	s.faults.f, s.faults.burstLeft = f, 0
	s.faults.mu.Unlock()
	return nil
}

type faultAction int

const (
	faultNone faultAction = iota
	faultServerError
	faultTruncate
	faultReset
)

func (fi *faultInjector) decide() (act faultAction, code int, delay time.Duration) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	f := fi.f
	if f.SlowRate > 0 && fi.rng.Float64() < f.SlowRate {
		delay = f.SlowDelay
	}
	switch {
	case fi.burstLeft > 0:
		fi.burstLeft--
		return faultServerError, fi.burstCode, delay
	case f.ServerErrorRate > 0 && fi.rng.Float64() < f.ServerErrorRate:
		fi.burstCode = []int{http.StatusServiceUnavailable, http.StatusGatewayTimeout}[fi.rng.IntN(2)]
		fi.burstLeft = f.ServerErrorBurst - 1
		return faultServerError, fi.burstCode, delay
	case f.ResetRate > 0 && fi.rng.Float64() < f.ResetRate:
		return faultReset, 0, delay
	case f.TruncateRate > 0 && fi.rng.Float64() < f.TruncateRate:
		return faultTruncate, 0, delay
	}
	return faultNone, 0, delay
}

// apply injects a fault for this request. It returns false when the
// request has been answered (or the connection dropped) and the handler
// must not run. For a truncation it wraps the writer and returns true.
func (s *Sim) faultsApply(w *countingWriter, r *http.Request) bool {
	act, code, delay := s.faults.decide()
	if delay > 0 {
		s.counters.slowed.Add(1)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	switch act {
	case faultServerError:
		s.counters.faulted.Add(1)
		e := *errf(code, "ServiceUnavailable", "The service is temporarily unavailable (injected fault).")
		if code == http.StatusGatewayTimeout {
			e.code = "GatewayTimeout"
		}
		e.retryAfter = 1
		writeError(w, r, &e)
		return false
	case faultReset:
		s.counters.faulted.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		resetConn(conn)
		return false
	case faultTruncate:
		s.counters.faulted.Add(1)
		w.ResponseWriter = &truncatingWriter{ResponseWriter: w.ResponseWriter}
	}
	return true
}

// resetConn closes c so that the peer sees a TCP reset, not a clean close.
func resetConn(c net.Conn) {
	type netConner interface{ NetConn() net.Conn }
	raw := c
	if nc, ok := c.(netConner); ok {
		raw = nc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
		_ = tc.Close()
		return
	}
	_ = c.Close()
}

// truncatingWriter lets through only the first half of the announced
// body and then aborts the connection, so the client reads a short body
// under a full Content-Length.
type truncatingWriter struct {
	http.ResponseWriter
	limit, n int
	started  bool
}

func (t *truncatingWriter) Write(p []byte) (int, error) {
	if !t.started {
		t.started = true
		cl, err := strconv.Atoi(t.Header().Get("Content-Length"))
		if err != nil {
			cl = len(p)
		}
		t.limit = cl / 2
	}
	allowed := min(len(p), t.limit-t.n)
	if allowed > 0 {
		n, err := t.ResponseWriter.Write(p[:allowed])
		t.n += n
		if err != nil {
			return n, err
		}
	}
	if t.n >= t.limit {
		if f, ok := t.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	return len(p), nil
}

func (t *truncatingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
