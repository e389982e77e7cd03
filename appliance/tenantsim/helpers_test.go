package tenantsim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/tenantsim/simclient"
)

// testConfig is a small tenant: 8 users give one disabled (index 3), one
// unlicensed (index 6) and one deleted account.
func testConfig() tenantsim.Config {
	return tenantsim.Config{Users: 8, Seed: 42}
}

func sdkClient(t testing.TB, s *tenantsim.Sim, app tenantsim.App) *msgraphsdk.GraphServiceClient {
	t.Helper()
	c, err := simclient.New(simclient.Options{
		TenantID: s.TenantID(), AuthorityHost: s.AuthorityHost(), BaseURL: s.BaseURL(),
		CAPEM: s.CAPEM(), ClientID: app.ClientID, ClientSecret: app.ClientSecret,
	})
	if err != nil {
		t.Fatalf("simclient.New: %v", err)
	}
	return c
}

func httpClient(t testing.TB, s *tenantsim.Sim) *http.Client {
	t.Helper()
	c, err := simclient.HTTPClient(s.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// accessToken runs the client-credentials grant by hand.
func accessToken(t testing.TB, s *tenantsim.Sim, app tenantsim.App) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := httpClient(t, s).PostForm(s.AuthorityHost()+s.TenantID()+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token endpoint: status %d", resp.StatusCode)
	}
	return tok.AccessToken
}

// call makes a raw Graph request and returns status, headers and body.
func call(t testing.TB, hc *http.Client, method, u, token, contentType, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp.StatusCode, resp.Header, b
}

// firstMailbox returns the first user with a mailbox.
func firstMailbox(t testing.TB, s *tenantsim.Sim) tenantsim.UserInfo {
	t.Helper()
	for _, u := range s.Users() {
		if u.Licensed && !u.Deleted {
			return u
		}
	}
	t.Fatal("tenant has no mailbox")
	return tenantsim.UserInfo{}
}
