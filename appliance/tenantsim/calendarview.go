package tenantsim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// series holds what has happened to single occurrences of a series master:
// occurrences changed on their own (exceptions, by occurrence key: the
// original start as yyyymmddThhmm in UTC, with the properties that differ
// from the master) and occurrences deleted (cancelled). Exchange keeps
// these on the master, so changing one bumps the master's version.
type series struct {
	exceptions map[string]map[string]any
	cancelled  map[string]bool
}

const (
	occKeyLayout  = "20060102T1504"
	graphDTLayout = "2006-01-02T15:04:05.0000000"
	occSep        = "_OCC"
	occMaxCount   = 520 // cap on the expansion of a series without an end
)

// occurrenceKey names the occurrence of a series that starts at t.
func occurrenceKey(t time.Time) string { return t.UTC().Format(occKeyLayout) }

// expandSeries returns the original starts of every occurrence of a
// series master, in order. The simulator understands daily and weekly
// patterns in UTC; other masters have no occurrences here.
func expandSeries(props map[string]any) []time.Time {
	start, ok := propTime(props["start"])
	rec, _ := props["recurrence"].(map[string]any)
	if !ok || rec == nil {
		return nil
	}
	pat, _ := rec["pattern"].(map[string]any)
	rng, _ := rec["range"].(map[string]any)
	if pat == nil || rng == nil {
		return nil
	}
	interval := max(1, propInt(pat["interval"]))
	days := map[string]bool{}
	if l, ok := pat["daysOfWeek"].([]any); ok {
		for _, d := range l {
			s, _ := d.(string)
			days[strings.ToLower(s)] = true
		}
	}
	limit := occMaxCount
	if rng["type"] == "numbered" {
		limit = min(limit, propInt(rng["numberOfOccurrences"]))
	}
	var until time.Time
	if rng["type"] == "endDate" {
		end, err := time.Parse(time.DateOnly, str(rng["endDate"]))
		if err != nil {
			return nil
		}
		until = end.Add(24 * time.Hour)
	}
	day0 := start.Truncate(24 * time.Hour)
	week0 := day0.AddDate(0, 0, -int(day0.Weekday()))
	var out []time.Time
	for t := start; len(out) < limit && (until.IsZero() || t.Before(until)); t = t.AddDate(0, 0, 1) {
		n := int(t.Truncate(24*time.Hour).Sub(day0).Hours() / 24)
		switch pat["type"] {
		case "daily":
			if n%interval == 0 {
				out = append(out, t)
			}
		case "weekly":
			w := int(t.Truncate(24*time.Hour).Sub(week0).Hours()/24) / 7
			if w%interval == 0 && days[strings.ToLower(t.Weekday().String())] {
				out = append(out, t)
			}
		default:
			return nil
		}
		if n > 366*20 {
			break
		}
	}
	return out
}

func propTime(v any) (time.Time, bool) {
	m, _ := v.(map[string]any)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(graphDTLayout, str(m["dateTime"]))
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05", str(m["dateTime"]))
	}
	return t.UTC(), err == nil
}

func propInt(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}

func str(v any) string { s, _ := v.(string); return s }

func graphDT(t time.Time) map[string]any {
	return map[string]any{"dateTime": t.UTC().Format(graphDTLayout), "timeZone": "UTC"}
}

// instanceJSON renders the occurrence of master that originally starts at
// t: the master's properties without its recurrence, typed occurrence, or
// exception with the properties changed on it.
func instanceJSON(master *item, t time.Time) map[string]any {
	m := propsJSON(master, nil)
	delete(m, "recurrence")
	s0, _ := propTime(master.props["start"])
	e0, ok := propTime(master.props["end"])
	if !ok {
		e0 = s0
	}
	key := occurrenceKey(t)
	m["id"] = master.id + occSep + key
	m["type"] = "occurrence"
	m["seriesMasterId"] = master.id
	m["originalStart"] = t.UTC().Format(time.RFC3339)
	m["originalStartTimeZone"] = "UTC"
	m["start"], m["end"] = graphDT(t), graphDT(t.Add(e0.Sub(s0)))
	if master.series != nil {
		if ex := master.series.exceptions[key]; ex != nil {
			m["type"] = "exception"
			for k, v := range ex {
				m[k] = v
			}
		}
	}
	return m
}

// instances renders the occurrences and exceptions of master that start
// in [from, to), cancelled ones left out as Graph leaves them out.
func instances(master *item, from, to time.Time) []map[string]any {
	var out []map[string]any
	for _, t := range expandSeries(master.props) {
		if master.series != nil && master.series.cancelled[occurrenceKey(t)] {
			continue
		}
		in := instanceJSON(master, t)
		st, _ := propTime(in["start"])
		if !st.Before(from) && st.Before(to) {
			out = append(out, in)
		}
	}
	return out
}

// window reads calendarView's and instances' required startDateTime and
// endDateTime.
func (q *request) window() (from, to time.Time, gerr *graphError) {
	v := q.r.URL.Query()
	var err1, err2 error
	from, err1 = time.Parse(time.RFC3339, strings.Replace(v.Get("startDateTime"), " ", "+", 1))
	to, err2 = time.Parse(time.RFC3339, strings.Replace(v.Get("endDateTime"), " ", "+", 1))
	if err1 != nil || err2 != nil {
		return from, to, errf(http.StatusBadRequest, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	}
	return from, to, nil
}

// handleEventInstances serves /events/{id}/instances: the occurrences and
// exceptions of a series master in the window.
func handleEventInstances(q *request) *graphError {
	from, to, gerr := q.window()
	if gerr != nil {
		return gerr
	}
	return q.read(func() (any, *graphError) {
		u, it, gerr := q.mailboxItem("eid", kindEvent)
		if gerr != nil {
			return nil, gerr
		}
		return q.listPage("users('"+u.id+"')/events('"+it.id+"')/instances", instances(it, from, to), 10, 1000)
	})
}

// handleCalendarView serves a calendar's view of a window: single events
// and the occurrences and exceptions of series, never series masters.
func handleCalendarView(q *request) *graphError {
	from, to, gerr := q.window()
	if gerr != nil {
		return gerr
	}
	return readPair(q, q.collectionIn(q.calendar), func(u *user, c *collection) (any, *graphError) {
		var all []map[string]any
		for _, m := range c.order {
			it := u.items[m.id]
			if str(it.props["type"]) == "seriesMaster" {
				all = append(all, instances(it, from, to)...)
				continue
			}
			if st, ok := propTime(it.props["start"]); ok && !st.Before(from) && st.Before(to) {
				all = append(all, eventJSON(it))
			}
		}
		slices.SortStableFunc(all, func(a, b map[string]any) int {
			x, _ := propTime(a["start"])
			y, _ := propTime(b["start"])
			return x.Compare(y)
		})
		return q.listPage("users('"+u.id+"')/calendarView", all, 10, 1000)
	})
}

// occurrence resolves an occurrence id (master id, separator, key) to its
// master and key, when the master has such an occurrence that is not
// cancelled.
func occurrence(u *user, id string) (*item, string, bool) {
	mid, key, ok := strings.Cut(id, occSep)
	master := u.items[mid]
	if !ok || master == nil || master.kind != kindEvent {
		return nil, "", false
	}
	if master.series != nil && master.series.cancelled[key] {
		return nil, "", false
	}
	for _, t := range expandSeries(master.props) {
		if occurrenceKey(t) == key {
			return master, key, true
		}
	}
	return nil, "", false
}

// touchSeries records a change to one occurrence on its master, as a new
// version of the master (Exchange's change key moves with it).
func (q *request) touchSeries(master *item) *series {
	if master.series == nil {
		master.series = &series{exceptions: map[string]map[string]any{}, cancelled: map[string]bool{}}
	}
	seq := q.sim.nextSeq()
	master.version++
	master.modified = q.sim.logicalNow(seq)
	q.sim.logTouch(master.coll, master.id)
	return master.series
}

// handleUpdateEvent serves PATCH on an event: on an occurrence it makes an
// exception of it; otherwise it changes the event's properties.
func handleUpdateEvent(q *request) *graphError {
	props, gerr := q.readProps()
	if gerr != nil {
		return gerr
	}
	delete(props, "type")
	delete(props, "seriesMasterId")
	return writeOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		if master, key, ok := occurrence(u, q.param("eid")); ok {
			s := q.touchSeries(master)
			ex := s.exceptions[key]
			if ex == nil {
				ex = map[string]any{}
				s.exceptions[key] = ex
			}
			for k, v := range props {
				ex[k] = v
			}
			t, _ := time.Parse(occKeyLayout, key)
			return instanceJSON(master, t), nil
		}
		it, gerr := u.itemOf(q.param("eid"), kindEvent)
		if gerr != nil {
			return nil, gerr
		}
		for k, v := range props {
			it.props[k] = v
		}
		seq := q.sim.nextSeq()
		it.version++
		it.modified = q.sim.logicalNow(seq)
		q.sim.logTouch(it.coll, it.id)
		return eventJSON(it), nil
	})
}

// handleCalendarViewDelta serves calendarView/delta on the default
// calendar or calendars/{id}: like a calendarView, occurrences and
// exceptions rather than series masters, in the window the first request
// names and its tokens keep. When a series changes, its occurrences in
// the window come again and its cancelled ones as @removed.
func handleCalendarViewDelta(q *request) *graphError {
	return readPair(q, q.collectionIn(q.calendar), func(u *user, c *collection) (any, *graphError) {
		q.view = func(id string, from, to time.Time) []map[string]any {
			return viewOf(u.items[id], from, to)
		}
		return q.serveDelta(c, "#microsoft.graph.event", memberOf(c, eventJSON))
	})
}

// viewOf is what a calendarView delta shows of a changed member.
func viewOf(it *item, from, to time.Time) []map[string]any {
	if str(it.props["type"]) != "seriesMaster" {
		if st, ok := propTime(it.props["start"]); ok && !st.Before(from) && st.Before(to) {
			return []map[string]any{eventJSON(it)}
		}
		return nil
	}
	out := instances(it, from, to)
	if it.series == nil {
		return out
	}
	for _, t := range expandSeries(it.props) {
		if it.series.cancelled[occurrenceKey(t)] && !t.Before(from) && t.Before(to) {
			out = append(out, map[string]any{
				"@odata.type": "#microsoft.graph.event",
				"id":          it.id + occSep + occurrenceKey(t),
				"@removed":    map[string]any{"reason": "deleted"},
			})
		}
	}
	return out
}
