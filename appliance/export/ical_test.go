package export

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

func decodeICS(t *testing.T, data []byte) *ical.Calendar {
	t.Helper()
	physicalLines(t, data)
	cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		t.Fatalf("go-ical: %v\n%s", err, data)
	}
	return cal
}

func eventJSON(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	ev := map[string]any{
		"id":                   "AAMkAD-event",
		"subject":              "Event",
		"start":                map[string]string{"dateTime": "2024-03-04T09:00:00.0000000", "timeZone": "UTC"},
		"end":                  map[string]string{"dateTime": "2024-03-04T10:00:00.0000000", "timeZone": "UTC"},
		"lastModifiedDateTime": "2024-02-01T08:00:00Z",
	}
	for k, v := range fields {
		ev[k] = v
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func oneEvent(t *testing.T, fields map[string]any) (ical.Event, []byte) {
	t.Helper()
	data, err := EventsToICS([][]byte{eventJSON(t, fields)}, "Calendar", testStamp)
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeICS(t, data).Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	return evs[0], data
}

func text(t *testing.T, e ical.Event, name string) string {
	t.Helper()
	p := e.Props.Get(name)
	if p == nil {
		return ""
	}
	s, err := p.Text()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func TestEventsToICSMeeting(t *testing.T) {
	ev := map[string]any{
		"iCalUId":         "040000008200E00074C5B7101A82E008000000",
		"subject":         "Budget; Q3, draft\nround 2 \\ final – Grüße 日本",
		"body":            map[string]string{"contentType": "html", "content": "<html><head><style>p{}</style></head><body><p>Agenda:</p><ul><li>Numbers &amp; risks</li><li>Next steps</li></ul><br>Thanks</body></html>"},
		"start":           map[string]string{"dateTime": "2024-06-10T14:30:00.0000000", "timeZone": "W. Europe Standard Time"},
		"end":             map[string]string{"dateTime": "2024-06-10T15:45:00.0000000", "timeZone": "W. Europe Standard Time"},
		"location":        map[string]string{"displayName": "Room 4.01, Building B"},
		"organizer":       map[string]any{"emailAddress": map[string]string{"name": "Anna Müller", "address": "anna@contoso.test"}},
		"createdDateTime": "2024-01-15T07:00:00.1234567Z",
		"sensitivity":     "private",
		"showAs":          "busy",
		"attendees": []map[string]any{
			{"type": "required", "status": map[string]string{"response": "accepted"}, "emailAddress": map[string]string{"name": "Bob, Jr.", "address": "bob@contoso.test"}},
			{"type": "optional", "status": map[string]string{"response": "tentativelyAccepted"}, "emailAddress": map[string]string{"name": "Carol", "address": "carol@contoso.test"}},
			{"type": "required", "status": map[string]string{"response": "declined"}, "emailAddress": map[string]string{"address": "dave@contoso.test"}},
			{"type": "resource", "status": map[string]string{"response": "none"}, "emailAddress": map[string]string{"name": "Room 4.01", "address": "room401@contoso.test"}},
		},
	}
	data, err := EventsToICS([][]byte{eventJSON(t, ev)}, "Anna's calendar, work", testStamp)
	if err != nil {
		t.Fatal(err)
	}
	cal := decodeICS(t, data)
	if v, _ := cal.Props.Text(ical.PropProductID); v != "-//Strongroom//EN" {
		t.Errorf("PRODID %q", v)
	}
	if v, _ := cal.Props.Text(ical.PropVersion); v != "2.0" {
		t.Errorf("VERSION %q", v)
	}
	if v, _ := cal.Props.Text("X-WR-CALNAME"); v != "Anna's calendar, work" {
		t.Errorf("X-WR-CALNAME %q", v)
	}
	e := cal.Events()[0]
	for _, c := range []struct{ prop, want string }{
		{ical.PropUID, "040000008200E00074C5B7101A82E008000000"},
		{ical.PropSummary, "Budget; Q3, draft\nround 2 \\ final – Grüße 日本"},
		{ical.PropDescription, "Agenda:\n\n- Numbers & risks\n- Next steps\n\nThanks"},
		{ical.PropLocation, "Room 4.01, Building B"},
		{ical.PropClass, "PRIVATE"},
		{ical.PropTransparency, "OPAQUE"},
	} {
		if got := text(t, e, c.prop); got != c.want {
			t.Errorf("%s = %q, want %q", c.prop, got, c.want)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start, err := e.DateTimeStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 6, 10, 14, 30, 0, 0, berlin); !start.Equal(want) || e.Props.Get(ical.PropDateTimeStart).Params.Get(ical.ParamTimezoneID) != "Europe/Berlin" {
		t.Errorf("DTSTART %v (%v), want %v with TZID Europe/Berlin", start, e.Props.Get(ical.PropDateTimeStart).Params, want)
	}
	end, _ := e.DateTimeEnd(nil)
	if want := time.Date(2024, 6, 10, 15, 45, 0, 0, berlin); !end.Equal(want) {
		t.Errorf("DTEND %v, want %v", end, want)
	}
	if p := e.Props.Get(ical.PropDateTimeStamp); p == nil || p.Value != "20240201T080000Z" {
		t.Errorf("DTSTAMP %+v", p)
	}
	if p := e.Props.Get(ical.PropCreated); p == nil || p.Value != "20240115T070000Z" {
		t.Errorf("CREATED %+v", p)
	}
	org := e.Props.Get(ical.PropOrganizer)
	if org == nil || org.Value != "mailto:anna@contoso.test" || org.Params.Get(ical.ParamCommonName) != "Anna Müller" {
		t.Errorf("ORGANIZER %+v", org)
	}
	type att struct{ cn, role, partstat, cutype string }
	want := map[string]att{
		"mailto:bob@contoso.test":     {"Bob, Jr.", "REQ-PARTICIPANT", "ACCEPTED", ""},
		"mailto:carol@contoso.test":   {"Carol", "OPT-PARTICIPANT", "TENTATIVE", ""},
		"mailto:dave@contoso.test":    {"", "REQ-PARTICIPANT", "DECLINED", ""},
		"mailto:room401@contoso.test": {"Room 4.01", "NON-PARTICIPANT", "NEEDS-ACTION", "RESOURCE"},
	}
	atts := e.Props.Values(ical.PropAttendee)
	if len(atts) != len(want) {
		t.Fatalf("%d ATTENDEE, want %d", len(atts), len(want))
	}
	for _, a := range atts {
		got := att{a.Params.Get(ical.ParamCommonName), a.Params.Get(ical.ParamRole), a.Params.Get(ical.ParamParticipationStatus), a.Params.Get(ical.ParamCalendarUserType)}
		if got != want[a.Value] {
			t.Errorf("ATTENDEE %s: %+v, want %+v", a.Value, got, want[a.Value])
		}
	}

	// The VTIMEZONE names Berlin's real 2024 transitions.
	var tz *ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			tz = c
		}
	}
	if tz == nil {
		t.Fatal("no VTIMEZONE")
	}
	if v := tz.Props.Get(ical.PropTimezoneID); v == nil || v.Value != "Europe/Berlin" {
		t.Fatalf("TZID %+v", v)
	}
	found := map[string]bool{}
	for _, o := range tz.Children {
		key := o.Name + " " + o.Props.Get(ical.PropDateTimeStart).Value + " " +
			o.Props.Get(ical.PropTimezoneOffsetFrom).Value + " " + o.Props.Get(ical.PropTimezoneOffsetTo).Value
		found[key] = true
	}
	for _, k := range []string{
		"DAYLIGHT 20240331T020000 +0100 +0200",
		"STANDARD 20241027T030000 +0200 +0100",
		"DAYLIGHT 20250330T020000 +0100 +0200",
	} {
		if !found[k] {
			t.Errorf("VTIMEZONE lacks observance %q; has %v", k, found)
		}
	}
}

func TestEventsToICSTimes(t *testing.T) {
	for _, tc := range []struct {
		name               string
		fields             map[string]any
		startProp, endProp string // the raw values
		tzid               string
		valueDate          bool
	}{
		{name: "utc", fields: nil, startProp: "20240304T090000Z", endProp: "20240304T100000Z"},
		{name: "iana zone", fields: map[string]any{
			"start": map[string]string{"dateTime": "2024-12-01T08:00:00", "timeZone": "America/New_York"},
			"end":   map[string]string{"dateTime": "2024-12-01T09:00:00", "timeZone": "America/New_York"},
		}, startProp: "20241201T080000", endProp: "20241201T090000", tzid: "America/New_York"},
		{name: "all day", fields: map[string]any{
			"isAllDay": true,
			"start":    map[string]string{"dateTime": "2024-05-01T00:00:00.0000000", "timeZone": "UTC"},
			"end":      map[string]string{"dateTime": "2024-05-03T00:00:00.0000000", "timeZone": "UTC"},
		}, startProp: "20240501", endProp: "20240503", valueDate: true},
		{name: "all day without end", fields: map[string]any{
			"isAllDay": true,
			"start":    map[string]string{"dateTime": "2024-05-01T00:00:00", "timeZone": "Tokyo Standard Time"},
			"end":      nil,
		}, startProp: "20240501", endProp: "20240502", valueDate: true},
		{name: "unknown zone is floating", fields: map[string]any{
			"start": map[string]string{"dateTime": "2024-03-04T09:00:00", "timeZone": "Tatooine Standard Time"},
			"end":   map[string]string{"dateTime": "2024-03-04T10:00:00", "timeZone": "Tatooine Standard Time"},
		}, startProp: "20240304T090000", endProp: "20240304T100000"},
		{name: "end in another zone follows start's", fields: map[string]any{
			"start": map[string]string{"dateTime": "2024-07-01T09:00:00", "timeZone": "Europe/London"},
			"end":   map[string]string{"dateTime": "2024-07-01T09:00:00", "timeZone": "UTC"},
		}, startProp: "20240701T090000", endProp: "20240701T100000", tzid: "Europe/London"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, data := oneEvent(t, tc.fields)
			ds, de := e.Props.Get(ical.PropDateTimeStart), e.Props.Get(ical.PropDateTimeEnd)
			if ds.Value != tc.startProp || de.Value != tc.endProp {
				t.Errorf("DTSTART %q DTEND %q, want %q %q", ds.Value, de.Value, tc.startProp, tc.endProp)
			}
			if ds.Params.Get(ical.ParamTimezoneID) != tc.tzid {
				t.Errorf("TZID %q, want %q", ds.Params.Get(ical.ParamTimezoneID), tc.tzid)
			}
			if (ds.ValueType() == ical.ValueDate) != tc.valueDate || (de.ValueType() == ical.ValueDate) != tc.valueDate {
				t.Errorf("VALUE=DATE %v/%v, want %v", ds.ValueType(), de.ValueType(), tc.valueDate)
			}
			hasTZ := bytes.Contains(data, []byte("BEGIN:VTIMEZONE"))
			if hasTZ != (tc.tzid != "") {
				t.Errorf("VTIMEZONE present %v, want %v", hasTZ, tc.tzid != "")
			}
			if _, err := e.DateTimeStart(nil); err != nil {
				t.Errorf("go-ical cannot read DTSTART: %v", err)
			}
		})
	}
}

func recurring(pattern, rng map[string]any, start, zone string, allDay bool) map[string]any {
	s, _ := time.Parse("2006-01-02T15:04:05", start)
	return map[string]any{
		"isAllDay":   allDay,
		"start":      map[string]string{"dateTime": start, "timeZone": zone},
		"end":        map[string]string{"dateTime": s.Add(time.Hour).Format("2006-01-02T15:04:05"), "timeZone": zone},
		"recurrence": map[string]any{"pattern": pattern, "range": rng},
	}
}

func TestEventsToICSRecurrence(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, berlin) }
	for _, tc := range []struct {
		name  string
		ev    map[string]any
		rrule string
		want  []time.Time // all occurrences (the series must end)
	}{
		{
			name: "weekly Mon/Wed count 10 across DST",
			ev: recurring(map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday", "wednesday"}, "firstDayOfWeek": "sunday"},
				map[string]any{"type": "numbered", "startDate": "2024-03-04", "numberOfOccurrences": 10}, "2024-03-04T09:00:00", "W. Europe Standard Time", false),
			rrule: "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10;WKST=SU",
			want: []time.Time{day(2024, 3, 4, 9), day(2024, 3, 6, 9), day(2024, 3, 11, 9), day(2024, 3, 13, 9), day(2024, 3, 18, 9),
				day(2024, 3, 20, 9), day(2024, 3, 25, 9), day(2024, 3, 27, 9), day(2024, 4, 1, 9), day(2024, 4, 3, 9)},
		},
		{
			name: "daily every 2 days until end date inclusive",
			ev: recurring(map[string]any{"type": "daily", "interval": 2},
				map[string]any{"type": "endDate", "startDate": "2024-03-29", "endDate": "2024-04-04"}, "2024-03-29T23:30:00", "Europe/Berlin", false),
			rrule: "FREQ=DAILY;INTERVAL=2;UNTIL=20240404T215959Z",
			want:  []time.Time{day(2024, 3, 29, 23).Add(30 * time.Minute), day(2024, 3, 31, 23).Add(30 * time.Minute), day(2024, 4, 2, 23).Add(30 * time.Minute), day(2024, 4, 4, 23).Add(30 * time.Minute)},
		},
		{
			name: "relative monthly second Tuesday",
			ev: recurring(map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []string{"tuesday"}, "index": "second"},
				map[string]any{"type": "numbered", "numberOfOccurrences": 3}, "2024-01-09T10:00:00", "Europe/Berlin", false),
			rrule: "FREQ=MONTHLY;BYDAY=2TU;COUNT=3",
			want:  []time.Time{day(2024, 1, 9, 10), day(2024, 2, 13, 10), day(2024, 3, 12, 10)},
		},
		{
			name: "relative monthly last weekday of several",
			ev: recurring(map[string]any{"type": "relativeMonthly", "interval": 2, "daysOfWeek": []string{"monday", "friday"}, "index": "last", "firstDayOfWeek": "monday"},
				map[string]any{"type": "numbered", "numberOfOccurrences": 3}, "2024-01-29T10:00:00", "Europe/Berlin", false),
			rrule: "FREQ=MONTHLY;BYDAY=MO,FR;BYSETPOS=-1;INTERVAL=2;COUNT=3",
			want:  []time.Time{day(2024, 1, 29, 10), day(2024, 3, 29, 10), day(2024, 5, 31, 10)},
		},
		{
			name: "absolute monthly on the 31st skips short months",
			ev: recurring(map[string]any{"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
				map[string]any{"type": "endDate", "endDate": "2024-05-31"}, "2024-01-31T08:00:00", "UTC", false),
			rrule: "FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20240531T235959Z",
			want: []time.Time{time.Date(2024, 1, 31, 8, 0, 0, 0, time.UTC), time.Date(2024, 3, 31, 8, 0, 0, 0, time.UTC),
				time.Date(2024, 5, 31, 8, 0, 0, 0, time.UTC)},
		},
		{
			name: "absolute yearly all-day birthday",
			ev: recurring(map[string]any{"type": "absoluteYearly", "interval": 1, "month": 2, "dayOfMonth": 29},
				map[string]any{"type": "endDate", "endDate": "2032-03-01"}, "2024-02-29T00:00:00", "UTC", true),
			rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;UNTIL=20320301",
			want: []time.Time{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
				time.Date(2032, 2, 29, 0, 0, 0, 0, time.UTC)},
		},
		{
			name: "relative yearly last Sunday of October",
			ev: recurring(map[string]any{"type": "relativeYearly", "interval": 1, "month": 10, "daysOfWeek": []string{"sunday"}, "index": "last"},
				map[string]any{"type": "numbered", "numberOfOccurrences": 3}, "2024-10-27T12:00:00", "Europe/Berlin", false),
			rrule: "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;COUNT=3",
			want:  []time.Time{day(2024, 10, 27, 12), day(2025, 10, 26, 12), day(2026, 10, 25, 12)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := oneEvent(t, tc.ev)
			if p := e.Props.Get(ical.PropRecurrenceRule); p == nil || p.Value != tc.rrule {
				t.Errorf("RRULE %+v, want %q", p, tc.rrule)
			}
			set, err := e.RecurrenceSet(nil)
			if err != nil || set == nil {
				t.Fatalf("recurrence set: %v", err)
			}
			got := set.All()
			if len(got) != len(tc.want) {
				t.Fatalf("%d occurrences %v, want %d %v", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("occurrence %d at %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}

	// An open-ended series has no UNTIL or COUNT.
	e, _ := oneEvent(t, recurring(map[string]any{"type": "daily", "interval": 1}, map[string]any{"type": "noEnd", "startDate": "2024-01-01"}, "2024-01-01T09:00:00", "UTC", false))
	if p := e.Props.Get(ical.PropRecurrenceRule); p == nil || p.Value != "FREQ=DAILY" {
		t.Errorf("open-ended RRULE %+v", p)
	}
}

func TestEventsToICSFoldingAndEscaping(t *testing.T) {
	long := strings.Repeat("Vertragsprüfung; Anhänge, Fristen ✓ 📎 \\ ", 10) + "\nZweite Zeile"
	e, data := oneEvent(t, map[string]any{
		"subject": long,
		"body":    map[string]string{"contentType": "text", "content": long},
	})
	if got := text(t, e, ical.PropSummary); got != long {
		t.Errorf("SUMMARY differs after unfolding:\n got %q\nwant %q", got, long)
	}
	if got := text(t, e, ical.PropDescription); got != long {
		t.Errorf("DESCRIPTION differs after unfolding")
	}
	var summary string
	for _, l := range unfold(physicalLines(t, data)) {
		if strings.HasPrefix(l, "SUMMARY:") {
			summary = l
		}
	}
	for _, esc := range []string{`\;`, `\,`, `\\`, `\n`} {
		if !strings.Contains(summary, esc) {
			t.Errorf("SUMMARY lacks escape %s", esc)
		}
	}
	if strings.Count(string(data), "\r\n ") < 10 {
		t.Error("long lines were not folded")
	}
}

func TestEventsToICSCalendar(t *testing.T) {
	evs := [][]byte{
		eventJSON(t, map[string]any{"iCalUId": "", "id": "only-id", "subject": "A"}),
		eventJSON(t, map[string]any{"iCalUId": "uid-b", "subject": "B", "start": map[string]string{"dateTime": "2024-03-04T09:00:00", "timeZone": "Pacific Standard Time"},
			"end": map[string]string{"dateTime": "2024-03-04T10:00:00", "timeZone": "Pacific Standard Time"}}),
		eventJSON(t, map[string]any{"iCalUId": "uid-c", "subject": "C", "start": map[string]string{"dateTime": "2025-03-04T09:00:00", "timeZone": "America/Los_Angeles"},
			"end": map[string]string{"dateTime": "2025-03-04T10:00:00", "timeZone": "America/Los_Angeles"}}),
	}
	data, err := EventsToICS(evs, "", testStamp)
	if err != nil {
		t.Fatal(err)
	}
	cal := decodeICS(t, data)
	var uids []string
	for _, e := range cal.Events() {
		uids = append(uids, text(t, e, ical.PropUID))
	}
	if strings.Join(uids, " ") != "only-id uid-b uid-c" {
		t.Errorf("UIDs %q", uids)
	}
	if n := bytes.Count(data, []byte("BEGIN:VTIMEZONE")); n != 1 {
		t.Errorf("%d VTIMEZONEs, want one shared by both Los Angeles events", n)
	}
	if !bytes.Contains(data, []byte("DTSTART:20260308T020000")) {
		t.Error("VTIMEZONE does not reach the year after the last event")
	}
	if cal.Props.Get("X-WR-CALNAME") != nil {
		t.Error("X-WR-CALNAME without a name")
	}

	empty, err := EventsToICS(nil, "Empty", testStamp)
	if err != nil {
		t.Fatal(err)
	}
	if len(decodeICS(t, empty).Events()) != 0 {
		t.Error("events in an empty calendar")
	}
	for _, bad := range []string{`{"subject":1}`, `{"subject":"no start"}`, `{"start":{"dateTime":"yesterday"}}`, `[`} {
		if _, err := EventsToICS([][]byte{[]byte(bad)}, "x", testStamp); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzEventsToICS(f *testing.F) {
	f.Add([]byte(`{"subject":"x","start":{"dateTime":"2024-03-04T09:00:00","timeZone":"W. Europe Standard Time"},"end":{"dateTime":"2024-03-04T10:00:00","timeZone":"UTC"},
		"recurrence":{"pattern":{"type":"relativeYearly","interval":3,"month":13,"daysOfWeek":["friday","x"],"index":"last"},"range":{"type":"numbered","numberOfOccurrences":99999}}}`))
	f.Add([]byte(`{"isAllDay":true,"start":{"dateTime":"0001-01-01T00:00:00","timeZone":"Local"},"attendees":[{"emailAddress":{"name":"\"q\";:","address":"a b@c"}}]}`))
	f.Add([]byte(`{"start":{"dateTime":"9999-12-31T23:59:59Z","timeZone":"../../etc/passwd"},"recurrence":{"pattern":{"type":"daily"},"range":{"type":"endDate","endDate":"10000-01-01"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := EventsToICS([][]byte{data}, "fuzz", testStamp)
		if err != nil {
			return
		}
		physicalLines(t, out)
		if _, err := ical.NewDecoder(bytes.NewReader(out)).Decode(); err != nil {
			t.Fatalf("go-ical cannot read the calendar: %v\n%s", err, out)
		}
	})
}

var testStamp = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
