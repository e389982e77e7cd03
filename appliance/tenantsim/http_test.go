package tenantsim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

type graphErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestSimErrorsAreGraphJSON guards that bad requests get Graph-shaped JSON
// errors with the right status and code, never a panic or plain text.
func TestSimErrorsAreGraphJSON(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	backup, restore := accessToken(t, s, s.BackupApp()), accessToken(t, s, s.RestoreApp())
	u := firstMailbox(t, s)
	var unlicensed string
	for _, x := range s.Users() {
		if !x.Licensed && !x.Deleted && !x.Shared {
			unlicensed = x.ID
		}
	}
	base := s.BaseURL()
	cases := []struct {
		name, method, path, token, ctype, body string
		status                                 int
		code                                   string
	}{
		{"no token", "GET", "/users", "", "", "", 401, "InvalidAuthenticationToken"},
		{"garbage token", "GET", "/users", "not-a-token", "", "", 401, "InvalidAuthenticationToken"},
		{"forged signature", "GET", "/users", backup[:len(backup)-4] + "AAAA", "", "", 401, "InvalidAuthenticationToken"},
		{"unknown path", "GET", "/nowhere/at/all", backup, "", "", 404, "UnknownError"},
		{"wrong method", "PATCH", "/users", backup, "", "", 405, "Request_BadRequest"},
		{"unknown user", "GET", "/users/nobody@example.com/mailFolders", backup, "", "", 404, "Request_ResourceNotFound"},
		{"unlicensed mailbox", "GET", "/users/" + unlicensed + "/mailFolders", backup, "", "", 404, "MailboxNotEnabledForRESTAPI"},
		{"unknown message", "GET", "/users/" + u.ID + "/messages/AAMkNOPE", backup, "", "", 404, "ErrorItemNotFound"},
		{"backup app cannot write", "POST", "/users/" + u.ID + "/mailFolders", backup, "application/json", `{"displayName":"x"}`, 403, "ErrorAccessDenied"},
		{"malformed JSON", "POST", "/users/" + u.ID + "/mailFolders", restore, "application/json", `{"displayName":`, 400, "BadRequest"},
		{"bad base64 MIME", "POST", "/users/" + u.ID + "/messages", restore, "text/plain", "%%%", 400, "ErrorMimeContentInvalidBase64String"},
		{"bad $top", "GET", "/users?$top=abc", backup, "", "", 400, "BadRequest"},
		{"tampered delta token", "GET", "/users/" + u.ID + "/mailFolders/inbox/messages/delta()?$deltatoken=eyJjIjoiQUFBIn0.AAAA", backup, "", "", 410, "resyncRequired"},
		{"delete well-known folder", "DELETE", "/users/" + u.ID + "/mailFolders/inbox", restore, "", "", 403, "ErrorDeleteDistinguishedFolder"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := call(t, hc, tc.method, base+tc.path, tc.token, tc.ctype, tc.body)
			if status != tc.status {
				t.Errorf("status %d, want %d (body %s)", status, tc.status, body)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var e graphErrorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("body %s: want Graph error with code %s", body, tc.code)
			}
		})
	}
}

// TestSimTokenEndpointRejects guards the identity endpoint's refusals.
func TestSimTokenEndpointRejects(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	app := s.BackupApp()
	cases := []struct {
		name, tenant, form string
		status             int
		code               string
	}{
		{"wrong secret", s.TenantID(), "grant_type=client_credentials&client_id=" + app.ClientID + "&client_secret=nope", 401, "invalid_client"},
		{"unknown app", s.TenantID(), "grant_type=client_credentials&client_id=00000000-0000-0000-0000-000000000000&client_secret=x", 400, "unauthorized_client"},
		{"wrong grant", s.TenantID(), "grant_type=password&client_id=" + app.ClientID, 400, "unsupported_grant_type"},
		{"wrong tenant", "11111111-1111-1111-1111-111111111111", "grant_type=client_credentials", 400, "invalid_tenant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := call(t, hc, "POST", s.AuthorityHost()+tc.tenant+"/oauth2/v2.0/token", "", "application/x-www-form-urlencoded", tc.form)
			var e struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(body, &e)
			if status != tc.status || e.Error != tc.code {
				t.Errorf("got %d %q, want %d %q", status, e.Error, tc.status, tc.code)
			}
		})
	}
}

// TestSimExpiredTokens guards token expiry mid-run: tokens issued before
// ExpireTokens get 401, a fresh token works.
func TestSimExpiredTokens(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	old := accessToken(t, s, s.BackupApp())
	s.ExpireTokens()
	if status, _, body := call(t, hc, "GET", s.BaseURL()+"/users", old, "", ""); status != 401 {
		t.Fatalf("old token: %d %s, want 401", status, body)
	}
	if status, _, _ := call(t, hc, "GET", s.BaseURL()+"/users", accessToken(t, s, s.BackupApp()), "", ""); status != 200 {
		t.Fatalf("fresh token: %d, want 200", status)
	}
}

// TestSimRestoreMessageFromMIME guards the restore round trip: MIME posted
// as base64 text/plain is stored byte for byte, served by $value, listed
// in the dump under its folder, and reported by delta.
func TestSimRestoreMessageFromMIME(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.RestoreApp())
	u := firstMailbox(t, s)
	src, err := s.DumpMailbox(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	original := src.Messages[0]

	status, _, body := call(t, hc, "POST", s.BaseURL()+"/users/"+u.ID+"/mailFolders", tok, "application/json", `{"displayName":"Restored ✓"}`)
	if status != 201 {
		t.Fatalf("create folder: %d %s", status, body)
	}
	var folder struct{ ID string }
	_ = json.Unmarshal(body, &folder)

	status, _, body = call(t, hc, "POST", s.BaseURL()+"/users/"+u.ID+"/mailFolders/"+folder.ID+"/messages", tok, "text/plain", base64.StdEncoding.EncodeToString(original.MIME))
	if status != 201 {
		t.Fatalf("create message from MIME: %d %s", status, body)
	}
	var msg struct {
		ID             string
		Subject        string
		ParentFolderID string `json:"parentFolderId"`
	}
	_ = json.Unmarshal(body, &msg)
	if msg.Subject != original.Subject || msg.ParentFolderID != folder.ID {
		t.Errorf("created message %+v, want subject %q in %s", msg, original.Subject, folder.ID)
	}
	status, _, got := call(t, hc, "GET", s.BaseURL()+"/users/"+u.ID+"/messages/"+msg.ID+"/$value", tok, "", "")
	if status != 200 || !bytes.Equal(got, original.MIME) {
		t.Errorf("$value of restored message differs from the MIME posted (status %d)", status)
	}
	after, err := s.DumpMailbox(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range after.Messages {
		if m.ID == msg.ID {
			found = m.FolderPath == "Restored ✓" && bytes.Equal(m.MIME, original.MIME)
		}
	}
	if !found {
		t.Error("restored message not in dump under \"Restored ✓\" with identical MIME")
	}
}

// TestSimScenarios guards the scenarios through POST /_sim/scenario and
// their effect on the ground truth.
func TestSimScenarios(t *testing.T) {
	cases := []struct {
		name  string
		sc    func(u tenantsim.UserInfo) tenantsim.Scenario
		check func(t *testing.T, s *tenantsim.Sim, u tenantsim.UserInfo, before, res tenantsim.ScenarioResult)
	}{
		{
			name: "delete-folder removes the subtree",
			sc: func(u tenantsim.UserInfo) tenantsim.Scenario {
				return tenantsim.Scenario{Name: "delete-folder", User: u.UPN, Folder: tenantsim.SignedContractsFolder}
			},
			check: func(t *testing.T, s *tenantsim.Sim, u tenantsim.UserInfo, _, res tenantsim.ScenarioResult) {
				d, _ := s.DumpMailbox(u.ID)
				for _, f := range d.Folders {
					if strings.Contains(f.Path, tenantsim.SignedContractsFolder) {
						t.Errorf("folder %s survived", f.Path)
					}
				}
				if res.FoldersDeleted != 2 || res.ItemsDeleted < 2 || len(res.IDs) != res.ItemsDeleted {
					t.Errorf("result %+v: want 2 folders and at least 2 items", res)
				}
			},
		},
		{
			name: "mail-burst adds unread mail to the inbox",
			sc: func(u tenantsim.UserInfo) tenantsim.Scenario {
				return tenantsim.Scenario{Name: "mail-burst", User: u.ID, Count: 5}
			},
			check: func(t *testing.T, s *tenantsim.Sim, u tenantsim.UserInfo, _, res tenantsim.ScenarioResult) {
				d, _ := s.DumpMailbox(u.ID)
				n := 0
				for _, m := range d.Messages {
					for _, id := range res.IDs {
						if m.ID == id && m.FolderPath == "Inbox" {
							n++
						}
					}
				}
				if n != 5 {
					t.Errorf("%d of 5 burst mails in Inbox", n)
				}
			},
		},
		{
			name: "deprovision-user hides the user",
			sc: func(u tenantsim.UserInfo) tenantsim.Scenario {
				return tenantsim.Scenario{Name: "deprovision-user", User: u.UPN}
			},
			check: func(t *testing.T, s *tenantsim.Sim, u tenantsim.UserInfo, _, _ tenantsim.ScenarioResult) {
				if _, err := s.DumpMailbox(u.ID); err == nil {
					t.Error("mailbox of deprovisioned user still dumps")
				}
				status, _, _ := call(t, httpClient(t, s), "GET", s.BaseURL()+"/users/"+u.ID, accessToken(t, s, s.BackupApp()), "", "")
				if status != 404 {
					t.Errorf("GET deprovisioned user: %d, want 404", status)
				}
			},
		},
		{
			name: "move-messages moves between folders",
			sc: func(u tenantsim.UserInfo) tenantsim.Scenario {
				return tenantsim.Scenario{Name: "move-messages", User: u.UPN, Folder: "Inbox", To: "Archive", Count: 3}
			},
			check: func(t *testing.T, s *tenantsim.Sim, u tenantsim.UserInfo, _, res tenantsim.ScenarioResult) {
				d, _ := s.DumpMailbox(u.ID)
				moved := map[string]bool{}
				for _, id := range res.IDs {
					moved[id] = true
				}
				n := 0
				for _, m := range d.Messages {
					if moved[m.ID] && m.FolderPath == "Archive" {
						n++
					}
				}
				if n != 3 || res.ItemsMoved != 3 {
					t.Errorf("%d of 3 moved messages in Archive (result %+v)", n, res)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tenantsim.NewTest(t, testConfig())
			u := firstMailbox(t, s)
			b, _ := json.Marshal(tc.sc(u))
			status, _, body := call(t, httpClient(t, s), "POST", s.AuthorityHost()+"_sim/scenario", "", "application/json", string(b))
			if status != 200 {
				t.Fatalf("scenario: %d %s", status, body)
			}
			var res tenantsim.ScenarioResult
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			tc.check(t, s, u, tenantsim.ScenarioResult{}, res)
		})
	}
	t.Run("unknown scenario", func(t *testing.T) {
		s, _ := tenantsim.New(testConfig())
		if _, err := s.Apply(tenantsim.Scenario{Name: "meteor"}); !errors.Is(err, tenantsim.ErrUnknownScenario) {
			t.Errorf("err %v, want ErrUnknownScenario", err)
		}
	})
}

// TestSimDeterministic guards that a seed gives the same tenant, byte for
// byte, and that another seed gives another one.
func TestSimDeterministic(t *testing.T) {
	dump := func(seed int64) []byte {
		s, err := tenantsim.New(tenantsim.Config{Users: 3, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, u := range s.Users() {
			if d, err := s.DumpMailbox(u.ID); err == nil {
				b, _ := json.Marshal(d)
				all = append(all, b...)
			}
		}
		return all
	}
	a, b, c := dump(7), dump(7), dump(8)
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different tenants")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same tenant")
	}
}

// TestSimThrottle guards the per-mailbox limits: past the request budget
// a mailbox gets 429 with Retry-After, and another mailbox is unaffected.
func TestSimThrottle(t *testing.T) {
	cfg := testConfig()
	cfg.Throttle = tenantsim.Throttle{Mode: tenantsim.ThrottleStrict, Requests: 5, Window: time.Hour}
	s := tenantsim.NewTest(t, cfg)
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	users := s.Users()
	for i := range 5 {
		if status, _, _ := call(t, hc, "GET", s.BaseURL()+"/users/"+users[0].ID+"/mailFolders", tok, "", ""); status != 200 {
			t.Fatalf("request %d within budget: %d", i, status)
		}
	}
	status, h, body := call(t, hc, "GET", s.BaseURL()+"/users/"+users[0].ID+"/mailFolders", tok, "", "")
	if status != 429 || h.Get("Retry-After") == "" || !strings.Contains(string(body), "ApplicationThrottled") {
		t.Errorf("over budget: %d Retry-After %q %s, want 429", status, h.Get("Retry-After"), body)
	}
	if status, _, _ := call(t, hc, "GET", s.BaseURL()+"/users/"+users[0].UPN+"/mailFolders", tok, "", ""); status != 429 {
		t.Errorf("same mailbox by UPN: %d, want 429", status)
	}
	if status, _, _ := call(t, hc, "GET", s.BaseURL()+"/users/"+users[1].ID+"/mailFolders", tok, "", ""); status != 200 {
		t.Errorf("other mailbox: %d, want 200", status)
	}
	if c := s.Counters(); c.Throttled != 2 || c.Total("mail.folders", 429) != 2 {
		t.Errorf("counters %+v: want two throttled mail.folders requests", c)
	}
}

// TestSimFaults guards each injected fault as a client sees it.
func TestSimFaults(t *testing.T) {
	cases := []struct {
		name   string
		faults tenantsim.Faults
		check  func(status int, body []byte, err error) string
	}{
		{"server error burst", tenantsim.Faults{ServerErrorRate: 1}, func(status int, body []byte, err error) string {
			if err != nil || (status != 503 && status != 504) || !strings.Contains(string(body), `"error"`) {
				return fmt.Sprintf("got %d %v, want 503 or 504 with a Graph error", status, err)
			}
			return ""
		}},
		{"connection reset", tenantsim.Faults{ResetRate: 1}, func(status int, _ []byte, err error) string {
			if err == nil {
				return fmt.Sprintf("got status %d, want a transport error", status)
			}
			return ""
		}},
		{"truncated body", tenantsim.Faults{TruncateRate: 1}, func(status int, _ []byte, err error) string {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Sprintf("got %d %v, want unexpected EOF while reading the body", status, err)
			}
			return ""
		}},
		{"slow response", tenantsim.Faults{SlowRate: 1, SlowDelay: 150 * time.Millisecond}, func(status int, _ []byte, err error) string {
			if err != nil || status != 200 {
				return fmt.Sprintf("got %d %v, want a late 200", status, err)
			}
			return ""
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tenantsim.NewTest(t, testConfig())
			tok := accessToken(t, s, s.BackupApp())
			hc := httpClient(t, s)
			hc.Transport.(*http.Transport).DisableKeepAlives = true
			b, _ := json.Marshal(tc.faults)
			if status, _, body := call(t, hc, "POST", s.AuthorityHost()+"_sim/faults", "", "application/json", string(b)); status != 200 {
				t.Fatalf("set faults: %d %s", status, body)
			}
			req, _ := http.NewRequest("GET", s.BaseURL()+"/users", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			start := time.Now()
			var status int
			var body []byte
			resp, err := hc.Do(req)
			if err == nil {
				status = resp.StatusCode
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if msg := tc.check(status, body, err); msg != "" {
				t.Error(msg)
			}
			if tc.faults.SlowDelay > 0 && time.Since(start) < tc.faults.SlowDelay {
				t.Errorf("answered in %v, before the injected delay", time.Since(start))
			}
		})
	}
}

// TestSimDeltaPageSize guards delta paging: $top and the Prefer header
// set the page size, and pages after a $top request keep it.
func TestSimDeltaPageSize(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	d, _ := s.DumpMailbox(u.ID)
	inbox := 0
	for _, m := range d.Messages {
		if m.FolderPath == "Inbox" {
			inbox++
		}
	}
	cases := []struct {
		name, query, prefer string
		want                int
	}{
		{"default page of 10", "", "", 10},
		{"$top 3", "?$top=3", "", 3},
		{"Prefer maxpagesize 4", "", "odata.maxpagesize=4", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := s.BaseURL() + "/users/" + u.ID + "/mailFolders/inbox/messages/delta()" + tc.query
			total := 0
			for page := 0; next != ""; page++ {
				req, _ := http.NewRequest("GET", next, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				if tc.prefer != "" {
					req.Header.Set("Prefer", tc.prefer)
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Value []json.RawMessage `json:"value"`
					Next  string            `json:"@odata.nextLink"`
					Delta string            `json:"@odata.deltaLink"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if body.Next != "" && len(body.Value) != tc.want {
					t.Fatalf("page %d has %d items, want %d", page, len(body.Value), tc.want)
				}
				if body.Next == "" && body.Delta == "" {
					t.Fatalf("page %d has neither nextLink nor deltaLink", page)
				}
				total += len(body.Value)
				next = body.Next
			}
			if total != inbox {
				t.Errorf("pages held %d messages, Inbox has %d", total, inbox)
			}
		})
	}
}
