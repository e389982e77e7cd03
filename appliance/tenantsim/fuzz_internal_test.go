package tenantsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func fuzzSim(f *testing.F) *Sim {
	s, err := New(Config{Users: 2, Seed: 1, Profile: Profile{MessagesPerUser: 5}})
	if err != nil {
		f.Fatal(err)
	}
	s.baseURL, s.authority = "https://127.0.0.1:1/v1.0", "https://127.0.0.1:1/"
	return s
}

// FuzzDeltaToken guards the delta token decoder: garbage never panics and
// never decodes, and every token the simulator issues decodes to itself.
func FuzzDeltaToken(f *testing.F) {
	s := fuzzSim(f)
	good := s.encodeDelta(deltaState{Coll: "AAMkF1", Epoch: 0, Full: true, After: 3, Upto: 9, Select: "subject"})
	f.Add(good)
	f.Add("")
	f.Add("eyJjIjoiQUFBIn0.AAAA")
	f.Add(good[:len(good)-2])
	f.Fuzz(func(t *testing.T, tok string) {
		if len(tok) > 4096 {
			return
		}
		st, ok := s.decodeDelta(tok)
		if !ok {
			return
		}
		if again, ok2 := s.decodeDelta(s.encodeDelta(st)); !ok2 || again != st {
			t.Fatalf("token %q decoded to %+v, which does not round-trip", tok, st)
		}
	})
}

// FuzzParseMIME guards the restore path's MIME reader against garbage.
func FuzzParseMIME(f *testing.F) {
	s := fuzzSim(f)
	for _, u := range s.users {
		if u.hasMailbox() {
			for _, it := range u.items {
				if it.kind == kindMessage {
					f.Add(it.msg.mimeBytes())
				}
			}
			break
		}
	}
	f.Add([]byte("Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%\r\n--b--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 64<<10 {
			return
		}
		m, err := parseMIME(raw)
		if err == nil && string(m.mimeBytes()) != string(raw) {
			t.Fatal("a parsed message does not serve its bytes unchanged")
		}
	})
}

// FuzzServeGraph guards the whole handler: any method, path and body get
// a JSON answer from an authenticated caller, never a panic.
func FuzzServeGraph(f *testing.F) {
	s := fuzzSim(f)
	now := time.Now()
	tok := s.signToken(tokenClaims{AppID: s.restore.ClientID, TenantID: s.tenantID, Roles: restoreRoles, IssuedAt: now.UnixNano(), Expires: now.Add(time.Hour).Unix()})
	uid := s.users[0].id
	f.Add("GET", "/v1.0/users/"+uid+"/mailFolders/inbox/messages/delta()?$top=0", "")
	f.Add("POST", "/v1.0/users/"+uid+"/mailFolders", `{"displayName":null}`)
	f.Add("POST", "/v1.0/users/"+uid+"/events", `[]`)
	f.Add("POST", "/v1.0/users/"+uid+"/messages/x/move", `{"destinationId":"inbox"}`)
	f.Add("GET", "/v1.0/users/"+uid+"/messages?$skip=-1", "")
	f.Add("DELETE", "/v1.0/users/"+uid+"/mailFolders/msgfolderroot", "")
	f.Add("GET", "/_sim/dump/mailbox/"+uid, "")
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || len(path) > 2048 || len(body) > 8192 {
			return
		}
		if strings.HasPrefix(path, "/_sim/scenario") || strings.HasPrefix(path, "/_sim/faults") {
			return // they change the simulator for every later input
		}
		req, err := http.NewRequest(method, "https://127.0.0.1:1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code == http.StatusNoContent || (rec.Code == http.StatusOK && strings.HasSuffix(req.URL.Path, "$value")) {
			return
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d %q %q", method, path, rec.Code, ct, rec.Body.String())
		}
	})
}
