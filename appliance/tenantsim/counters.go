package tenantsim

import (
	"bufio"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Counters is a snapshot of what the simulator has served since New.
type Counters struct {
	// Requests counts requests by endpoint class ("mail.delta",
	// "identity", ...) and then by HTTP status.
	Requests map[string]map[int]int64 `json:"requests"`
	// Throttled counts 429 answers from the throttle.
	Throttled int64 `json:"throttled"`
	// Faulted counts requests answered by fault injection.
	Faulted int64 `json:"faulted"`
	// Slowed counts answers fault injection held back by SlowDelay.
	Slowed int64 `json:"slowed"`
	// BytesServed counts response body bytes written.
	BytesServed int64 `json:"bytes_served"`
	// ImmutableIDs counts, by endpoint class, the requests that asked for
	// immutable item IDs (Prefer: IdType="ImmutableId"). The simulator's
	// IDs survive moves either way; real Graph's do only when asked.
	ImmutableIDs map[string]int64 `json:"immutable_ids,omitempty"`
	// ChannelMessages counts the channel messages (top-level ones and
	// replies) served in pages of channel messages: messages delta,
	// message list and replies list; MessagePages counts those pages.
	ChannelMessages int64 `json:"channel_messages,omitempty"`
	MessagePages    int64 `json:"channel_message_pages,omitempty"`
}

// Total is the number of requests of class with status; status 0 means
// any status.
func (c Counters) Total(class string, status int) int64 {
	var n int64
	for cl, byStatus := range c.Requests {
		if class != "" && cl != class {
			continue
		}
		for st, v := range byStatus {
			if status == 0 || st == status {
				n += v
			}
		}
	}
	return n
}

type counters struct {
	mu        sync.Mutex
	requests  map[string]map[int]int64
	immutable map[string]int64
	throttled atomic.Int64
	faulted   atomic.Int64
	slowed    atomic.Int64
	bytes     atomic.Int64
	messages  atomic.Int64
	pages     atomic.Int64
}

// servedMessages counts a page of channel messages, the value of body.
func (c *counters) servedMessages(body map[string]any) {
	if v, ok := body["value"].([]map[string]any); ok {
		c.messages.Add(int64(len(v)))
		c.pages.Add(1)
	}
}

func (c *counters) record(class string, status int, n int64, immutableIDs bool) {
	c.bytes.Add(n)
	c.mu.Lock()
	if immutableIDs {
		if c.immutable == nil {
			c.immutable = map[string]int64{}
		}
		c.immutable[class]++
	}
	if c.requests == nil {
		c.requests = map[string]map[int]int64{}
	}
	m := c.requests[class]
	if m == nil {
		m = map[int]int64{}
		c.requests[class] = m
	}
	m[status]++
	c.mu.Unlock()
}

// Counters returns a snapshot of the counters.
func (s *Sim) Counters() Counters {
	c := &s.counters
	c.mu.Lock()
	req := make(map[string]map[int]int64, len(c.requests))
	for k, v := range c.requests {
		req[k] = maps.Clone(v)
	}
	imm := maps.Clone(c.immutable)
	c.mu.Unlock()
	return Counters{Requests: req, Throttled: c.throttled.Load(), Faulted: c.faulted.Load(), Slowed: c.slowed.Load(), BytesServed: c.bytes.Load(), ImmutableIDs: imm,
		ChannelMessages: c.messages.Load(), MessagePages: c.pages.Load()}
}

// countingWriter records the status and body bytes of a response.
type countingWriter struct {
	http.ResponseWriter
	code  int
	n     int64
	wrote bool
}

func (w *countingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) status() int {
	if !w.wrote {
		return 0 // connection dropped before any answer
	}
	return w.code
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// prefersImmutableIDs reports whether a request asked for immutable item
// IDs in one of its Prefer headers.
func prefersImmutableIDs(r *http.Request) bool {
	v, ok := preference(r, "IdType")
	return ok && strings.EqualFold(v, "ImmutableId")
}
