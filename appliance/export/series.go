package export

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Graph v1.0 lists a recurring series as its master (type seriesMaster,
// with its recurrence); its changed occurrences (exceptions) come only from
// /events/{id}/instances or a calendarView, and a deleted occurrence is
// simply absent from both. A backup keeps what it learnt that way on the
// stored master under these two annotations, which Graph never sends:
const (
	// AnnotationExceptions holds the exceptions of the series (and
	// occurrences Graph marks isCancelled), as Graph served them.
	AnnotationExceptions = "@strongroom.exceptions"
	// AnnotationCancelled holds the original starts (RFC 3339, UTC) of
	// the occurrences that were deleted from the series.
	AnnotationCancelled = "@strongroom.cancelledOccurrences"
)

// seriesHorizonYears bounds how far a series without an end is followed
// past its last modification: changes further out are not looked for.
const seriesHorizonYears = 3

// maxSeriesDays bounds the days a series is expanded over.
const maxSeriesDays = 40000

type seriesMaster struct {
	graphEvent
	OriginalStartTimeZone string `json:"originalStartTimeZone"`
}

// SeriesWindow expands the series master whose Graph JSON is master. It
// returns the window [from, to) that holds every occurrence a backup looks
// at (to bounded for a series without an end), and the original starts of
// the occurrences in it; ok is false, with starts nil, when the pattern or
// the series' zone is not understood (the window is then still usable).
func SeriesWindow(master []byte) (starts []time.Time, from, to time.Time, ok bool) {
	var m seriesMaster
	if err := json.Unmarshal(master, &m); err != nil || m.Start == nil {
		return nil, from, to, false
	}
	start, err := resolveTime(*m.Start)
	if err != nil {
		return nil, from, to, false
	}
	from = start.t.AddDate(0, 0, -1)
	to = start.t.AddDate(seriesHorizonYears, 0, 0)
	if t, ok := parseGraphInstant(m.LastModifiedDateTime); ok && t.AddDate(seriesHorizonYears, 0, 0).After(to) {
		to = t.AddDate(seriesHorizonYears, 0, 0)
	}
	r := m.Recurrence
	if r == nil || r.Pattern == nil || r.Range == nil {
		return nil, from, to, false
	}
	zone := r.Range.RecurrenceTimeZone
	if zone == "" {
		zone = m.OriginalStartTimeZone
	}
	loc, zok := resolveZone(zone)
	if !zok || start.floating {
		return nil, from, to, false
	}
	if loc == nil {
		loc = time.UTC
	}
	wall := start.t.In(loc)
	first := time.Date(wall.Year(), wall.Month(), wall.Day(), 0, 0, 0, 0, time.UTC)
	if d, err := time.Parse(time.DateOnly, r.Range.StartDate); err == nil {
		first = d
	}
	last := time.Time{}
	switch strings.ToLower(r.Range.Type) {
	case "enddate":
		d, err := time.Parse(time.DateOnly, r.Range.EndDate)
		if err != nil {
			return nil, from, to, false
		}
		last = d
	case "numbered":
		if r.Range.NumberOfOccurrences <= 0 {
			return nil, from, to, false
		}
	}
	count := r.Range.NumberOfOccurrences
	for n := 0; n < maxSeriesDays; n++ {
		d := first.AddDate(0, 0, n)
		occ := time.Date(d.Year(), d.Month(), d.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
		if (!last.IsZero() && d.After(last)) || (last.IsZero() && count <= 0 && !occ.Before(to)) {
			break
		}
		on, known := occursOn(r, first, d)
		if !known {
			return nil, from, to, false
		}
		if !on {
			continue
		}
		starts = append(starts, occ.UTC())
		if count > 0 && len(starts) == count {
			break
		}
	}
	if len(starts) > 0 {
		from = starts[0].AddDate(0, 0, -1)
		to = starts[len(starts)-1].AddDate(0, 0, 1)
	}
	return starts, from, to, true
}

// occursOn reports whether a series with recurrence r, whose range starts
// on first, has an occurrence on the date d (both dates at UTC midnight);
// known is false for a pattern not understood.
func occursOn(r *graphRecurrence, first, d time.Time) (on, known bool) {
	p := r.Pattern
	interval := max(1, p.Interval)
	inDays := func() bool {
		for _, w := range p.DaysOfWeek {
			if strings.EqualFold(w, d.Weekday().String()) {
				return true
			}
		}
		return false
	}
	months := (d.Year()-first.Year())*12 + int(d.Month()) - int(first.Month())
	switch strings.ToLower(p.Type) {
	case "daily":
		return int(d.Sub(first).Hours()/24)%interval == 0, true
	case "weekly":
		fdw := time.Sunday
		for i := time.Sunday; i <= time.Saturday; i++ {
			if strings.EqualFold(p.FirstDayOfWeek, i.String()) {
				fdw = i
			}
		}
		week0 := first.AddDate(0, 0, -((int(first.Weekday()) - int(fdw) + 7) % 7))
		return int(d.Sub(week0).Hours()/24)/7%interval == 0 && inDays(), true
	case "absolutemonthly":
		return months%interval == 0 && d.Day() == p.DayOfMonth, true
	case "absoluteyearly":
		return months%(12*interval) == 0 && d.Day() == p.DayOfMonth && int(d.Month()) == p.Month, true
	case "relativemonthly", "relativeyearly":
		if len(p.DaysOfWeek) != 1 {
			// "the first weekday" and the like pick one day among
			// several; not followed here.
			return false, false
		}
		if strings.EqualFold(p.Type, "relativeyearly") && (int(d.Month()) != p.Month || months%(12*interval) != 0) {
			return false, true
		}
		if months%interval != 0 || !inDays() {
			return false, true
		}
		idx := weekIndex[strings.ToLower(p.Index)]
		if idx == 0 {
			idx = 1
		}
		if idx == -1 {
			return d.AddDate(0, 0, 7).Month() != d.Month(), true
		}
		return (d.Day()-1)/7+1 == idx, true
	}
	return false, false
}

// seriesOf is the master an exception belongs to: the zone and form of
// its DTSTART, which RECURRENCE-ID and EXDATE must follow.
type seriesOf struct {
	start  eventTime
	allDay bool
}

// at formats the original start of an occurrence (an RFC 3339 instant) as
// the master's DTSTART is written; "" when it cannot be read.
func (s *seriesOf) at(original string) (params, value string) {
	t, ok := parseGraphInstant(original)
	if !ok {
		return "", ""
	}
	if s.allDay {
		return ";VALUE=DATE", wallDate(eventTime{t: t, loc: s.start.loc}).Format(icsDate)
	}
	if s.start.floating {
		return formatTime(eventTime{t: t.UTC(), floating: true})
	}
	return formatTime(eventTime{t: t, loc: s.start.loc})
}

// writeSeries writes an event; for a series master also its exceptions,
// as VEVENTs of the same UID with a RECURRENCE-ID (RFC 5545 3.8.4.4).
func writeSeries(out *contentLines, e *graphEvent, spans map[string]*zoneSpan, now time.Time) error {
	if err := writeVEvent(out, e, spans, now, nil); err != nil {
		return err
	}
	if len(e.Exceptions) == 0 || e.Recurrence == nil {
		return nil
	}
	start, _, err := eventTimes(e)
	if err != nil {
		return err
	}
	uid := e.ICalUID
	if uid == "" {
		uid = e.ID
	}
	master := &seriesOf{start: start, allDay: e.IsAllDay}
	for i, raw := range e.Exceptions {
		var x graphEvent
		if err := json.Unmarshal(raw, &x); err != nil {
			return fmt.Errorf("exception %d: %w", i, err)
		}
		if _, v := master.at(x.OriginalStart); v == "" {
			continue
		}
		// An occurrence has its own iCalUId in Graph; in iCalendar it
		// is the series' UID that ties it to the master.
		x.ICalUID, x.Recurrence, x.Exceptions, x.Cancelled = uid, nil, nil, nil
		if err := writeVEvent(out, &x, spans, now, master); err != nil {
			return fmt.Errorf("exception %d: %w", i, err)
		}
	}
	return nil
}
