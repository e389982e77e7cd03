package tenantsim_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

var guidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestSimResponseHeaders guards the headers Graph puts on every answer:
// a fresh request-id, the client's client-request-id echoed (or the
// request-id when it sent none) and Date, on Graph, identity and /_sim/
// answers, successes and errors alike.
func TestSimResponseHeaders(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	seen := map[string]bool{}
	for _, tc := range []struct{ name, url, token, clientID string }{
		{"graph", s.BaseURL() + "/users", tok, "c0ffee00-0000-4000-8000-000000000001"},
		{"graph without client id", s.BaseURL() + "/users", tok, ""},
		{"graph error", s.BaseURL() + "/users/nobody@example.com", tok, "my own id"},
		{"no token", s.BaseURL() + "/users", "", ""},
		{"identity", s.AuthorityHost() + s.TenantID() + "/v2.0/.well-known/openid-configuration", "", "x"},
		{"control", s.AuthorityHost() + "_sim/counters", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tc.url, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.clientID != "" {
				req.Header.Set("client-request-id", tc.clientID)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			rid := resp.Header.Get("request-id")
			if !guidShape.MatchString(rid) || seen[rid] {
				t.Errorf("request-id %q: want a fresh GUID", rid)
			}
			seen[rid] = true
			want := tc.clientID
			if want == "" {
				want = rid
			}
			if got := resp.Header.Get("client-request-id"); got != want {
				t.Errorf("client-request-id %q, want %q", got, want)
			}
			d, err := http.ParseTime(resp.Header.Get("Date"))
			if err != nil || time.Since(d).Abs() > time.Minute {
				t.Errorf("Date %q: want the current time (%v)", resp.Header.Get("Date"), err)
			}
		})
	}
}

// TestSimSDKErrorInnerError guards that an error body's innerError names
// this response's request-id, the client-request-id the SDK sent and the
// current date, as the SDK parses them.
func TestSimSDKErrorInnerError(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	h := abstractions.NewRequestHeaders()
	h.Add("client-request-id", "5f7e0000-1111-4222-8333-444455556666")
	_, err := c.Users().ByUserId("nobody@example.com").Get(context.Background(), &users.UserItemRequestBuilderGetRequestConfiguration{Headers: h})
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 404 {
		t.Fatalf("unknown user: err %v, want a 404 ODataError", err)
	}
	inner := oe.GetErrorEscaped().GetInnerError()
	if inner == nil || inner.GetRequestId() == nil || inner.GetClientRequestId() == nil || inner.GetDate() == nil {
		t.Fatalf("innerError lacks request-id, client-request-id or date: %+v", inner)
	}
	if hv := oe.GetResponseHeaders().Get("request-id"); len(hv) != 1 || *inner.GetRequestId() != hv[0] {
		t.Errorf("innerError request-id %q, response header %v", *inner.GetRequestId(), hv)
	}
	if got := *inner.GetClientRequestId(); got != "5f7e0000-1111-4222-8333-444455556666" {
		t.Errorf("innerError client-request-id %q, want the one sent", got)
	}
	// Graph writes the date in UTC without a zone, which the SDK reads
	// as local time: compare the wall clock, read back as UTC.
	wall := inner.GetDate().Format("2006-01-02T15:04:05")
	if got, err := time.Parse("2006-01-02T15:04:05", wall); err != nil || time.Since(got).Abs() > time.Minute {
		t.Errorf("innerError date %s is not now (%s UTC)", wall, time.Now().UTC().Format(time.DateTime))
	}
}
