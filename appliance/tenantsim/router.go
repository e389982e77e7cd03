package tenantsim

import (
	"net/http"
	"strings"
	"time"
)

// route is one Graph path pattern. Pattern segments in braces capture the
// segment; every other segment must match exactly (case-insensitively, as
// Graph treats its path names).
type route struct {
	method string
	segs   []string
	class  string
	perm   permission
	h      func(*request) *graphError
}

// request is what a handler sees: the HTTP request, the captured path
// parameters and the verified caller.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	params map[string]string
	caller *tokenClaims
	sim    *Sim
	// linkPath, when set, is the path delta links are built on instead
	// of the request's own.
	linkPath string
	// resync, when set, answers a delta token that can no longer be used
	// instead of errResync; old is what the token held, ok whether it
	// decoded at all.
	resync func(old deltaState, ok bool) *graphError
	// view, when set, makes a delta a calendarView delta: a changed
	// member is answered by what view gives for it in the token's window
	// (a series master by its occurrences and exceptions).
	view func(id string, from, to time.Time) []map[string]any
}

func (q *request) param(name string) string { return q.params[name] }

type router struct{ routes []route }

func (rt *router) add(method, pattern, class string, perm permission, h func(*request) *graphError) {
	rt.routes = append(rt.routes, route{
		method: method,
		segs:   strings.Split(strings.Trim(pattern, "/"), "/"),
		class:  class, perm: perm, h: h,
	})
}

// match returns the route for path segments, or nil. When the path
// matches but the method does not, it returns methodOK false.
func (rt *router) match(method string, segs []string) (rte *route, params map[string]string, pathOK bool) {
	for i := range rt.routes {
		c := &rt.routes[i]
		if len(c.segs) != len(segs) {
			continue
		}
		p, ok := matchSegs(c.segs, segs)
		if !ok {
			continue
		}
		pathOK = true
		if c.method == method {
			return c, p, true
		}
	}
	return nil, nil, pathOK
}

func matchSegs(pattern, segs []string) (map[string]string, bool) {
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = make(map[string]string, 4)
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if !strings.EqualFold(p, segs[i]) {
			// Graph accepts delta, delta() and delta(token='...') for the
			// function; the token is captured as the "token" parameter.
			if p == "delta()" {
				if segs[i] == "delta" {
					continue
				}
				if tok, ok := strings.CutPrefix(segs[i], "delta(token='"); ok && strings.HasSuffix(tok, "')") {
					if params == nil {
						params = make(map[string]string, 4)
					}
					params["token"] = strings.TrimSuffix(tok, "')")
					continue
				}
			}
			return nil, false
		}
	}
	return params, true
}
