package tenantsim

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// lookupUser resolves a path's user segment (id or UPN) to a live user.
// The read or write lock must be held.
func (s *Sim) lookupUser(key string) (*user, *graphError) {
	u := s.byID[key]
	if u == nil {
		u = s.byID[strings.ToLower(key)]
	}
	if u == nil || u.deleted {
		return nil, errUserNotFound
	}
	return u, nil
}

// mailboxUser resolves the {uid} of q to a user with a mailbox.
func (q *request) mailboxUser() (*user, *graphError) {
	u, gerr := q.sim.lookupUser(q.param("uid"))
	if gerr != nil {
		return nil, gerr
	}
	if !u.hasMailbox() {
		return nil, errMailboxAbsent
	}
	return u, nil
}

// readOf answers, under the read lock, what f makes of the object get
// resolves from the request's path.
func readOf[T any](q *request, get func() (T, *graphError), f func(T) (any, *graphError)) *graphError {
	return q.read(func() (any, *graphError) { return resolved(get, f) })
}

// writeOf is readOf under the write lock.
func writeOf[T any](q *request, get func() (T, *graphError), f func(T) (any, *graphError)) *graphError {
	return q.write(func() (any, *graphError) { return resolved(get, f) })
}

// within resolves a parent with get and then, in it, a child with child;
// on an error both are zero.
func within[P, C any](get func() (P, *graphError), child func(P) (C, *graphError)) (P, C, *graphError) {
	var zp P
	var zc C
	p, gerr := get()
	if gerr != nil {
		return zp, zc, gerr
	}
	c, gerr := child(p)
	if gerr != nil {
		return zp, zc, gerr
	}
	return p, c, nil
}

// readPair is readOf for an object resolved with its parent.
func readPair[P, C any](q *request, get func() (P, C, *graphError), f func(P, C) (any, *graphError)) *graphError {
	return q.read(func() (any, *graphError) { return resolvedPair(get, f) })
}

// updatePair is update for an object resolved with its parent.
func updatePair[P, C any](q *request, get func() (P, C, *graphError), f func(P, C) (any, *graphError)) *graphError {
	return q.update(func() (any, *graphError) { return resolvedPair(get, f) })
}

// writePair is writeOf for an object resolved with its parent.
func writePair[P, C any](q *request, get func() (P, C, *graphError), f func(P, C) (any, *graphError)) *graphError {
	return q.write(func() (any, *graphError) { return resolvedPair(get, f) })
}

// resolvedPair is resolved for an object resolved with its parent.
func resolvedPair[P, C any](get func() (P, C, *graphError), f func(P, C) (any, *graphError)) (any, *graphError) {
	p, c, gerr := get()
	if gerr != nil {
		return nil, gerr
	}
	return f(p, c)
}

// resolved is what f makes of the object get resolves, or get's error.
func resolved[T any](get func() (T, *graphError), f func(T) (any, *graphError)) (any, *graphError) {
	x, gerr := get()
	if gerr != nil {
		return nil, gerr
	}
	return f(x)
}

// read runs f under the read lock and writes its result as JSON.
func (q *request) read(f func() (any, *graphError)) *graphError {
	return q.answerOK(q.sim.mu.RLocker(), f)
}

// update runs f under the write lock and answers 200 with its result, as
// a PATCH answers with the changed resource.
func (q *request) update(f func() (any, *graphError)) *graphError {
	return q.answerOK(&q.sim.mu, f)
}

// answerOK runs f holding l and answers 200 with f's result as JSON.
func (q *request) answerOK(l sync.Locker, f func() (any, *graphError)) *graphError {
	l.Lock()
	body, gerr := f()
	l.Unlock()
	if gerr != nil {
		return gerr
	}
	writeJSON(q.w, http.StatusOK, body)
	return nil
}

// write runs f under the write lock and answers 201 with its result, or
// 204 when it returns nil.
func (q *request) write(f func() (any, *graphError)) *graphError {
	q.sim.mu.Lock()
	body, gerr := f()
	q.sim.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	if body == nil {
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(q.w, http.StatusCreated, body)
	return nil
}

func handleListUsers(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		sel := selectFields(q.r)
		if sel == nil {
			sel = defaultUserFields
		}
		var all []map[string]any
		for _, u := range q.sim.users {
			if !u.deleted {
				all = append(all, project(userJSON(u), sel))
			}
		}
		size, gerr := pageSize(q.r, 100, 999)
		if gerr != nil {
			return nil, gerr
		}
		// Graph pages users with an opaque $skiptoken; here it is an offset.
		skip, _ := strconv.Atoi(q.r.URL.Query().Get("$skiptoken"))
		skip = min(max(skip, 0), len(all))
		end := min(skip+size, len(all))
		body := map[string]any{
			"@odata.context": q.sim.baseURL + "/$metadata#users",
			"value":          all[skip:end],
		}
		if end < len(all) {
			v := q.r.URL.Query()
			v.Del("$top")
			v.Set("$top", strconv.Itoa(size))
			v.Set("$skiptoken", strconv.Itoa(end))
			body["@odata.nextLink"] = q.sim.baseURL + "/users?" + v.Encode()
		}
		return body, nil
	})
}

func handleGetUser(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		u, gerr := q.sim.lookupUser(q.param("uid"))
		if gerr != nil {
			return nil, gerr
		}
		sel := selectFields(q.r)
		if sel == nil {
			sel = defaultUserFields
		}
		body := project(userJSON(u), sel)
		body["@odata.context"] = q.sim.baseURL + "/$metadata#users/$entity"
		return body, nil
	})
}

func handleDeletedUsers(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		var all []map[string]any
		for _, u := range q.sim.users {
			if u.deleted {
				all = append(all, project(userJSON(u), selectFields(q.r)))
			}
		}
		return q.listPage("directory/deletedItems/microsoft.graph.user", all, 100, 999)
	})
}
