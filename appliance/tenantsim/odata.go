package tenantsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const graphTime = "2006-01-02T15:04:05Z"

func ts(t time.Time) string { return t.UTC().Format(graphTime) }

// pageSize reads the page size a client asked for: $top, else the Prefer
// header's odata.maxpagesize, else def; never above limit.
func pageSize(r *http.Request, def, limit int) (int, *graphError) {
	n := def
	if v := preferMaxPageSize(r); v > 0 {
		n = v
	}
	if v := r.URL.Query().Get("$top"); v != "" {
		t, err := strconv.Atoi(v)
		if err != nil || t < 1 {
			return 0, errf(http.StatusBadRequest, "BadRequest", "Invalid value '"+v+"' for $top: a positive integer is required.")
		}
		n = t
	}
	return min(n, limit), nil
}

func preferMaxPageSize(r *http.Request) int {
	if v, ok := preference(r, "odata.maxpagesize"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// preference returns the value of a key=value preference in the request's
// Prefer headers (several headers, or several preferences separated by
// commas in one), unquoted; keys compare case-insensitively.
func preference(r *http.Request, key string) (string, bool) {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && strings.EqualFold(k, key) {
				return strings.Trim(v, `"`), true
			}
		}
	}
	return "", false
}

// selectFields parses $select; nil means all fields.
func selectFields(r *http.Request) map[string]bool {
	v := r.URL.Query().Get("$select")
	if v == "" {
		return nil
	}
	m := map[string]bool{}
	for _, f := range strings.Split(v, ",") {
		m[strings.ToLower(strings.TrimSpace(f))] = true
	}
	return m
}

// project keeps only the selected fields of obj, plus the ones Graph
// always returns.
func project(obj map[string]any, sel map[string]bool) map[string]any {
	if sel == nil {
		return obj
	}
	out := make(map[string]any, len(sel)+2)
	for k, v := range obj {
		if sel[strings.ToLower(k)] || k == "id" || k == "@removed" || strings.HasPrefix(k, "@odata.") {
			out[k] = v
		}
	}
	return out
}

// listPage slices a full listing by $skip and the page size and returns
// the body of a collection response.
func (q *request) listPage(context string, all []map[string]any, def, limit int) (map[string]any, *graphError) {
	size, gerr := pageSize(q.r, def, limit)
	if gerr != nil {
		return nil, gerr
	}
	skip := 0
	if v := q.r.URL.Query().Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, errf(http.StatusBadRequest, "BadRequest", "Invalid value '"+v+"' for $skip.")
		}
		skip = n
	}
	skip = min(skip, len(all))
	end := min(skip+size, len(all))
	body := map[string]any{
		"@odata.context": q.sim.baseURL + "/$metadata#" + context,
		"value":          all[skip:end],
	}
	if end < len(all) {
		v := q.r.URL.Query()
		v.Set("$skip", strconv.Itoa(end))
		body["@odata.nextLink"] = q.sim.baseURL + strings.TrimPrefix(q.r.URL.Path, "/v1.0") + "?" + v.Encode()
	}
	return body, nil
}

// deltaState is what a delta or skip token encodes: a position in one
// collection's change log. A full sync pages by member position up to a
// snapshot; an incremental one pages through the log from a sequence
// number up to a fixed end. The epoch lets the simulator void every token
// at once (ExpireDeltaTokens).
type deltaState struct {
	Coll   string `json:"c"`
	Epoch  uint64 `json:"e"`
	Full   bool   `json:"f,omitempty"`
	After  uint64 `json:"a"`
	Upto   uint64 `json:"u"`
	Select string `json:"s,omitempty"`
	// Top is the $top of the first request, which later pages keep
	// unless the request sets its own page size.
	Top int `json:"t,omitempty"`
	// From and To are a calendarView delta's window (RFC 3339), which
	// Graph encodes in its tokens.
	From string `json:"w0,omitempty"`
	To   string `json:"w1,omitempty"`
}

func (s *Sim) encodeDelta(st deltaState) string {
	b, _ := json.Marshal(st)
	p := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte("delta:" + p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

func (s *Sim) decodeDelta(tok string) (deltaState, bool) {
	var st deltaState
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return st, false
	}
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte("delta:" + p))
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, m.Sum(nil)[:12]) {
		return st, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(b, &st) != nil {
		return st, false
	}
	return st, true
}

// memberOf renders the ids of c's items that are still in c; for others
// it returns nil.
func memberOf(c *collection, render func(*item) map[string]any) func(string) map[string]any {
	return func(id string) map[string]any {
		if it := c.user.items[id]; it != nil && it.coll == c {
			return render(it)
		}
		return nil
	}
}

// serveDelta answers a delta query on c. It must be called with the read
// lock held. lookup gives a current member's JSON, or nil for an id that
// is no longer a member; odataType names removed entries.
func (q *request) serveDelta(c *collection, odataType string, lookup func(id string) map[string]any) (map[string]any, *graphError) {
	s := q.sim
	qv := q.r.URL.Query()
	size, gerr := pageSize(q.r, 10, 1000)
	if gerr != nil {
		return nil, gerr
	}
	var st deltaState
	switch tok := firstNonEmpty(qv.Get("$skiptoken"), qv.Get("$deltatoken")); {
	case tok == "":
		st = deltaState{Coll: c.id, Epoch: s.deltaEpoch, Full: true, Upto: s.seq, Select: qv.Get("$select")}
		if q.view != nil {
			from, to, gerr := q.window()
			if gerr != nil {
				return nil, gerr
			}
			st.From, st.To = from.Format(time.RFC3339), to.Format(time.RFC3339)
		}
		if qv.Get("$top") != "" {
			st.Top = size
		}
	default:
		var ok bool
		st, ok = s.decodeDelta(tok)
		if !ok || st.Coll != c.id || st.Epoch != s.deltaEpoch {
			if q.resync != nil {
				return nil, q.resync(st, ok && st.Coll == c.id)
			}
			return nil, errResync
		}
		if qv.Get("$deltatoken") != "" {
			// A delta link: changes since its position up to now.
			st.Full, st.Upto = false, s.seq
		}
		if st.Top > 0 && qv.Get("$top") == "" && preferMaxPageSize(q.r) == 0 {
			size = st.Top
		}
	}
	var sel map[string]bool
	if st.Select != "" {
		sel = map[string]bool{}
		for _, f := range strings.Split(st.Select, ",") {
			sel[strings.ToLower(strings.TrimSpace(f))] = true
		}
	}
	var ids []string
	var next uint64
	var more bool
	if st.Full {
		ids, next, more = c.fullPage(st.After, st.Upto, size)
	} else {
		ids, next, more = c.changesPage(st.After, st.Upto, size)
	}
	values := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		if v := lookup(id); v != nil && q.view != nil {
			from, _ := time.Parse(time.RFC3339, st.From)
			to, _ := time.Parse(time.RFC3339, st.To)
			for _, w := range q.view(id, from, to) {
				values = append(values, project(w, sel))
			}
			continue
		} else if v != nil {
			values = append(values, project(v, sel))
			continue
		}
		values = append(values, map[string]any{
			"@odata.type": odataType,
			"id":          id,
			"@removed":    map[string]any{"reason": "deleted"},
		})
	}
	body := map[string]any{
		"@odata.context": s.baseURL + "/$metadata#Collection(" + strings.TrimPrefix(odataType, "#microsoft.graph.") + ")",
		"value":          values,
	}
	link := s.baseURL + strings.TrimPrefix(q.r.URL.Path, "/v1.0")
	if q.linkPath != "" {
		link = s.baseURL + q.linkPath
	}
	if more {
		st.After = next
		body["@odata.nextLink"] = link + "?" + url.Values{"$skiptoken": {s.encodeDelta(st)}}.Encode()
	} else {
		end := deltaState{Coll: c.id, Epoch: st.Epoch, After: st.Upto, Select: st.Select, Top: st.Top, From: st.From, To: st.To}
		body["@odata.deltaLink"] = link + "?" + url.Values{"$deltatoken": {s.encodeDelta(end)}}.Encode()
	}
	return body, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
