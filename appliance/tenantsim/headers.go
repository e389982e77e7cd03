package tenantsim

import (
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"time"
)

// stampHeaders sets what Graph puts on every response before anything
// else is written: a fresh request-id, the client-request-id the client
// sent (or the request-id when it sent none) and Date from the
// simulator's clock. writeError reads them back for the error body.
func (s *Sim) stampHeaders(w http.ResponseWriter, r *http.Request) {
	id := s.newRequestID()
	h := w.Header()
	// Keys in canonical form, which Set then need not allocate.
	h.Set("Request-Id", id)
	cid := r.Header.Get("Client-Request-Id")
	if cid == "" {
		cid = id
	}
	h.Set("Client-Request-Id", cid)
	h.Set("Date", s.cfg.Now().UTC().Format(http.TimeFormat))
}

// newRequestID returns a GUID-shaped id unique within this Sim: a random
// per-Sim half and a counter.
func (s *Sim) newRequestID() string {
	var b [16]byte
	copy(b[:8], s.requestIDBase[:])
	binary.BigEndian.PutUint64(b[8:], s.requestSeq.Add(1))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var x [36]byte
	hex.Encode(x[0:8], b[0:4])
	x[8] = '-'
	hex.Encode(x[9:13], b[4:6])
	x[13] = '-'
	hex.Encode(x[14:18], b[6:8])
	x[18] = '-'
	hex.Encode(x[19:23], b[8:10])
	x[23] = '-'
	hex.Encode(x[24:36], b[10:16])
	return string(x[:])
}

// innerErrorDate is the time an error body reports: the response's Date
// header in Graph's innerError format (no zone letter), else the wall
// clock.
func innerErrorDate(h http.Header) string {
	t, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		t = time.Now()
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}
