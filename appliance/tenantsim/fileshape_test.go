package tenantsim_test

import (
	"context"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKFileHashes guards file.hashes as OneDrive for Business sends
// them: every file of a drive delta carries a quickXorHash (and the
// SHA-256) of exactly the content the ground truth holds.
func TestSimSDKFileHashes(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	truth, err := s.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	current := map[string][]byte{}
	for _, it := range truth.Items {
		if !it.Folder {
			current[it.ID] = it.Versions[len(it.Versions)-1].Content
		}
	}
	resp, err := c.Drives().ByDriveId(truth.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := msgraphcore.NewPageIterator[models.DriveItemable](resp, c.GetAdapter(), drives.CreateItemItemsItemDeltaGetResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = pages.Iterate(ctx, func(di models.DriveItemable) bool {
		if di.GetFile() == nil {
			return true
		}
		files++
		h := di.GetFile().GetHashes()
		want, ok := current[*di.GetId()]
		switch {
		case !ok:
			t.Errorf("delta file %s is not in the ground truth", *di.GetName())
		case h == nil || h.GetQuickXorHash() == nil:
			t.Errorf("file %s has no quickXorHash", *di.GetName())
		case *h.GetQuickXorHash() != tenantsim.QuickXorHash(want):
			t.Errorf("file %s: quickXorHash %s, content hashes to %s", *di.GetName(), *h.GetQuickXorHash(), tenantsim.QuickXorHash(want))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != len(current) {
		t.Errorf("delta saw %d files, ground truth has %d", files, len(current))
	}
}

// TestSimSDKCreatedAndModifiedBy guards the identities on drive items and
// versions: generated OneDrive content is the owner's, library content a
// site member's, an app-only upload the restore app's (with SharePoint's
// "SharePoint App" user), and the ransomware version the owner's, as an
// attacker syncing through the user's client would leave it.
func TestSimSDKCreatedAndModifiedBy(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	_, f := firstFile(t, s, u)
	d, _ := s.DumpDrive(u.ID)
	userOf := func(is models.IdentitySetable) string {
		if is == nil || is.GetUser() == nil || is.GetUser().GetId() == nil {
			return ""
		}
		return *is.GetUser().GetId()
	}
	item := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(f.ID)
	di, err := item.Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if userOf(di.GetCreatedBy()) != u.ID || userOf(di.GetLastModifiedBy()) != u.ID {
		t.Errorf("OneDrive file createdBy %q lastModifiedBy %q, want the owner %s", userOf(di.GetCreatedBy()), userOf(di.GetLastModifiedBy()), u.ID)
	}
	if _, err := s.Apply(tenantsim.Scenario{Name: "ransomware", User: u.ID}); err != nil {
		t.Fatal(err)
	}
	vs, err := item.Versions().Get(ctx, nil)
	if err != nil || len(vs.GetValue()) != len(f.Versions)+1 {
		t.Fatalf("versions after ransomware: %v", err)
	}
	for _, v := range vs.GetValue() {
		if userOf(v.GetLastModifiedBy()) != u.ID {
			t.Errorf("version %s lastModifiedBy %q, want the owner", *v.GetId(), userOf(v.GetLastModifiedBy()))
		}
	}

	// A site library: authors are members of the site's group.
	sites, err := c.Sites().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	site := *sites.GetValue()[0].GetId()
	libs, err := c.Sites().BySiteId(site).Drives().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := c.Groups().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	members, err := c.Groups().ByGroupId(*groups.GetValue()[0].GetId()).Members().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	isMember := map[string]bool{}
	for _, m := range members.GetValue() {
		isMember[*m.GetId()] = true
	}
	kids, err := c.Drives().ByDriveId(*libs.GetValue()[0].GetId()).Items().ByDriveItemId("root").Children().Get(ctx, nil)
	if err != nil || len(kids.GetValue()) == 0 {
		t.Fatalf("library children: %v", err)
	}
	for _, k := range kids.GetValue() {
		if !isMember[userOf(k.GetCreatedBy())] || !isMember[userOf(k.GetLastModifiedBy())] {
			t.Errorf("library item %s by %q/%q, want members of the site's group", *k.GetName(), userOf(k.GetCreatedBy()), userOf(k.GetLastModifiedBy()))
		}
	}

	// An app-only upload.
	status, _, body := call(t, httpClient(t, s), "PUT", s.BaseURL()+"/drives/"+d.DriveID+"/items/root:/restored.txt:/content", accessToken(t, s, s.RestoreApp()), "text/plain", "restored")
	if status != 201 {
		t.Fatalf("upload: %d %s", status, body)
	}
	up, err := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root").Children().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range up.GetValue() {
		if *k.GetName() != "restored.txt" {
			continue
		}
		found = true
		for _, is := range []models.IdentitySetable{k.GetCreatedBy(), k.GetLastModifiedBy()} {
			app := is.GetApplication()
			if app == nil || *app.GetId() != s.RestoreApp().ClientID || *app.GetDisplayName() != s.RestoreApp().Name || *is.GetUser().GetDisplayName() != "SharePoint App" {
				t.Errorf("uploaded file identity %+v, want the restore app", is)
			}
		}
	}
	if !found {
		t.Error("uploaded file not listed")
	}
}

// TestSimSDKDriveDeltaODataType guards that every drive delta entry,
// deleted ones included, carries @odata.type #microsoft.graph.driveItem.
func TestSimSDKDriveDeltaODataType(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, _ := s.DumpDrive(u.ID)
	root := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root")
	resp, err := root.Delta().GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := msgraphcore.NewPageIterator[models.DriveItemable](resp, c.GetAdapter(), drives.CreateItemItemsItemDeltaGetResponseFromDiscriminatorValue)
	check := func(di models.DriveItemable) bool {
		if di.GetOdataType() == nil || *di.GetOdataType() != "#microsoft.graph.driveItem" {
			t.Errorf("delta item %s: @odata.type %v", *di.GetId(), di.GetOdataType())
		}
		return true
	}
	if err := pages.Iterate(ctx, check); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(tenantsim.Scenario{Name: "delete-files", User: u.ID, Count: 2}); err != nil {
		t.Fatal(err)
	}
	next, err := root.Delta().WithUrl(*pages.GetOdataDeltaLink()).GetAsDeltaGetResponse(ctx, nil)
	if err != nil || len(next.GetValue()) != 2 {
		t.Fatalf("delta after delete-files: %v", err)
	}
	for _, di := range next.GetValue() {
		if di.GetDeleted() == nil {
			t.Errorf("item %s not deleted", *di.GetId())
		}
		check(di)
	}
}
