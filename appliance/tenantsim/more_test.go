package tenantsim_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
