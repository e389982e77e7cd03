package tenantsim_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKDriveDeltaAndContent guards OneDrive backup through the SDK:
// drive delta lists every item of the ground truth, file content and
// version counts match it, and after the ransomware scenario the next
// delta (by delta link and by delta(token=...)) returns exactly the
// encrypted files, each with one more version.
func TestSimSDKDriveDeltaAndContent(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, err := c.Users().ByUserId(u.ID).Drive().Get(ctx, nil)
	if err != nil {
		t.Fatalf("get drive: %v", err)
	}
	did := *d.GetId()
	truth, err := s.DumpDrive(did)
	if err != nil {
		t.Fatal(err)
	}
	round := func(link string) (files []string, next string) {
		b := c.Drives().ByDriveId(did).Items().ByDriveItemId("root").Delta()
		if link != "" {
			b = b.WithUrl(link)
		}
		resp, err := b.GetAsDeltaGetResponse(ctx, nil)
		if err != nil {
			t.Fatalf("drive delta: %v", err)
		}
		it, err := msgraphcore.NewPageIterator[models.DriveItemable](resp, c.GetAdapter(), drives.CreateItemItemsItemDeltaGetResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Iterate(ctx, func(di models.DriveItemable) bool {
			if di.GetFile() != nil {
				files = append(files, *di.GetId())
				if di.GetParentReference() == nil || *di.GetParentReference().GetDriveId() != did {
					t.Errorf("file %s lacks its parent reference", *di.GetName())
				}
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return files, *it.GetOdataDeltaLink()
	}
	files, link := round("")
	var want []string
	for _, it := range truth.Items {
		if !it.Folder {
			want = append(want, it.ID)
		}
	}
	slices.Sort(files)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Fatalf("delta saw %d files, ground truth has %d", len(files), len(want))
	}
	for _, it := range truth.Items[:8] {
		if it.Folder {
			continue
		}
		got, err := c.Drives().ByDriveId(did).Items().ByDriveItemId(it.ID).Content().Get(ctx, nil)
		if err != nil || !bytes.Equal(got, it.Versions[len(it.Versions)-1].Content) {
			t.Errorf("content of %s differs from ground truth (err %v)", it.Path, err)
		}
		vs, err := c.Drives().ByDriveId(did).Items().ByDriveItemId(it.ID).Versions().Get(ctx, nil)
		if err != nil || len(vs.GetValue()) != len(it.Versions) {
			t.Errorf("versions of %s: %v, want %d", it.Path, err, len(it.Versions))
		}
	}

	res, err := s.Apply(tenantsim.Scenario{Name: "ransomware", User: u.UPN})
	if err != nil {
		t.Fatal(err)
	}
	lu, _ := url.Parse(link)
	token := lu.Query().Get("$deltatoken")
	changed, _ := round(link)
	slices.Sort(changed)
	ids := slices.Clone(res.IDs)
	slices.Sort(ids)
	if !slices.Equal(changed, ids) || len(ids) != len(want) {
		t.Errorf("delta after ransomware: %d changed, scenario touched %d of %d files", len(changed), len(ids), len(want))
	}
	byToken, err := c.Drives().ByDriveId(did).Items().ByDriveItemId("root").DeltaWithToken(&token).GetAsDeltaWithTokenGetResponse(ctx, nil)
	if err != nil || len(byToken.GetValue()) == 0 {
		t.Errorf("delta(token='...'): %v, %d items", err, len(byToken.GetValue()))
	}
	after, _ := s.DumpDrive(did)
	for i, it := range after.Items {
		if !it.Folder && len(it.Versions) != len(truth.Items[i].Versions)+1 {
			t.Errorf("%s has %d versions after ransomware, want %d", it.Path, len(it.Versions), len(truth.Items[i].Versions)+1)
		}
	}
}

// TestSimSDKSitesListsTeams guards the SharePoint, group and Teams shapes
// through the SDK, and that delete-library makes a library vanish.
func TestSimSDKSitesListsTeams(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	sites, err := c.Sites().Get(ctx, nil)
	if err != nil || len(sites.GetValue()) != 2 {
		t.Fatalf("sites: %v", err)
	}
	site := sites.GetValue()[0]
	libs, err := c.Sites().BySiteId(*site.GetId()).Drives().Get(ctx, nil)
	if err != nil || len(libs.GetValue()) != 1 || *libs.GetValue()[0].GetDriveType() != "documentLibrary" {
		t.Fatalf("site drives: %v", err)
	}
	lists, err := c.Sites().BySiteId(*site.GetId()).Lists().Get(ctx, nil)
	if err != nil || len(lists.GetValue()) == 0 {
		t.Fatalf("lists: %v", err)
	}
	items, err := c.Sites().BySiteId(*site.GetId()).Lists().ByListId(*lists.GetValue()[0].GetId()).Items().Get(ctx, nil)
	if err != nil || len(items.GetValue()) == 0 || items.GetValue()[0].GetFields().GetAdditionalData()["Title"] == nil {
		t.Fatalf("list items: %v", err)
	}
	groups, err := c.Groups().Get(ctx, nil)
	// A group per site and the archived team, which has no site.
	if err != nil || len(groups.GetValue()) != 3 {
		t.Fatalf("groups: %v", err)
	}
	team := groups.GetValue()[0]
	members, err := c.Groups().ByGroupId(*team.GetId()).Members().Get(ctx, nil)
	if err != nil || len(members.GetValue()) == 0 {
		t.Fatalf("members: %v", err)
	}
	if _, ok := members.GetValue()[0].(models.Userable); !ok {
		t.Errorf("member parsed as %T, want a user", members.GetValue()[0])
	}
	chans, err := c.Teams().ByTeamId(*team.GetId()).Channels().Get(ctx, nil)
	// Two standard channels, a private and a shared one.
	if err != nil || len(chans.GetValue()) != 4 {
		t.Fatalf("channels: %v", err)
	}
	replies := 0
	for _, ch := range chans.GetValue() {
		msgs, err := c.Teams().ByTeamId(*team.GetId()).Channels().ByChannelId(*ch.GetId()).Messages().Get(ctx, nil)
		if err != nil || len(msgs.GetValue()) == 0 {
			t.Fatalf("channel messages: %v", err)
		}
		for _, m := range msgs.GetValue() {
			r, err := c.Teams().ByTeamId(*team.GetId()).Channels().ByChannelId(*ch.GetId()).Messages().ByChatMessageId(*m.GetId()).Replies().Get(ctx, nil)
			if err != nil {
				t.Fatalf("replies: %v", err)
			}
			replies += len(r.GetValue())
		}
	}
	if replies == 0 {
		t.Error("no channel message has replies")
	}

	libID := *libs.GetValue()[0].GetId()
	if _, err := s.Apply(tenantsim.Scenario{Name: "delete-library", Site: *site.GetDisplayName()}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Drives().ByDriveId(libID).Get(ctx, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 404 {
		t.Errorf("deleted library: err %v, want 404", err)
	}
}

// TestSimUploadFile guards the simple upload restore path: a new file and
// a new version of an existing one, both visible in the ground truth.
func TestSimUploadFile(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.RestoreApp())
	u := firstMailbox(t, s)
	truth, _ := s.DumpDrive(u.UPN)
	base := s.BaseURL() + "/drives/" + truth.DriveID + "/items/root:/Wiederhergestellt – ä.txt:/content"
	for i, body := range []string{"first version", "second version ✓"} {
		status, _, resp := call(t, hc, "PUT", base, tok, "text/plain", body)
		if want := []int{201, 200}[i]; status != want {
			t.Fatalf("upload %d: %d %s, want %d", i, status, resp, want)
		}
	}
	after, _ := s.DumpDrive(u.UPN)
	for _, it := range after.Items {
		if it.Path == "Wiederhergestellt – ä.txt" {
			if len(it.Versions) != 2 || string(it.Versions[1].Content) != "second version ✓" {
				t.Errorf("uploaded file versions %+v", it.Versions)
			}
			return
		}
	}
	t.Error("uploaded file not in drive dump")
}

// TestSimDriveDeltaDeletedFacet guards that files deleted by delete-files
// come back from the next drive delta with the "deleted" facet.
func TestSimDriveDeltaDeletedFacet(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, _ := s.DumpDrive(u.ID)
	resp, err := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	it, _ := msgraphcore.NewPageIterator[models.DriveItemable](resp, c.GetAdapter(), drives.CreateItemItemsItemDeltaGetResponseFromDiscriminatorValue)
	if err := it.Iterate(ctx, func(models.DriveItemable) bool { return true }); err != nil {
		t.Fatal(err)
	}
	res, err := s.Apply(tenantsim.Scenario{Name: "delete-files", User: u.ID, Count: 2})
	if err != nil || res.ItemsDeleted == 0 {
		t.Fatalf("delete-files: %+v %v", res, err)
	}
	next, err := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root").Delta().WithUrl(*it.GetOdataDeltaLink()).GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, di := range next.GetValue() {
		if di.GetDeleted() != nil && *di.GetDeleted().GetState() == "deleted" {
			deleted = append(deleted, *di.GetId())
		}
	}
	if !slices.Equal(deleted, res.IDs) || len(next.GetValue()) != len(res.IDs) {
		t.Errorf("delta after delete-files: %d items, deleted %v; want exactly %v", len(next.GetValue()), deleted, res.IDs)
	}
	if after, _ := s.DumpDrive(u.ID); len(after.Items) != len(d.Items)-len(res.IDs) {
		t.Errorf("dump has %d items, want %d", len(after.Items), len(d.Items)-len(res.IDs))
	}
}
