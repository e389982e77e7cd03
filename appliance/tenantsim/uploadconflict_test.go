package tenantsim_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// createSession asks the SDK for an upload session for name in the root,
// with conflictBehavior when not empty.
func createSession(c *msgraphsdk.GraphServiceClient, did, name, conflict string) (models.UploadSessionable, error) {
	body := drives.NewItemItemsItemCreateUploadSessionPostRequestBody()
	if conflict != "" {
		props := models.NewDriveItemUploadableProperties()
		props.SetAdditionalData(map[string]any{"@microsoft.graph.conflictBehavior": conflict})
		body.SetItem(props)
	}
	return c.Drives().ByDriveId(did).Items().ByDriveItemId("root:/"+name+":").CreateUploadSession().Post(context.Background(), body, nil)
}

func odataCode(err error) (int, string) {
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		return 0, ""
	}
	return oe.ResponseStatusCode, *oe.GetErrorEscaped().GetCode()
}

// rootFiles maps the names of the files in the root of a drive dump to
// their versions' contents.
func rootFiles(d tenantsim.DriveDump) map[string][]string {
	out := map[string][]string{}
	for _, it := range d.Items {
		if it.Folder {
			continue
		}
		for _, v := range it.Versions {
			out[it.Path] = append(out[it.Path], string(v.Content))
		}
	}
	return out
}

// TestSimSDKUploadConflicts guards @microsoft.graph.conflictBehavior on
// upload sessions (fail by default: 409 nameAlreadyExists at once) and
// on simple uploads (replace by default): fail answers 409, replace adds
// a version to the existing file, rename makes "name 1.ext", "name 2.ext".
func TestSimSDKUploadConflicts(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.RestoreApp())
	hc := httpClient(t, s)
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, _ := s.DumpDrive(u.ID)
	items := c.Drives().ByDriveId(d.DriveID).Items()
	if _, err := items.ByDriveItemId("root:/Bericht.txt:").Content().Put(ctx, []byte("v1"), nil); err != nil {
		t.Fatal(err)
	}
	for _, conflict := range []string{"", "fail"} {
		if _, err := createSession(c, d.DriveID, "Bericht.txt", conflict); err == nil {
			t.Errorf("session with conflictBehavior %q on an existing name: no error", conflict)
		} else if st, code := odataCode(err); st != 409 || code != "nameAlreadyExists" {
			t.Errorf("session with conflictBehavior %q: %d %s, want 409 nameAlreadyExists", conflict, st, code)
		}
	}
	for _, tc := range []struct{ conflict, data string }{{"replace", "v2"}, {"rename", "renamed"}, {"rename", "renamed again"}} {
		us, err := createSession(c, d.DriveID, "Bericht.txt", tc.conflict)
		if err != nil {
			t.Fatalf("session %s: %v", tc.conflict, err)
		}
		if st, b := putChunk(t, hc, *us.GetUploadUrl(), []byte(tc.data), 0, len(tc.data)); st != map[string]int{"replace": 200, "rename": 201}[tc.conflict] {
			t.Errorf("%s: last chunk %d %s", tc.conflict, st, b)
		}
	}
	simple := func(conflict, data string) error {
		u := s.BaseURL() + "/drives/" + d.DriveID + "/root:/Bericht.txt:/content"
		if conflict != "" {
			u += "?@microsoft.graph.conflictBehavior=" + conflict
		}
		_, err := items.ByDriveItemId("x").Content().WithUrl(u).Put(ctx, []byte(data), nil)
		return err
	}
	if st, code := odataCode(simple("fail", "no")); st != 409 || code != "nameAlreadyExists" {
		t.Errorf("simple upload, fail: %d %s, want 409 nameAlreadyExists", st, code)
	}
	if err := simple("", "v3"); err != nil {
		t.Errorf("simple upload, default: %v", err)
	}
	if err := simple("rename", "simple renamed"); err != nil {
		t.Errorf("simple upload, rename: %v", err)
	}
	if st, code := odataCode(simple("sideways", "x")); st != 400 {
		t.Errorf("unknown conflictBehavior: %d %s, want 400", st, code)
	}
	after, _ := s.DumpDrive(u.ID)
	got := rootFiles(after)
	want := map[string][]string{
		"Bericht.txt":   {"v1", "v2", "v3"},
		"Bericht 1.txt": {"renamed"},
		"Bericht 2.txt": {"renamed again"},
		"Bericht 3.txt": {"simple renamed"},
	}
	for name, vs := range want {
		if len(got[name]) != len(vs) || (len(vs) > 0 && got[name][len(vs)-1] != vs[len(vs)-1]) {
			t.Errorf("%s: versions %q, want %q", name, got[name], vs)
		}
	}
}

// TestSimUploadSessionStatus guards resuming an upload: GET on the upload
// URL answers its expirationDateTime and nextExpectedRanges (parsed with
// the SDK's model), which stay put after a refused chunk and move on
// after an accepted one; a name taken while the session ran makes the
// last chunk 409 (fail) and keeps the session; a finished or expired
// session is gone.
func TestSimUploadSessionStatus(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	cfg := testConfig()
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := tenantsim.NewTest(t, cfg)
	c := sdkClient(t, s, s.RestoreApp())
	hc := httpClient(t, s)
	u := firstMailbox(t, s)
	d, _ := s.DumpDrive(u.ID)
	const k320 = 320 << 10
	data := bytes.Repeat([]byte("wiederaufnehmen "), k320/4)[:2*k320+100]
	us, err := createSession(c, d.DriveID, "resume.bin", "fail")
	if err != nil {
		t.Fatal(err)
	}
	up := *us.GetUploadUrl()
	status := func() (models.UploadSessionable, int) {
		t.Helper()
		st, _, body := call(t, hc, "GET", up, "", "", "")
		if st != 200 {
			return nil, st
		}
		p, err := serialization.Deserialize("application/json", body, models.CreateUploadSessionFromDiscriminatorValue)
		if err != nil {
			t.Fatalf("parse upload status %s: %v", body, err)
		}
		return p.(models.UploadSessionable), st
	}
	expect := func(next string) {
		t.Helper()
		got, st := status()
		if got == nil || len(got.GetNextExpectedRanges()) != 1 || got.GetNextExpectedRanges()[0] != next || got.GetExpirationDateTime() == nil || !got.GetExpirationDateTime().Equal(*us.GetExpirationDateTime()) {
			t.Fatalf("status %d %+v, want nextExpectedRanges [%s] and the session's expiry", st, got, next)
		}
	}
	expect("0-")
	if st, b := putChunk(t, hc, up, data[:k320], 0, len(data)); st != 202 {
		t.Fatalf("first chunk: %d %s", st, b)
	}
	expect("327680-")
	if st, _ := putChunk(t, hc, up, data[2*k320:], 2*k320, len(data)); st != 416 {
		t.Errorf("chunk past a gap: %d, want 416", st)
	}
	expect("327680-")
	if st, b := putChunk(t, hc, up, data[k320:2*k320], k320, len(data)); st != 202 {
		t.Fatalf("second chunk: %d %s", st, b)
	}
	// Someone takes the name before the last chunk.
	if _, err := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root:/resume.bin:").Content().Put(context.Background(), []byte("first"), nil); err != nil {
		t.Fatal(err)
	}
	if st, b := putChunk(t, hc, up, data[2*k320:], 2*k320, len(data)); st != 409 {
		t.Errorf("last chunk onto a taken name with fail: %d %s, want 409", st, b)
	}
	if _, st := status(); st != 200 {
		t.Errorf("session after a refused commit: %d, want it kept", st)
	}
	if st, _, _ := call(t, hc, "DELETE", up, "", "", ""); st != http.StatusNoContent {
		t.Errorf("cancel: %d", st)
	}
	if _, st := status(); st != 404 {
		t.Errorf("cancelled session: %d, want 404", st)
	}

	us, err = createSession(c, d.DriveID, "late.bin", "")
	if err != nil {
		t.Fatal(err)
	}
	up = *us.GetUploadUrl()
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	if _, st := status(); st != 404 {
		t.Errorf("session after its expiry: %d, want 404", st)
	}
}
