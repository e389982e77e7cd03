package tenantsim_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// noRedirects returns a client for s that hands back 3xx answers instead
// of following them.
func noRedirects(t testing.TB, s *tenantsim.Sim) *http.Client {
	hc := httpClient(t, s)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// firstFile returns the first file of u's OneDrive in the ground truth.
func firstFile(t testing.TB, s *tenantsim.Sim, u tenantsim.UserInfo) (tenantsim.DriveDump, tenantsim.DriveItemDump) {
	t.Helper()
	d, err := s.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range d.Items {
		if !it.Folder && len(it.Versions) > 1 {
			return d, it
		}
	}
	t.Fatal("no file with versions")
	return d, tenantsim.DriveItemDump{}
}

// TestSimContentRedirect guards the download path as Graph serves it:
// .../content answers 302 to a URL on another host name carrying a
// signed token; that host serves the bytes without a bearer token
// (ranges included) and refuses a request that carries one, a tampered
// token, or one past its hour.
func TestSimContentRedirect(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cfg := testConfig()
	cfg.Now = clock
	s := tenantsim.NewTest(t, cfg)
	hc := noRedirects(t, s)
	tok := accessToken(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	d, f := firstFile(t, s, u)
	want := f.Versions[len(f.Versions)-1].Content

	status, h, _ := call(t, hc, "GET", s.BaseURL()+"/drives/"+d.DriveID+"/items/"+f.ID+"/content", tok, "", "")
	loc, err := url.Parse(h.Get("Location"))
	if status != http.StatusFound || err != nil {
		t.Fatalf("content: %d, Location %q; want 302 with a URL", status, h.Get("Location"))
	}
	base, _ := url.Parse(s.BaseURL())
	if loc.Hostname() == base.Hostname() || loc.Hostname() != "localhost" || loc.Query().Get("tempauth") == "" {
		t.Errorf("Location %s: want another host name (localhost) and a tempauth token", loc)
	}
	if status, _, body := call(t, hc, "GET", loc.String(), tok, "", ""); status != http.StatusUnauthorized || !strings.Contains(string(body), "Authorization") {
		t.Errorf("download with a bearer token: %d %s, want 401", status, body)
	}
	if status, h, body := call(t, hc, "GET", loc.String(), "", "", ""); status != 200 || !bytes.Equal(body, want) || h.Get("request-id") == "" {
		t.Errorf("download: %d, %d bytes (request-id %q); want 200 with the %d bytes of the ground truth", status, len(body), h.Get("request-id"), len(want))
	}
	req, _ := http.NewRequest("GET", loc.String(), nil)
	req.Header.Set("Range", "bytes=10-99")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var part bytes.Buffer
	_, _ = part.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part.Bytes(), want[10:100]) {
		t.Errorf("range download: %d, %d bytes; want 206 with bytes 10-99", resp.StatusCode, part.Len())
	}
	q := loc.Query()
	q.Set("tempauth", strings.Replace(q.Get("tempauth"), ".", "x.", 1))
	tampered := *loc
	tampered.RawQuery = q.Encode()
	if status, _, _ := call(t, hc, "GET", tampered.String(), "", "", ""); status != http.StatusUnauthorized {
		t.Errorf("tampered token: %d, want 401", status)
	}
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	if status, _, body := call(t, hc, "GET", loc.String(), "", "", ""); status != http.StatusUnauthorized || !strings.Contains(string(body), "expired") {
		t.Errorf("download after an hour: %d %s, want 401 expired", status, body)
	}
}

// TestSimSDKDownloads guards the three ways a backup reads content
// through the SDK: .../content (the SDK follows the 302 and drops its
// token on the way, or the download host would refuse it), an item's
// @microsoft.graph.downloadUrl, and each version's content and
// downloadUrl. Every byte matches the ground truth.
func TestSimSDKDownloads(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	hc := httpClient(t, s)
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, f := firstFile(t, s, u)
	item := c.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(f.ID)
	got, err := item.Content().Get(ctx, nil)
	if err != nil || !bytes.Equal(got, f.Versions[len(f.Versions)-1].Content) {
		t.Fatalf("SDK content: %v, %d bytes; want the current version", err, len(got))
	}
	di, err := item.Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	link, _ := di.GetAdditionalData()["@microsoft.graph.downloadUrl"].(*string)
	if link == nil || !strings.HasPrefix(*link, s.DownloadRoot()) {
		t.Fatalf("item downloadUrl %v: want a URL under %s", link, s.DownloadRoot())
	}
	if status, _, body := call(t, hc, "GET", *link, "", "", ""); status != 200 || !bytes.Equal(body, got) {
		t.Errorf("downloadUrl: %d, %d bytes", status, len(body))
	}
	vs, err := item.Versions().Get(ctx, nil)
	if err != nil || len(vs.GetValue()) != len(f.Versions) {
		t.Fatalf("versions: %v", err)
	}
	for _, v := range vs.GetValue() {
		var truth []byte
		for _, tv := range f.Versions {
			if tv.ID == *v.GetId() {
				truth = tv.Content
			}
		}
		b, err := item.Versions().ByDriveItemVersionId(*v.GetId()).Content().Get(ctx, nil)
		if err != nil || truth == nil || !bytes.Equal(b, truth) {
			t.Errorf("version %s content: %v, %d bytes, want %d", *v.GetId(), err, len(b), len(truth))
		}
		vl, _ := v.GetAdditionalData()["@microsoft.graph.downloadUrl"].(*string)
		if vl == nil {
			t.Errorf("version %s has no downloadUrl", *v.GetId())
			continue
		}
		if status, _, body := call(t, hc, "GET", *vl, "", "", ""); status != 200 || !bytes.Equal(body, truth) {
			t.Errorf("version %s downloadUrl: %d, %d bytes", *v.GetId(), status, len(body))
		}
	}
	// The server counts a request after answering it: wait for the last.
	want := int64(2 + 2*len(f.Versions))
	for deadline := time.Now().Add(5 * time.Second); s.Counters().Total("files.download", 0) < want && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cs := s.Counters()
	if n := cs.Total("files.download", http.StatusUnauthorized); n != 0 {
		t.Errorf("the download host refused %d requests: a bearer token reached it", n)
	}
	if n := cs.Total("files.download", http.StatusOK); n != want {
		t.Errorf("the download host served %d downloads, want %d", n, want)
	}
}

// TestSimCorruptContent guards the hash-mismatch drill: CorruptContent
// serves a chosen item's bytes altered (same length, hash no longer
// matching its quickXorHash) for the given number of downloads, then
// correct ones; a negative count corrupts every download.
func TestSimCorruptContent(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	d, f := firstFile(t, s, u)
	want := f.Versions[len(f.Versions)-1].Content
	if err := s.SetFaults(tenantsim.Faults{CorruptContent: map[string]int{f.ID: 2}}); err != nil {
		t.Fatal(err)
	}
	get := func() []byte {
		t.Helper()
		status, _, body := call(t, hc, "GET", s.BaseURL()+"/drives/"+d.DriveID+"/items/"+f.ID+"/content", tok, "", "")
		if status != 200 {
			t.Fatalf("content: %d", status)
		}
		return body
	}
	for i := range 2 {
		b := get()
		if len(b) != len(want) || bytes.Equal(b, want) || tenantsim.QuickXorHash(b) == tenantsim.QuickXorHash(want) {
			t.Errorf("download %d: want the same length, other bytes and a mismatching hash", i+1)
		}
	}
	if left := s.Faults().CorruptContent; len(left) != 0 {
		t.Errorf("faults still list %v to corrupt", left)
	}
	if b := get(); !bytes.Equal(b, want) {
		t.Error("third download still corrupted")
	}
	if err := s.SetFaults(tenantsim.Faults{CorruptContent: map[string]int{f.ID: -1}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if bytes.Equal(get(), want) {
			t.Error("a download escaped CorruptContent -1")
		}
	}
	if s.Faults().CorruptContent[f.ID] != -1 {
		t.Errorf("faults report %v, want the item still corrupted always", s.Faults().CorruptContent)
	}
}
