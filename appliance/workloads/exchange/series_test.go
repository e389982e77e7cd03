package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/strongroom/strongroom/appliance/export"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// The series of these tests: every Monday at 09:00 UTC from 5 January to
// 30 March 2026 (13 occurrences); the one of 19 January is moved to 11:00
// and renamed, the one of 2 February is deleted.
var (
	seriesStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	movedFrom   = time.Date(2026, 1, 19, 9, 0, 0, 0, time.UTC)
	movedTo     = time.Date(2026, 1, 19, 11, 0, 0, 0, time.UTC)
	cancelledAt = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
)

const movedSubject = "Jour fixe – verschoben"

func graphDT(t time.Time) models.DateTimeTimeZoneable {
	d := models.NewDateTimeTimeZone()
	d.SetDateTime(ptr(t.Format("2006-01-02T15:04:05.0000000")))
	d.SetTimeZone(ptr("UTC"))
	return d
}

// createSeries creates the weekly series through the SDK and returns its
// id.
func createSeries(t *testing.T, e *env) string {
	t.Helper()
	ev := models.NewEvent()
	ev.SetSubject(ptr("Jour fixe"))
	ev.SetStart(graphDT(seriesStart))
	ev.SetEnd(graphDT(seriesStart.Add(30 * time.Minute)))
	pat := models.NewRecurrencePattern()
	pat.SetTypeEscaped(ptr(models.WEEKLY_RECURRENCEPATTERNTYPE))
	pat.SetInterval(ptr(int32(1)))
	pat.SetDaysOfWeek([]models.DayOfWeek{models.MONDAY_DAYOFWEEK})
	pat.SetFirstDayOfWeek(ptr(models.MONDAY_DAYOFWEEK))
	rng := models.NewRecurrenceRange()
	rng.SetTypeEscaped(ptr(models.ENDDATE_RECURRENCERANGETYPE))
	rng.SetStartDate(serialization.NewDateOnly(seriesStart))
	rng.SetEndDate(serialization.NewDateOnly(time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)))
	rng.SetRecurrenceTimeZone(ptr("UTC"))
	rec := models.NewPatternedRecurrence()
	rec.SetPattern(pat)
	rec.SetRangeEscaped(rng)
	ev.SetRecurrence(rec)
	got, err := e.restore.SDK.Users().ByUserId(e.user.ID).Events().Post(context.Background(), ev, nil)
	if err != nil {
		t.Fatalf("create series: %v", err)
	}
	return *got.GetId()
}

// instances lists a series' occurrences and exceptions through the SDK,
// by original start.
func instances(t *testing.T, e *env, userID, masterID string) map[time.Time]models.Eventable {
	t.Helper()
	resp, err := e.restore.SDK.Users().ByUserId(userID).Events().ByEventId(masterID).Instances().Get(context.Background(),
		&users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{
			StartDateTime: ptr("2026-01-01T00:00:00Z"), EndDateTime: ptr("2026-04-01T00:00:00Z"), Top: ptr(int32(100))}})
	if err != nil {
		t.Fatalf("instances: %v", err)
	}
	out := map[time.Time]models.Eventable{}
	for _, in := range resp.GetValue() {
		if in.GetOriginalStart() == nil || in.GetSeriesMasterId() == nil || *in.GetSeriesMasterId() != masterID {
			t.Fatalf("instance %s lacks its original start or series master", *in.GetId())
		}
		out[in.GetOriginalStart().UTC()] = in
	}
	return out
}

// changeSeries moves one occurrence and deletes another, through the SDK
// as a user's client would.
func changeSeries(t *testing.T, e *env, masterID string) {
	t.Helper()
	ctx := context.Background()
	occ := instances(t, e, e.user.ID, masterID)
	if len(occ) != 13 || occ[movedFrom] == nil || occ[cancelledAt] == nil {
		t.Fatalf("series has %d occurrences, want 13 with %s and %s", len(occ), movedFrom, cancelledAt)
	}
	patch := models.NewEvent()
	patch.SetSubject(ptr(movedSubject))
	patch.SetStart(graphDT(movedTo))
	patch.SetEnd(graphDT(movedTo.Add(30 * time.Minute)))
	ub := e.restore.SDK.Users().ByUserId(e.user.ID)
	if _, err := ub.Events().ByEventId(*occ[movedFrom].GetId()).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("move occurrence: %v", err)
	}
	if err := ub.Events().ByEventId(*occ[cancelledAt].GetId()).Delete(ctx, nil); err != nil {
		t.Fatalf("delete occurrence: %v", err)
	}
}

// storedSeries returns the stored item and JSON of the event masterID.
func storedSeries(t *testing.T, e *env, s vault.Snapshot, masterID string) (vault.Item, map[string]json.RawMessage) {
	t.Helper()
	for _, it := range e.items(&s) {
		if it.Meta["kind"] == "event" && it.Meta["item_id"] == masterID {
			b, err := e.read(it)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("stored series: %v", err)
			}
			return it, m
		}
	}
	t.Fatalf("series %s not in the snapshot", masterID)
	return vault.Item{}, nil
}

// checkStoredSeries asserts the stored master keeps its recurrence, the
// moved occurrence and the deleted one.
func checkStoredSeries(t *testing.T, name string, m map[string]json.RawMessage) {
	t.Helper()
	var typ string
	_ = json.Unmarshal(m["type"], &typ)
	if typ != "seriesMaster" || !strings.Contains(string(m["recurrence"]), `"weekly"`) {
		t.Errorf("%s: stored master is %q with recurrence %s, want a weekly seriesMaster", name, typ, m["recurrence"])
	}
	var ex []struct {
		Type, Subject, OriginalStart string
	}
	if err := json.Unmarshal(m[export.AnnotationExceptions], &ex); err != nil || len(ex) != 1 {
		t.Fatalf("%s: exceptions %s (%v), want the moved occurrence", name, m[export.AnnotationExceptions], err)
	}
	if ex[0].Type != "exception" || ex[0].Subject != movedSubject || ex[0].OriginalStart != movedFrom.Format(time.RFC3339) {
		t.Errorf("%s: exception %+v, want %q originally at %s", name, ex[0], movedSubject, movedFrom)
	}
	var cancelled []string
	_ = json.Unmarshal(m[export.AnnotationCancelled], &cancelled)
	if !slices.Equal(cancelled, []string{cancelledAt.Format(time.RFC3339)}) {
		t.Errorf("%s: cancelled occurrences %v, want [%s]", name, cancelled, cancelledAt.Format(time.RFC3339))
	}
}

// TestBackupMailboxRecurringSeries guards calendars as Graph v1.0 serves
// them (masters under /events, their exceptions only under /instances, a
// deleted occurrence simply absent): a full and an incremental backup keep
// the master's recurrence, its exception and its deleted occurrence, the
// ICS export carries them as RRULE, RECURRENCE-ID and EXDATE, and a
// restore creates the series with the same changes.
func TestBackupMailboxRecurringSeries(t *testing.T) {
	e := newEnv(t)
	opts := exchange.Options{IncludeCalendars: true}
	master := createSeries(t, e)
	_, s1 := e.run(nil, opts)
	_, m := storedSeries(t, e, s1, master)
	if m[export.AnnotationExceptions] != nil || m[export.AnnotationCancelled] != nil || m["recurrence"] == nil {
		t.Fatalf("unchanged series stored with exceptions %s, cancelled %s, recurrence %s", m[export.AnnotationExceptions], m[export.AnnotationCancelled], m["recurrence"])
	}

	changeSeries(t, e, master)
	_, s2 := e.run(&s1, opts)
	_, m = storedSeries(t, e, s2, master)
	checkStoredSeries(t, "incremental", m)
	_, s3 := e.run(nil, opts)
	it, m := storedSeries(t, e, s3, master)
	checkStoredSeries(t, "full", m)

	raw, err := e.read(it)
	if err != nil {
		t.Fatal(err)
	}
	ics, err := export.EventsToICS([][]byte{raw}, "Calendar", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	checkSeriesICS(t, ics)

	res, err := exchange.RestoreItems(context.Background(), e.restore, e.read, []vault.Item{it},
		workloads.RestoreOptions{TargetUserID: e.user.ID, TargetFolder: "Restored"})
	if err != nil || res.Restored != 1 || res.Failed != 0 {
		t.Fatalf("restore: %+v, %v; want the series restored", res, err)
	}
	checkRestoredSeries(t, e, master)
}

// checkRestoredSeries finds the restored copy of the series (the other
// master of its subject) and checks its occurrences.
func checkRestoredSeries(t *testing.T, e *env, original string) {
	t.Helper()
	ub := e.restore.SDK.Users().ByUserId(e.user.ID)
	cals, err := ub.Calendars().Get(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	copyID := ""
	for _, cal := range cals.GetValue() {
		resp, err := ub.Calendars().ByCalendarId(*cal.GetId()).Events().Get(context.Background(),
			&users.ItemCalendarsItemEventsRequestBuilderGetRequestConfiguration{QueryParameters: &users.ItemCalendarsItemEventsRequestBuilderGetQueryParameters{Top: ptr(int32(999))}})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range resp.GetValue() {
			if ev.GetSubject() != nil && *ev.GetSubject() == "Jour fixe" && *ev.GetId() != original {
				copyID = *ev.GetId()
			}
		}
	}
	if copyID == "" {
		t.Fatal("restored series not found")
	}
	occ := instances(t, e, e.user.ID, copyID)
	moved := occ[movedFrom]
	if len(occ) != 12 || occ[cancelledAt] != nil || moved == nil {
		t.Fatalf("restored series has %d occurrences (deleted one present: %v), want 12 with the moved one", len(occ), occ[cancelledAt] != nil)
	}
	if moved.GetTypeEscaped() == nil || *moved.GetTypeEscaped() != models.EXCEPTION_EVENTTYPE || *moved.GetSubject() != movedSubject ||
		!strings.HasPrefix(*moved.GetStart().GetDateTime(), "2026-01-19T11:00") {
		t.Errorf("restored moved occurrence: %q at %s, want the exception %q at 11:00", *moved.GetSubject(), *moved.GetStart().GetDateTime(), movedSubject)
	}
}

// icsLine is one unfolded content line: NAME *(";" param) ":" value.
var icsLine = regexp.MustCompile(`^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)*):(.*)$`)

// parseICS parses an iCalendar object strictly (CRLF only, folding, every
// line well formed, components balanced) and returns its VEVENTs as
// property name -> "params:value" lists.
func parseICS(t *testing.T, b []byte) []map[string][]string {
	t.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\r") {
		t.Fatalf("ICS lines not all ended by CRLF")
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n ", ""), "\r\n\t", "")
	var stack []string
	var events []map[string][]string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		p := icsLine.FindStringSubmatch(line)
		if p == nil {
			t.Fatalf("malformed ICS line %q", line)
		}
		name, params, value := strings.ToUpper(p[1]), p[2], p[3]
		switch name {
		case "BEGIN":
			stack = append(stack, value)
			if value == "VEVENT" {
				events = append(events, map[string][]string{})
			}
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				t.Fatalf("END:%s does not close %v", value, stack)
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				t.Fatalf("property %s outside any component", name)
			}
			if stack[len(stack)-1] == "VEVENT" {
				ev := events[len(events)-1]
				ev[name] = append(ev[name], params+":"+value)
			}
		}
	}
	if len(stack) != 0 || len(b) == 0 || !strings.HasPrefix(string(b), "BEGIN:VCALENDAR\r\n") {
		t.Fatalf("ICS not one balanced VCALENDAR (open: %v)", stack)
	}
	return events
}

// checkSeriesICS asserts the exported series: the master with its RRULE
// and the deleted occurrence as EXDATE, the moved occurrence as a VEVENT
// of the same UID with its RECURRENCE-ID.
func checkSeriesICS(t *testing.T, ics []byte) {
	t.Helper()
	events := parseICS(t, ics)
	if len(events) != 2 {
		t.Fatalf("ICS has %d VEVENTs, want the master and its exception:\n%s", len(events), ics)
	}
	master, ex := events[0], events[1]
	if master["RECURRENCE-ID"] != nil {
		master, ex = ex, master
	}
	if len(master["RRULE"]) != 1 || !strings.Contains(master["RRULE"][0], "FREQ=WEEKLY") || !strings.Contains(master["RRULE"][0], "BYDAY=MO") {
		t.Errorf("master RRULE %v, want weekly on Mondays", master["RRULE"])
	}
	if !slices.Equal(master["EXDATE"], []string{":20260202T090000Z"}) {
		t.Errorf("master EXDATE %v, want [:20260202T090000Z]", master["EXDATE"])
	}
	if !slices.Equal(ex["RECURRENCE-ID"], []string{":20260119T090000Z"}) || !slices.Equal(ex["DTSTART"], []string{":20260119T110000Z"}) ||
		!slices.Equal(ex["SUMMARY"], []string{":" + movedSubject}) || ex["RRULE"] != nil {
		t.Errorf("exception RECURRENCE-ID %v DTSTART %v SUMMARY %v RRULE %v, want the moved occurrence", ex["RECURRENCE-ID"], ex["DTSTART"], ex["SUMMARY"], ex["RRULE"])
	}
	if master["UID"] == nil || !slices.Equal(master["UID"], ex["UID"]) {
		t.Errorf("UIDs %v and %v, want the series' one on both", master["UID"], ex["UID"])
	}
	checkSeriesRecurrenceSet(t, ics)
}

// checkSeriesRecurrenceSet expands the exported master with another
// reader (go-ical, rrule-go): twelve occurrences, none on 2 February.
func checkSeriesRecurrenceSet(t *testing.T, ics []byte) {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(ics)).Decode()
	if err != nil {
		t.Fatalf("go-ical: %v", err)
	}
	for _, ev := range cal.Events() {
		if ev.Props.Get(ical.PropRecurrenceID) != nil {
			continue
		}
		set, err := ev.RecurrenceSet(time.UTC)
		if err != nil || set == nil {
			t.Fatalf("recurrence set: %v", err)
		}
		occ := set.Between(seriesStart.AddDate(0, 0, -1), seriesStart.AddDate(0, 3, 0), true)
		if len(occ) != 12 || slices.ContainsFunc(occ, func(o time.Time) bool { return o.Equal(cancelledAt) }) {
			t.Errorf("go-ical expands the series to %d occurrences %v, want 12 without %s", len(occ), occ, cancelledAt)
		}
		return
	}
	t.Error("go-ical finds no series master")
}
func ptr[T any](v T) *T { return &v }
