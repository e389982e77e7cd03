package tenantsim_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// nestedFile returns a file of u's OneDrive inside a folder.
func nestedFile(t *testing.T, s *tenantsim.Sim, u tenantsim.UserInfo) (tenantsim.DriveDump, tenantsim.DriveItemDump) {
	t.Helper()
	d, err := s.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range d.Items {
		if !it.Folder && strings.Contains(it.Path, "/") {
			return d, it
		}
	}
	t.Fatal("no file in a folder")
	return d, tenantsim.DriveItemDump{}
}

// escapePath escapes each name of a slash-separated path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, x := range parts {
		parts[i] = url.PathEscape(x)
	}
	return strings.Join(parts, "/")
}

// TestSimSDKDriveAddressing guards the other ways Graph names a drive
// and its items, read through the SDK: /users/{id|upn}/drive/...,
// /drives/{id}/root:/path: (with and without the closing colon, in any
// case), :/content, and the SDK's own ByDriveItemId("root:/path:").
func TestSimSDKDriveAddressing(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, f := nestedFile(t, s, u)
	content := f.Versions[len(f.Versions)-1].Content
	p := escapePath(f.Path)
	items := c.Drives().ByDriveId(d.DriveID).Items()

	for _, tc := range []struct{ name, url string }{
		{"users id path", s.BaseURL() + "/users/" + u.ID + "/drive/root:/" + p + ":"},
		{"users upn path without colon", s.BaseURL() + "/users/" + u.UPN + "/drive/root:/" + p},
		{"drives path upper case", s.BaseURL() + "/drives/" + d.DriveID + "/root:/" + escapePath(strings.ToUpper(f.Path)) + ":"},
		{"users items id", s.BaseURL() + "/users/" + u.ID + "/drive/items/" + f.ID},
	} {
		di, err := items.ByDriveItemId("x").WithUrl(tc.url).Get(ctx, nil)
		if err != nil || *di.GetId() != f.ID {
			t.Errorf("%s: %v, want item %s", tc.name, err, f.ID)
		}
	}
	if di, err := items.ByDriveItemId("root:/"+f.Path+":").Get(ctx, nil); err != nil || *di.GetId() != f.ID {
		t.Errorf("ByDriveItemId(root:/path:): %v", err)
	}
	for _, tc := range []struct{ name, url string }{
		{"users path content", s.BaseURL() + "/users/" + u.ID + "/drive/root:/" + p + ":/content"},
		{"drives path content", s.BaseURL() + "/drives/" + d.DriveID + "/root:/" + p + ":/content"},
		{"users item content", s.BaseURL() + "/users/" + u.ID + "/drive/items/" + f.ID + "/content"},
	} {
		b, err := items.ByDriveItemId("x").Content().WithUrl(tc.url).Get(ctx, nil)
		if err != nil || !bytes.Equal(b, content) {
			t.Errorf("%s: %v, %d bytes, want %d", tc.name, err, len(b), len(content))
		}
	}
	vs, err := items.ByDriveItemId("x").Versions().WithUrl(s.BaseURL()+"/users/"+u.ID+"/drive/root:/"+p+":/versions").Get(ctx, nil)
	if err != nil || len(vs.GetValue()) != len(f.Versions) {
		t.Errorf("versions by path: %v", err)
	}
	folder := f.Path[:strings.LastIndex(f.Path, "/")]
	kids, err := items.ByDriveItemId("x").Children().WithUrl(s.BaseURL()+"/users/"+u.ID+"/drive/root:/"+escapePath(folder)+":/children").Get(ctx, nil)
	found := false
	for _, k := range kids.GetValue() {
		found = found || *k.GetId() == f.ID
	}
	if err != nil || !found {
		t.Errorf("children by folder path: %v, file found %v", err, found)
	}
	ids, _, err := driveDeltaAll(t, c, d.DriveID, s.BaseURL()+"/users/"+u.ID+"/drive/root/delta")
	if err != nil || len(ids) != len(d.Items)+1 {
		t.Errorf("delta by user: %v, %d items, want %d", err, len(ids), len(d.Items)+1)
	}

	var unlicensed string
	for _, x := range s.Users() {
		if !x.Licensed && !x.Deleted && !x.Shared {
			unlicensed = x.ID
		}
	}
	for _, tc := range []struct{ name, url, code string }{
		{"missing path", s.BaseURL() + "/users/" + u.ID + "/drive/root:/" + escapePath(folder) + "/nope.txt:", "itemNotFound"},
		{"file as a folder", s.BaseURL() + "/drives/" + d.DriveID + "/root:/" + p + "/below:", "itemNotFound"},
		{"unknown user", s.BaseURL() + "/users/nobody@example.com/drive/root:/x:", "Request_ResourceNotFound"},
		{"user without a drive", s.BaseURL() + "/users/" + unlicensed + "/drive/root:/x:", "ResourceNotFound"},
	} {
		_, err := items.ByDriveItemId("x").WithUrl(tc.url).Get(ctx, nil)
		var oe *odataerrors.ODataError
		if !errors.As(err, &oe) || oe.ResponseStatusCode != 404 || *oe.GetErrorEscaped().GetCode() != tc.code {
			t.Errorf("%s: %v, want 404 %s", tc.name, err, tc.code)
		}
	}
}

// TestSimUploadByPath guards restores addressed by path: a simple upload
// to /users/{id}/drive/root:/folder/name:/content and an upload session
// on /drives/{id}/root:/folder/name:/createUploadSession land in that
// folder.
func TestSimUploadByPath(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.RestoreApp())
	u := firstMailbox(t, s)
	d, f := nestedFile(t, s, u)
	folder := f.Path[:strings.LastIndex(f.Path, "/")]
	status, _, body := call(t, hc, "PUT", s.BaseURL()+"/users/"+u.ID+"/drive/root:/"+escapePath(folder)+"/Zurück.txt:/content", tok, "text/plain", "zurück")
	if status != 201 {
		t.Fatalf("simple upload by path: %d %s", status, body)
	}
	up := startUpload(t, hc, s.BaseURL()+"/drives/"+d.DriveID+"/root:/"+escapePath(folder)+"/gross.bin:/createUploadSession", tok, `{}`)
	if status, b := putChunk(t, hc, up, []byte("large enough"), 0, 12); status != 201 {
		t.Fatalf("session upload by path: %d %s", status, b)
	}
	if status, _, body := call(t, hc, "PUT", s.BaseURL()+"/drives/"+d.DriveID+"/root:/no such folder/x.txt:/content", tok, "text/plain", "x"); status != 404 {
		t.Errorf("upload into a missing folder: %d %s, want 404", status, body)
	}
	after, _ := s.DumpDrive(u.ID)
	got := map[string]string{}
	for _, it := range after.Items {
		if !it.Folder {
			got[it.Path] = string(it.Versions[len(it.Versions)-1].Content)
		}
	}
	if got[folder+"/Zurück.txt"] != "zurück" || got[folder+"/gross.bin"] != "large enough" {
		t.Errorf("uploads not in %s: %q, %q", folder, got[folder+"/Zurück.txt"], got[folder+"/gross.bin"])
	}
}
