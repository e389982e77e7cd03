package tenantsim_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"go.yaml.in/yaml/v3"
)

// TestSimThrottleConcurrency guards the per-mailbox concurrency limit:
// with realistic limits and every answer held for a second, at most four
// of eight simultaneous requests to one mailbox are served.
func TestSimThrottleConcurrency(t *testing.T) {
	cfg := testConfig()
	cfg.Throttle = tenantsim.Throttle{Mode: tenantsim.ThrottleRealistic}
	cfg.Faults = tenantsim.Faults{SlowRate: 1, SlowDelay: time.Second}
	s := tenantsim.NewTest(t, cfg)
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, h, _ := call(t, hc, "GET", s.BaseURL()+"/users/"+u.ID+"/mailFolders", tok, "", "")
			if status == 429 && h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			mu.Lock()
			codes[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] > 4 || codes[429] < 4 || codes[200]+codes[429] != 8 {
		t.Errorf("answers %v: want at most 4 served and the rest 429", codes)
	}
}

// TestSimGzipRequestBody guards that gzip-compressed request bodies, as
// kiota's compression handler sends them, are accepted.
func TestSimGzipRequestBody(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	u := firstMailbox(t, s)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"givenName":"Søren","surname":"Ærøe"}`))
	_ = zw.Close()
	req, _ := http.NewRequest("POST", s.BaseURL()+"/users/"+u.ID+"/contacts", &buf)
	req.Header.Set("Authorization", "Bearer "+accessToken(t, s, s.RestoreApp()))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := httpClient(t, s).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("gzip contact: %d, want 201", resp.StatusCode)
	}
}

// TestSimContactsDeltaAfterRestore guards that a contact written by the
// restore app is the one change the next contacts delta reports.
func TestSimContactsDeltaAfterRestore(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	round := func(link string) (ids []string, next string) {
		b := c.Users().ByUserId(u.ID).Contacts().Delta()
		if link != "" {
			b = b.WithUrl(link)
		}
		resp, err := b.GetAsDeltaGetResponse(ctx, nil)
		if err != nil {
			t.Fatalf("contacts delta: %v", err)
		}
		it, err := msgraphcore.NewPageIterator[models.Contactable](resp, c.GetAdapter(), users.CreateItemContactsDeltaGetResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Iterate(ctx, func(ct models.Contactable) bool { ids = append(ids, *ct.GetId()); return true }); err != nil {
			t.Fatal(err)
		}
		return ids, *it.GetOdataDeltaLink()
	}
	_, link := round("")
	ct := models.NewContact()
	name := "Ingrid Østergaard"
	ct.SetDisplayName(&name)
	created, err := sdkClient(t, s, s.RestoreApp()).Users().ByUserId(u.ID).Contacts().Post(ctx, ct, nil)
	if err != nil {
		t.Fatalf("create contact: %v", err)
	}
	ids, _ := round(link)
	if !slices.Equal(ids, []string{*created.GetId()}) {
		t.Errorf("delta after restore = %v, want just %s", ids, *created.GetId())
	}
}

// TestSimAgentConfigFile guards the file format the agent reads: exactly
// these keys, and a round trip through ReadAgentConfig.
func TestSimAgentConfigFile(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	path := filepath.Join(t.TempDir(), "sim.yaml")
	want := s.AgentConfig("/tmp/ca.pem")
	if err := tenantsim.WriteAgentConfig(path, want); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenant_id", "graph_base_url", "authority_host", "ca_file", "backup_app", "restore_app"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("key %s missing from %s", k, raw)
		}
	}
	app, _ := doc["backup_app"].(map[string]any)
	if app["client_id"] != s.BackupApp().ClientID || app["client_secret"] != s.BackupApp().ClientSecret {
		t.Errorf("backup_app = %v", app)
	}
	got, err := tenantsim.ReadAgentConfig(path)
	if err != nil || got != want {
		t.Errorf("round trip = %+v, %v; want %+v", got, err, want)
	}
}

// TestSimTokenLifetime guards expiry by the clock: with an injected clock,
// a token past its lifetime gets 401.
func TestSimTokenLifetime(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	cfg := testConfig()
	cfg.TokenLifetime = 10 * time.Minute
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := tenantsim.NewTest(t, cfg)
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	cases := []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{"fresh", 0, 200},
		{"just before expiry", 9*time.Minute + 59*time.Second, 200},
		{"expired", time.Second, 401},
	}
	for _, tc := range cases {
		mu.Lock()
		now = now.Add(tc.advance)
		mu.Unlock()
		if status, _, _ := call(t, hc, "GET", s.BaseURL()+"/users", tok, "", ""); status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, status, tc.want)
		}
	}
}

// TestSimCountersEndpoint guards GET /_sim/counters: requests by class and
// status and bytes served, agreeing with the Go method.
func TestSimCountersEndpoint(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	call(t, hc, "GET", s.BaseURL()+"/users/"+u.ID+"/mailFolders", tok, "", "")
	call(t, hc, "GET", s.BaseURL()+"/users/"+u.ID+"/messages/nope/$value", tok, "", "")
	r := &tenantsim.Remote{Root: s.AuthorityHost(), Client: hc}
	c, err := r.Counters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests["mail.folders"][200] != 1 || c.Requests["mail.mime"][404] != 1 || c.Requests["identity"][200] != 1 {
		t.Errorf("requests %v", c.Requests)
	}
	if c.BytesServed == 0 || c.BytesServed > s.Counters().BytesServed {
		t.Errorf("bytes served %d (Go method says %d)", c.BytesServed, s.Counters().BytesServed)
	}
}

// TestSimTenantBudgets guards the tenant-wide limits: SharePoint/OneDrive
// resource units per minute (listings cost 2, single items 1) and Teams
// requests per second, each answered with 429 and Retry-After once spent
// and refilled when the clock moves on.
func TestSimTenantBudgets(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cfg := testConfig()
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cfg.Throttle = tenantsim.Throttle{Mode: tenantsim.ThrottleStrict, Requests: 1000, ResourceUnits: 5, TeamsPerSecond: 2}
	s := tenantsim.NewTest(t, cfg)
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	d, _ := s.DumpDrive(u.ID)
	var teamID, chanID string
	{
		_, _, b := call(t, hc, "GET", s.BaseURL()+"/groups", tok, "", "")
		var gs struct{ Value []struct{ ID string } }
		_ = json.Unmarshal(b, &gs)
		teamID = gs.Value[0].ID
		_, _, b = call(t, hc, "GET", s.BaseURL()+"/teams/"+teamID+"/channels", tok, "", "")
		_ = json.Unmarshal(b, &gs)
		chanID = gs.Value[0].ID
	}
	root := s.BaseURL() + "/drives/" + d.DriveID + "/root"
	msgs := s.BaseURL() + "/teams/" + teamID + "/channels/" + chanID + "/messages"
	steps := []struct {
		name    string
		advance time.Duration
		url     string
		want    int
	}{
		{"single item costs 1", 0, root, 200},
		{"listing costs 2", 0, root + "/children", 200},
		{"second listing reaches 5", 0, root + "/children", 200},
		{"budget spent", 0, root, 429},
		{"next minute refills", time.Minute, root, 200},
		{"teams 1", 0, msgs, 200},
		{"teams 2", 0, msgs, 200},
		{"teams 3 in the same second", 0, msgs, 429},
		{"teams next second", time.Second, msgs, 200},
	}
	for _, st := range steps {
		advance(st.advance)
		status, h, body := call(t, hc, "GET", st.url, tok, "", "")
		if status != st.want {
			t.Errorf("%s: %d %s, want %d", st.name, status, body, st.want)
		}
		if status == 429 && (h.Get("Retry-After") == "" || !strings.Contains(string(body), "activityLimitReached")) {
			t.Errorf("%s: 429 without Retry-After or code: %s", st.name, body)
		}
	}
}
