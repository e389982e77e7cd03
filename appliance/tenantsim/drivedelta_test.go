package tenantsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"

	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// driveDeltaAll pages a drive delta through the SDK from link (a fresh
// enumeration when empty) and returns the item ids and the delta link,
// or the error of the first request.
func driveDeltaAll(t *testing.T, c *msgraphsdk.GraphServiceClient, did, link string) ([]string, string, error) {
	t.Helper()
	ctx := context.Background()
	b := c.Drives().ByDriveId(did).Items().ByDriveItemId("root").Delta()
	if link != "" {
		b = b.WithUrl(link)
	}
	resp, err := b.GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	pages, err := msgraphcore.NewPageIterator[models.DriveItemable](resp, c.GetAdapter(), drives.CreateItemItemsItemDeltaGetResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := pages.Iterate(ctx, func(di models.DriveItemable) bool { ids = append(ids, *di.GetId()); return true }); err != nil {
		t.Fatal(err)
	}
	if pages.GetOdataDeltaLink() == nil {
		t.Fatal("delta ended without a delta link")
	}
	return ids, *pages.GetOdataDeltaLink(), nil
}

// TestSimSDKDriveDeltaLatest guards token=latest, in the path and in the
// query: an empty page with a delta link from which only later changes
// come back.
func TestSimSDKDriveDeltaLatest(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, _ := s.DumpDrive(u.ID)
	latest := "latest"
	resp, err := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root").DeltaWithToken(&latest).GetAsDeltaWithTokenGetResponse(ctx, nil)
	if err != nil || len(resp.GetValue()) != 0 || resp.GetOdataDeltaLink() == nil || resp.GetOdataNextLink() != nil {
		t.Fatalf("delta(token='latest'): %v; want an empty page with only a delta link", err)
	}
	status, _, body := call(t, httpClient(t, s), "GET", s.BaseURL()+"/drives/"+d.DriveID+"/root/delta?token=latest", accessToken(t, s, s.BackupApp()), "", "")
	var page struct {
		Value     []json.RawMessage `json:"value"`
		DeltaLink string            `json:"@odata.deltaLink"`
	}
	if status != 200 || json.Unmarshal(body, &page) != nil || len(page.Value) != 0 || page.DeltaLink == "" {
		t.Fatalf("?token=latest: %d %s", status, body)
	}
	res, err := s.Apply(tenantsim.Scenario{Name: "delete-files", User: u.ID, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{*resp.GetOdataDeltaLink(), page.DeltaLink} {
		ids, _, err := driveDeltaAll(t, c, d.DriveID, link)
		if err != nil || !slices.Equal(ids, res.IDs) {
			t.Errorf("delta from latest: %v %v, want just %v", err, ids, res.IDs)
		}
	}
}

// TestSimSDKDriveDeltaResync guards the 410 of drive delta: after
// expire-delta-tokens a delta link answers 410 with the code the scenario
// reported for the drive (resyncChangesApplyDifferences or
// resyncChangesUploadDifferences) and a Location that enumerates the
// whole drive again and ends with a working delta link. The choice is
// the same for the same seed, and both codes occur.
func TestSimSDKDriveDeltaResync(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	d, _ := s.DumpDrive(u.ID)
	full, link, err := driveDeltaAll(t, c, d.DriveID, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Apply(tenantsim.Scenario{Name: "expire-delta-tokens"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = driveDeltaAll(t, c, d.DriveID, link)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 410 {
		t.Fatalf("voided delta link: %v, want 410", err)
	}
	if code := *oe.GetErrorEscaped().GetCode(); code != res.Resync[d.DriveID] || (code != "resyncChangesApplyDifferences" && code != "resyncChangesUploadDifferences") {
		t.Errorf("410 code %s, scenario reported %q", code, res.Resync[d.DriveID])
	}
	loc := oe.GetResponseHeaders().Get("Location")
	if len(loc) != 1 {
		t.Fatalf("410 Location %v", loc)
	}
	again, next, err := driveDeltaAll(t, c, d.DriveID, loc[0])
	slices.Sort(full)
	slices.Sort(again)
	if err != nil || !slices.Equal(again, full) {
		t.Errorf("enumeration from Location: %v, %d items, want the %d of the first", err, len(again), len(full))
	}
	del, err := s.Apply(tenantsim.Scenario{Name: "delete-files", User: u.ID, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ids, _, err := driveDeltaAll(t, c, d.DriveID, next); err != nil || !slices.Equal(ids, del.IDs) {
		t.Errorf("delta after the resync: %v %v, want %v", err, ids, del.IDs)
	}
	if lu, _ := url.Parse(loc[0]); lu.Query().Get("$skiptoken") == "" {
		t.Errorf("Location %s: want a fresh enumeration link", loc[0])
	}

	// Deterministic by seed; both codes occur over the drives and
	// successive expiries. The other simulator catches up on the expiry
	// above first.
	other := tenantsim.NewTest(t, testConfig())
	if b, _ := other.Apply(tenantsim.Scenario{Name: "expire-delta-tokens"}); b.Resync[d.DriveID] != res.Resync[d.DriveID] {
		t.Errorf("first expiry: %s, then %s with the same seed", res.Resync[d.DriveID], b.Resync[d.DriveID])
	}
	codes := map[string]bool{}
	for range 2 {
		a, _ := s.Apply(tenantsim.Scenario{Name: "expire-delta-tokens"})
		b, _ := other.Apply(tenantsim.Scenario{Name: "expire-delta-tokens"})
		for id, code := range a.Resync {
			codes[code] = true
			if b.Resync[id] != code {
				t.Errorf("drive %s: %s in one simulator, %s in another with the same seed", id, code, b.Resync[id])
			}
		}
	}
	if len(codes) != 2 {
		t.Errorf("codes seen %v, want both", codes)
	}
}
