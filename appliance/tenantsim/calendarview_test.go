package tenantsim_test

import (
	"context"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimCalendarViewDelta guards calendarView delta as Graph v1.0 serves
// it: the window is required; a round gives occurrences (with their series
// master's id), never masters; after one occurrence is changed and another
// deleted, the delta link gives the first as an exception and the second
// as @removed, and /instances no longer lists it.
func TestSimCalendarViewDelta(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	rc := sdkClient(t, s, s.RestoreApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	view := c.Users().ByUserId(u.ID).CalendarView().Delta()
	if _, err := view.GetAsDeltaGetResponse(ctx, nil); err == nil {
		t.Error("calendarView delta without a window answered, want 400 as Graph")
	}
	round := func(first bool, link string) ([]models.Eventable, string) {
		t.Helper()
		var resp users.ItemCalendarViewDeltaGetResponseable
		var err error
		if first {
			resp, err = view.GetAsDeltaGetResponse(ctx, &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{
					StartDateTime: ptr("2024-12-01T00:00:00Z"), EndDateTime: ptr("2026-12-01T00:00:00Z")}})
		} else {
			resp, err = view.WithUrl(link).GetAsDeltaGetResponse(ctx, nil)
		}
		if err != nil {
			t.Fatalf("calendarView delta: %v", err)
		}
		it, err := msgraphcore.NewPageIterator[models.Eventable](resp, c.GetAdapter(), users.CreateItemCalendarViewDeltaGetResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		var out []models.Eventable
		if err := it.Iterate(ctx, func(e models.Eventable) bool { out = append(out, e); return true }); err != nil {
			t.Fatalf("iterate: %v", err)
		}
		if it.GetOdataDeltaLink() == nil {
			t.Fatal("round ends without a delta link")
		}
		return out, *it.GetOdataDeltaLink()
	}
	events, link := round(true, "")
	var occ []models.Eventable
	master := ""
	for _, e := range events {
		if tp := e.GetTypeEscaped(); tp != nil && *tp == models.SERIESMASTER_EVENTTYPE {
			t.Fatalf("calendarView delta served the series master %s", *e.GetId())
		}
		if e.GetSeriesMasterId() != nil && (master == "" || *e.GetSeriesMasterId() == master) {
			master = *e.GetSeriesMasterId()
			occ = append(occ, e)
		}
	}
	if len(occ) < 3 {
		t.Fatalf("%d occurrences of a series in the view, want a series", len(occ))
	}
	changed, deleted := *occ[1].GetId(), *occ[2].GetId()
	patch := models.NewEvent()
	patch.SetSubject(ptr("Verschoben"))
	ub := rc.Users().ByUserId(u.ID)
	if _, err := ub.Events().ByEventId(changed).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("change occurrence: %v", err)
	}
	if err := ub.Events().ByEventId(deleted).Delete(ctx, nil); err != nil {
		t.Fatalf("delete occurrence: %v", err)
	}

	events, _ = round(false, link)
	var sawChanged, sawRemoved bool
	for _, e := range events {
		switch *e.GetId() {
		case changed:
			sawChanged = e.GetTypeEscaped() != nil && *e.GetTypeEscaped() == models.EXCEPTION_EVENTTYPE && *e.GetSubject() == "Verschoben"
		case deleted:
			sawRemoved = e.GetAdditionalData()["@removed"] != nil
		}
	}
	if !sawChanged || !sawRemoved {
		t.Errorf("after the changes the delta gave the changed occurrence as an exception: %v, the deleted one as @removed: %v", sawChanged, sawRemoved)
	}
	inst, err := c.Users().ByUserId(u.ID).Events().ByEventId(master).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{
			StartDateTime: ptr("2024-12-01T00:00:00Z"), EndDateTime: ptr("2026-12-01T00:00:00Z"), Top: ptr(int32(999))}})
	if err != nil {
		t.Fatalf("instances: %v", err)
	}
	if len(inst.GetValue()) != len(occ)-1 {
		t.Errorf("%d instances after a deletion, want %d", len(inst.GetValue()), len(occ)-1)
	}
}
