package export

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// graphEvent is the part of a Microsoft Graph v1.0 event that the VEVENT
// carries.
type graphEvent struct {
	ID                   string          `json:"id"`
	ICalUID              string          `json:"iCalUId"`
	Subject              string          `json:"subject"`
	Body                 *graphBody      `json:"body"`
	Start                *graphDateTime  `json:"start"`
	End                  *graphDateTime  `json:"end"`
	IsAllDay             bool            `json:"isAllDay"`
	Location             *graphLocation  `json:"location"`
	Organizer            *graphRecipient `json:"organizer"`
	Attendees            []graphAttendee `json:"attendees"`
	Recurrence           *graphRecurrence
	Categories           []string `json:"categories"`
	CreatedDateTime      string   `json:"createdDateTime"`
	LastModifiedDateTime string   `json:"lastModifiedDateTime"`
	Sensitivity          string   `json:"sensitivity"`
	ShowAs               string   `json:"showAs"`
	IsCancelled          bool     `json:"isCancelled"`

	// A series master's exceptions and deleted occurrences, as a
	// backup recorded them (AnnotationExceptions, AnnotationCancelled);
	// an exception's original start.
	Exceptions    []json.RawMessage `json:"@strongroom.exceptions"`
	Cancelled     []string          `json:"@strongroom.cancelledOccurrences"`
	OriginalStart string            `json:"originalStart"`
}

type graphBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type graphDateTime struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

type graphLocation struct {
	DisplayName string `json:"displayName"`
}

type graphRecipient struct {
	EmailAddress graphEmail `json:"emailAddress"`
}

type graphAttendee struct {
	Type   string `json:"type"`
	Status *struct {
		Response string `json:"response"`
	} `json:"status"`
	EmailAddress graphEmail `json:"emailAddress"`
}

type graphRecurrence struct {
	Pattern *struct {
		Type           string   `json:"type"`
		Interval       int      `json:"interval"`
		Month          int      `json:"month"`
		DayOfMonth     int      `json:"dayOfMonth"`
		DaysOfWeek     []string `json:"daysOfWeek"`
		FirstDayOfWeek string   `json:"firstDayOfWeek"`
		Index          string   `json:"index"`
	} `json:"pattern"`
	Range *struct {
		Type                string `json:"type"`
		StartDate           string `json:"startDate"`
		EndDate             string `json:"endDate"`
		RecurrenceTimeZone  string `json:"recurrenceTimeZone"`
		NumberOfOccurrences int    `json:"numberOfOccurrences"`
	} `json:"range"`
}

const (
	icsDateTime    = "20060102T150405"
	icsDateTimeUTC = "20060102T150405Z"
	icsDate        = "20060102"
)

// eventTime is a resolved Graph dateTimeTimeZone.
type eventTime struct {
	t        time.Time      // the instant, or the wall time when floating
	loc      *time.Location // nil for UTC
	floating bool           // zone unknown: written without TZID or Z
}

// EventsToICS converts Graph events (JSON) into one iCalendar object named
// calendarName, with CRLF line endings. stamp is the DTSTAMP of an event
// that carries no modification time of its own: the export's time.
func EventsToICS(events [][]byte, calendarName string, stamp time.Time) ([]byte, error) {
	parsed := make([]graphEvent, len(events))
	for i, raw := range events {
		if err := json.Unmarshal(raw, &parsed[i]); err != nil {
			return nil, fmt.Errorf("export: event %d: %w", i, err)
		}
	}
	var body contentLines
	spans := map[string]*zoneSpan{}
	stamp = stamp.UTC()
	for i := range parsed {
		if err := writeSeries(&body, &parsed[i], spans, stamp); err != nil {
			return nil, fmt.Errorf("export: event %d: %w", i, err)
		}
	}

	var out contentLines
	out.add("BEGIN", "", "VCALENDAR")
	out.add("VERSION", "", "2.0")
	out.add("PRODID", "", "-//Strongroom//EN")
	out.add("CALSCALE", "", "GREGORIAN")
	if calendarName != "" {
		out.add("X-WR-CALNAME", "", escapeText(calendarName))
	}
	names := make([]string, 0, len(spans))
	for name := range spans {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		writeVTimezone(&out, *spans[name])
	}
	out.b.WriteString(body.b.String())
	out.add("END", "", "VCALENDAR")
	return out.bytes(), nil
}

// writeVEvent writes one Graph event as a VEVENT and widens the span of
// the zone its times are in, for the VTIMEZONE written later; now stamps an
// event that names no last modification.
func writeVEvent(out *contentLines, e *graphEvent, spans map[string]*zoneSpan, now time.Time, series *seriesOf) error {
	start, end, err := eventTimes(e)
	if err != nil {
		return err
	}
	out.add("BEGIN", "", "VEVENT")
	writeEventStamps(out, e, now)
	if series != nil {
		p, v := series.at(e.OriginalStart)
		out.add("RECURRENCE-ID", p, v)
	}
	writeEventTimes(out, e, start, end, spans)
	if rule := rrule(e, start); rule != "" {
		out.add("RRULE", "", rule)
		for _, c := range e.Cancelled {
			p, v := (&seriesOf{start: start, allDay: e.IsAllDay}).at(c)
			if v != "" {
				out.add("EXDATE", p, v)
			}
		}
	}
	writeEventText(out, e)
	writeEventPeople(out, e)
	writeEventFlags(out, e)
	out.add("END", "", "VEVENT")
	return nil
}

// eventTimes resolves an event's start and end; an event without an end
// ends when it starts.
func eventTimes(e *graphEvent) (start, end eventTime, err error) {
	if e.Start == nil {
		return start, end, fmt.Errorf("no start")
	}
	start, err = resolveTime(*e.Start)
	if err != nil {
		return start, end, fmt.Errorf("start: %w", err)
	}
	end = start
	if e.End != nil {
		if end, err = resolveTime(*e.End); err != nil {
			return start, end, fmt.Errorf("end: %w", err)
		}
	}
	return start, end, nil
}

// writeEventStamps writes an event's UID, DTSTAMP, CREATED and
// LAST-MODIFIED.
func writeEventStamps(out *contentLines, e *graphEvent, now time.Time) {
	uid := e.ICalUID
	if uid == "" {
		uid = e.ID
	}
	if uid != "" {
		out.add("UID", "", escapeText(uid))
	}
	stamp := now
	if t, ok := parseGraphInstant(e.LastModifiedDateTime); ok {
		// Without a METHOD, DTSTAMP is the last modification (RFC 5545
		// 3.8.7.2).
		stamp = t
	}
	out.add("DTSTAMP", "", stamp.UTC().Format(icsDateTimeUTC))
	if t, ok := parseGraphInstant(e.CreatedDateTime); ok {
		out.add("CREATED", "", t.UTC().Format(icsDateTimeUTC))
	}
	if t, ok := parseGraphInstant(e.LastModifiedDateTime); ok {
		out.add("LAST-MODIFIED", "", t.UTC().Format(icsDateTimeUTC))
	}
}

// writeEventTimes writes DTSTART and DTEND: dates for an all-day event,
// otherwise times in the start's zone, whose span it widens to cover the
// event and its recurrences.
func writeEventTimes(out *contentLines, e *graphEvent, start, end eventTime, spans map[string]*zoneSpan) {
	if e.IsAllDay {
		sd := wallDate(start)
		ed := wallDate(end)
		if !ed.After(sd) {
			ed = sd.AddDate(0, 0, 1)
		}
		out.add("DTSTART", ";VALUE=DATE", sd.Format(icsDate))
		out.add("DTEND", ";VALUE=DATE", ed.Format(icsDate))
		return
	}
	if end.t.Before(start.t) {
		end = start
	}
	// Both ends are written in the start's zone so that a reader
	// never has to reconcile two zones for one event.
	if !start.floating && !end.floating {
		end.loc = start.loc
	}
	p, v := formatTime(start)
	out.add("DTSTART", p, v)
	p, v = formatTime(end)
	out.add("DTEND", p, v)
	if start.loc != nil && !start.floating {
		span := spans[start.loc.String()]
		if span == nil {
			span = &zoneSpan{loc: start.loc}
			spans[start.loc.String()] = span
		}
		span.cover(start.t)
		span.cover(end.t)
		span.cover(recurrenceHorizon(e.Recurrence, start.t))
	}
}

// writeEventText writes an event's SUMMARY, DESCRIPTION (an HTML body as
// plain text) and LOCATION.
func writeEventText(out *contentLines, e *graphEvent) {
	if e.Subject != "" {
		out.add("SUMMARY", "", escapeText(e.Subject))
	}
	if e.Body != nil && strings.TrimSpace(e.Body.Content) != "" {
		text := e.Body.Content
		if strings.EqualFold(e.Body.ContentType, "html") {
			text = htmlToText(text)
		}
		if text != "" {
			out.add("DESCRIPTION", "", escapeText(text))
		}
	}
	if e.Location != nil && e.Location.DisplayName != "" {
		out.add("LOCATION", "", escapeText(e.Location.DisplayName))
	}
}

// writeEventPeople writes an event's ORGANIZER and one ATTENDEE per
// attendee with an address, with role and participation status.
func writeEventPeople(out *contentLines, e *graphEvent) {
	if e.Organizer != nil {
		if p, v := calAddress(e.Organizer.EmailAddress); v != "" {
			out.add("ORGANIZER", p, v)
		}
	}
	for _, a := range e.Attendees {
		p, v := calAddress(a.EmailAddress)
		if v == "" {
			continue
		}
		switch strings.ToLower(a.Type) {
		case "optional":
			p += ";ROLE=OPT-PARTICIPANT"
		case "resource":
			p += ";CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT"
		default:
			p += ";ROLE=REQ-PARTICIPANT"
		}
		resp := ""
		if a.Status != nil {
			resp = a.Status.Response
		}
		p += ";PARTSTAT=" + partstat(resp)
		out.add("ATTENDEE", p, v)
	}
}

// writeEventFlags writes an event's CATEGORIES, CLASS (from its
// sensitivity), TRANSP (from its free/busy) and a cancelled STATUS.
func writeEventFlags(out *contentLines, e *graphEvent) {
	if len(e.Categories) > 0 {
		var cats []string
		for _, c := range e.Categories {
			if c != "" {
				cats = append(cats, escapeText(c))
			}
		}
		if len(cats) > 0 {
			out.add("CATEGORIES", "", strings.Join(cats, ","))
		}
	}
	switch strings.ToLower(e.Sensitivity) {
	case "normal":
		out.add("CLASS", "", "PUBLIC")
	case "private", "personal":
		out.add("CLASS", "", "PRIVATE")
	case "confidential":
		out.add("CLASS", "", "CONFIDENTIAL")
	}
	switch strings.ToLower(e.ShowAs) {
	case "":
	case "free":
		out.add("TRANSP", "", "TRANSPARENT")
	default:
		out.add("TRANSP", "", "OPAQUE")
	}
	if e.IsCancelled {
		out.add("STATUS", "", "CANCELLED")
	}
}

// resolveTime reads a Graph dateTimeTimeZone: a wall-clock dateTime (with
// up to seven fractional digits) in the named zone.
func resolveTime(dt graphDateTime) (eventTime, error) {
	s := strings.TrimSpace(dt.DateTime)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		// An explicit offset names the instant by itself.
		loc, ok := resolveZone(dt.TimeZone)
		if !ok {
			loc = nil
		}
		return eventTime{t: t, loc: loc}, nil
	}
	wall, err := time.Parse("2006-01-02T15:04:05.9999999", s)
	if err != nil {
		if wall, err = time.Parse("2006-01-02T15:04", s); err != nil {
			if wall, err = time.Parse("2006-01-02", s); err != nil {
				return eventTime{}, fmt.Errorf("bad dateTime %q", dt.DateTime)
			}
		}
	}
	wall = wall.Truncate(time.Second)
	loc, ok := resolveZone(dt.TimeZone)
	if !ok {
		return eventTime{t: wall, floating: true}, nil
	}
	if loc == nil {
		return eventTime{t: wall}, nil
	}
	return eventTime{t: time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc), loc: loc}, nil
}

// wallDate is the calendar date of t in its own zone.
func wallDate(t eventTime) time.Time {
	w := t.t
	if t.loc != nil && !t.floating {
		w = w.In(t.loc)
	} else if !t.floating {
		w = w.UTC()
	}
	return time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
}

// formatTime returns the parameters and value of a DATE-TIME property.
func formatTime(t eventTime) (params, value string) {
	switch {
	case t.floating:
		return "", t.t.Format(icsDateTime)
	case t.loc == nil:
		return "", t.t.UTC().Format(icsDateTimeUTC)
	default:
		return ";TZID=" + paramValue(t.loc.String()), t.t.In(t.loc).Format(icsDateTime)
	}
}

func calAddress(e graphEmail) (params, value string) {
	addr := uriValue(e.Address)
	if addr == "" {
		return "", ""
	}
	if name := strings.TrimSpace(e.Name); name != "" {
		params = ";CN=" + paramValue(name)
	}
	return params, "mailto:" + addr
}

func partstat(response string) string {
	switch strings.ToLower(response) {
	case "accepted", "organizer":
		return "ACCEPTED"
	case "declined":
		return "DECLINED"
	case "tentativelyaccepted":
		return "TENTATIVE"
	default:
		return "NEEDS-ACTION"
	}
}

var weekdays = map[string]string{
	"sunday": "SU", "monday": "MO", "tuesday": "TU", "wednesday": "WE",
	"thursday": "TH", "friday": "FR", "saturday": "SA",
}

var weekIndex = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}

// rrule converts a Graph recurrence into an RRULE value; "" when the event
// does not recur or the pattern is not understood.
func rrule(e *graphEvent, start eventTime) string {
	r := e.Recurrence
	if r == nil || r.Pattern == nil {
		return ""
	}
	p := r.Pattern
	var days []string
	for _, d := range p.DaysOfWeek {
		if wd, ok := weekdays[strings.ToLower(d)]; ok {
			days = append(days, wd)
		}
	}
	idx := weekIndex[strings.ToLower(p.Index)]
	if idx == 0 {
		idx = 1
	}
	var parts []string
	switch strings.ToLower(p.Type) {
	case "daily":
		parts = append(parts, "FREQ=DAILY")
	case "weekly":
		parts = append(parts, "FREQ=WEEKLY")
		if len(days) > 0 {
			parts = append(parts, "BYDAY="+strings.Join(days, ","))
		}
	case "absolutemonthly":
		parts = append(parts, "FREQ=MONTHLY")
		if p.DayOfMonth >= 1 && p.DayOfMonth <= 31 {
			parts = append(parts, "BYMONTHDAY="+strconv.Itoa(p.DayOfMonth))
		}
	case "relativemonthly":
		parts = append(parts, "FREQ=MONTHLY")
		parts = append(parts, relativeDays(days, idx)...)
	case "absoluteyearly":
		parts = append(parts, "FREQ=YEARLY")
		if p.Month >= 1 && p.Month <= 12 {
			parts = append(parts, "BYMONTH="+strconv.Itoa(p.Month))
		}
		if p.DayOfMonth >= 1 && p.DayOfMonth <= 31 {
			parts = append(parts, "BYMONTHDAY="+strconv.Itoa(p.DayOfMonth))
		}
	case "relativeyearly":
		parts = append(parts, "FREQ=YEARLY")
		if p.Month >= 1 && p.Month <= 12 {
			parts = append(parts, "BYMONTH="+strconv.Itoa(p.Month))
		}
		parts = append(parts, relativeDays(days, idx)...)
	default:
		return ""
	}
	if p.Interval > 1 {
		parts = append(parts, "INTERVAL="+strconv.Itoa(p.Interval))
	}
	if r.Range != nil {
		switch strings.ToLower(r.Range.Type) {
		case "numbered":
			if r.Range.NumberOfOccurrences > 0 {
				parts = append(parts, "COUNT="+strconv.Itoa(r.Range.NumberOfOccurrences))
			}
		case "enddate":
			if until, ok := untilValue(r.Range.EndDate, r.Range.RecurrenceTimeZone, e.IsAllDay, start); ok {
				parts = append(parts, "UNTIL="+until)
			}
		}
	}
	if wd, ok := weekdays[strings.ToLower(p.FirstDayOfWeek)]; ok && wd != "MO" {
		parts = append(parts, "WKST="+wd)
	}
	return strings.Join(parts, ";")
}

// relativeDays expresses "the index-th of these weekdays": 2TU for one
// day, BYDAY with BYSETPOS for several (Graph's "first weekday").
func relativeDays(days []string, idx int) []string {
	switch len(days) {
	case 0:
		return nil
	case 1:
		return []string{"BYDAY=" + strconv.Itoa(idx) + days[0]}
	default:
		return []string{"BYDAY=" + strings.Join(days, ","), "BYSETPOS=" + strconv.Itoa(idx)}
	}
}

// untilValue turns Graph's inclusive end date into UNTIL: a DATE for
// all-day events, else the last second of that date in the recurrence's
// zone, in UTC (or floating, when DTSTART is floating).
func untilValue(endDate, zone string, allDay bool, start eventTime) (string, bool) {
	d, err := time.Parse("2006-01-02", strings.TrimSpace(endDate))
	if err != nil {
		return "", false
	}
	if allDay {
		return d.Format(icsDate), true
	}
	last := time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, time.UTC)
	if start.floating {
		return last.Format(icsDateTime), true
	}
	loc := start.loc
	if l, ok := resolveZone(zone); ok && zone != "" {
		loc = l
	}
	if loc != nil {
		last = time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, loc)
	}
	return last.UTC().Format(icsDateTimeUTC), true
}

// maxHorizon bounds how far a VTIMEZONE reaches past an event's start.
const maxHorizon = 20

// recurrenceHorizon estimates the last instant a recurrence reaches, so the
// VTIMEZONE covers it; open-ended series get maxHorizon years.
func recurrenceHorizon(r *graphRecurrence, start time.Time) time.Time {
	limit := start.AddDate(maxHorizon, 0, 0)
	if r == nil || r.Pattern == nil || r.Range == nil {
		if r == nil || r.Pattern == nil {
			return start
		}
		return limit
	}
	switch strings.ToLower(r.Range.Type) {
	case "enddate":
		if d, err := time.Parse("2006-01-02", r.Range.EndDate); err == nil {
			d = d.AddDate(0, 0, 2)
			if d.Before(limit) {
				return d
			}
		}
	case "numbered":
		n := r.Range.NumberOfOccurrences
		iv := max(r.Pattern.Interval, 1)
		if n > 0 && n < 100000 && iv < 1000 {
			var days int
			switch strings.ToLower(r.Pattern.Type) {
			case "daily":
				days = n * iv
			case "weekly":
				days = (n + 1) * iv * 7
			case "absolutemonthly", "relativemonthly":
				days = (n + 1) * iv * 31
			default:
				days = (n + 1) * iv * 366
			}
			if d := start.AddDate(0, 0, days); d.Before(limit) {
				return d
			}
		}
	}
	return limit
}
