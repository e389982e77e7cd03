package onedrive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

// sharing is an item's permissions as Graph lists them, reduced to what
// a restore must bring back: link type and scope, or grantee and role;
// the owner left out.
func (e *env) sharing(driveID, itemID string) []string {
	e.t.Helper()
	b, err := (&graph.Caller{G: e.Backup}).Get(context.Background(), "/drives/"+url.PathEscape(driveID)+"/items/"+url.PathEscape(itemID)+"/permissions", nil)
	var list struct {
		Value []struct {
			Roles []string `json:"roles"`
			Link  *struct {
				Type, Scope string
			} `json:"link"`
			Expires     string `json:"expirationDateTime"`
			HasPassword bool   `json:"hasPassword"`
			GrantedToV2 struct {
				User struct{ Email string } `json:"user"`
			} `json:"grantedToV2"`
		} `json:"value"`
	}
	if err == nil {
		err = json.Unmarshal(b, &list)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, p := range list.Value {
		switch {
		case slices.Contains(p.Roles, "owner"):
		case p.Link != nil:
			out = append(out, "link "+p.Link.Type+" "+p.Link.Scope+" "+p.Expires+map[bool]string{true: " password"}[p.HasPassword])
		default:
			out = append(out, "grant "+p.GrantedToV2.User.Email+" "+strings.Join(p.Roles, ","))
		}
	}
	slices.Sort(out)
	return out
}

// TestRestoreAllVersionsAndPermissions restores a file with several
// versions and shared by links and with a person: with --all-versions
// its history comes back in order, oldest first, the live file at the
// newest; with --permissions the links are made again and the person is
// granted again, and a password link is reported as not made again;
// without --permissions the restored file is not shared.
func TestRestoreAllVersionsAndPermissions(t *testing.T) {
	e := newEnv(t, tenantsim.Config{Users: 3, Seed: 9})
	ctx := context.Background()
	d, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	var file tenantsim.DriveItemDump
	for _, it := range d.Items {
		if len(it.Versions) > len(file.Versions) {
			file = it
		}
	}
	if len(file.Versions) < 3 {
		t.Fatalf("no file with three versions or more: %+v", file)
	}
	var colleague string
	for _, u := range e.sim.Users() {
		if u.ID != e.user.ID && u.Licensed && u.Enabled && !u.Deleted {
			colleague = u.UPN
		}
	}
	w := &graph.Caller{G: e.Restore}
	item := "/drives/" + url.PathEscape(d.DriveID) + "/items/" + url.PathEscape(file.ID)
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	for _, body := range []map[string]any{{"type": "edit", "scope": "organization"}, {"type": "view", "scope": "anonymous", "expirationDateTime": expires},
		{"type": "view", "scope": "anonymous", "password": "s3cret"}} {
		if _, err := w.WriteJSON(ctx, abstractions.POST, item+"/createLink", body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.WriteJSON(ctx, abstractions.POST, item+"/invite", map[string]any{"recipients": []any{map[string]any{"email": colleague}}, "roles": []any{"write"}, "requireSignIn": true, "sendInvitation": false}); err != nil {
		t.Fatal(err)
	}
	shared := e.sharing(d.DriveID, file.ID)
	if len(shared) != 4 {
		t.Fatalf("the file's sharing before the backup: %v", shared)
	}

	_, snap := e.run(nil, onedrive.Options{})
	var sel []vault.Item
	for _, it := range e.items(&snap) {
		if it.Meta["item_id"] == file.ID && it.Meta["kind"] != "file-version" {
			sel = append(sel, it)
		}
	}
	if len(sel) != 2 {
		t.Fatalf("the backup holds %d records of the file and its permissions, want 2", len(sel))
	}
	var all []vault.Item
	for _, it := range e.items(&snap) {
		if it.Meta["item_id"] == file.ID {
			all = append(all, it)
		}
	}
	restore := func(folder string, o workloads.RestoreOptions) workloads.RestoreResult {
		t.Helper()
		o.TargetUserID, o.TargetFolder = e.user.ID, folder
		res, err := onedrive.RestoreFiles(ctx, e.Restore, e.v, all, o)
		if err != nil || res.Restored != 1 {
			t.Fatalf("restore into %s: %v %+v", folder, err, res)
		}
		return res
	}
	res := restore("History", workloads.RestoreOptions{AllVersions: true, Permissions: true})
	if res.Failed != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "password") {
		t.Fatalf("the password link is not reported as not made again: %+v", res)
	}
	after, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	var back tenantsim.DriveItemDump
	for _, it := range after.Items {
		if it.Path == "History/"+file.Path {
			back = it
		}
	}
	if len(back.Versions) != len(file.Versions) {
		t.Fatalf("restored file has %d versions, the original %d", len(back.Versions), len(file.Versions))
	}
	for i := range file.Versions {
		if !bytes.Equal(back.Versions[i].Content, file.Versions[i].Content) {
			t.Errorf("version %d of %d differs from the original's", i+1, len(file.Versions))
		}
	}
	want := slices.DeleteFunc(slices.Clone(shared), func(s string) bool { return strings.HasSuffix(s, "password") })
	if got := e.sharing(after.DriveID, back.ID); !slices.Equal(got, want) {
		t.Fatalf("sharing of the restored file:\n got %v\nwant %v", got, want)
	}

	res = restore("Plain", workloads.RestoreOptions{})
	after, _ = e.sim.DumpDrive(e.user.ID)
	found := false
	for _, it := range after.Items {
		if it.Path == "Plain/"+file.Path {
			found = true
			if len(it.Versions) != 1 || !bytes.Equal(it.Versions[0].Content, file.Versions[len(file.Versions)-1].Content) {
				t.Errorf("without --all-versions: %d versions", len(it.Versions))
			}
			if s := e.sharing(after.DriveID, it.ID); len(s) != 0 {
				t.Errorf("without --permissions the restored file is shared: %v", s)
			}
		}
	}
	if !found {
		t.Errorf("Plain/%s not restored", file.Path)
	}
}
