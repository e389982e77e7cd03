package exchange_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// createFault says what the proxy does with a message create.
type createFault int

const (
	passCreate   createFault = iota
	refuseCreate             // answer 500, create nothing
	applyThen504             // create, then answer 504 as a gateway would
)

// proxiedRestore is the restore app's client reaching the simulator
// through a proxy that can fail message creates (POST .../messages).
func proxiedRestore(t *testing.T, sim *tenantsim.Sim, fault *createFault) *graph.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages") && strings.Contains(r.URL.Path, "/mailFolders/") {
			switch *fault {
			case refuseCreate:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte(`{"error":{"code":"InternalServerError","message":"injected by the test proxy"}}`))
				return
			case applyThen504:
				sim.ServeHTTP(httptest.NewRecorder(), r)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusGatewayTimeout)
				w.Write([]byte(`{"error":{"code":"GatewayTimeout","message":"injected by the test proxy"}}`))
				return
			}
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, sim.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	app := sim.RestoreApp()
	g, err := graph.New(graph.Config{TenantID: sim.TenantID(), BaseURL: srv.URL + "/v1.0", AuthorityHost: sim.AuthorityHost(), CAFile: ca,
		App: graph.App{ClientID: app.ClientID, ClientSecret: app.ClientSecret}, Timeout: 30 * time.Second},
		graph.GovernorOptions{BaseBackoff: 20 * time.Millisecond, MaxWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRestoreReplaceCreatesFirst guards the replace policy: the existing
// message is deleted only after its replacement was created, so a create
// that fails leaves the original; and a create that may have been applied
// (504) is not sent again, so it never makes more than one extra copy.
func TestRestoreReplaceCreatesFirst(t *testing.T) {
	e := newEnv(t)
	_, s := e.run(nil, exchange.Options{})
	const folder = "Inbox/" + tenantsim.SignedContractsFolder
	var sel []vault.Item
	var want []string
	for _, it := range e.items(&s) {
		if it.Meta["kind"] == "message" && it.Meta["folder"] == folder {
			sel = append(sel, it)
		}
	}
	for _, m := range e.dump().Messages {
		if m.FolderPath == folder {
			want = append(want, m.FolderPath+"\x00"+string(m.MIME))
		}
	}
	slices.Sort(want)
	if len(sel) == 0 || len(sel) != len(want) {
		t.Fatalf("%d stored and %d mailbox messages in %s", len(sel), len(want), folder)
	}
	const target = "Replace test"
	fault := passCreate
	g := proxiedRestore(t, e.sim, &fault)
	restore := func(collision string) workloads.RestoreResult {
		t.Helper()
		res, err := exchange.RestoreItems(context.Background(), g, e.read, sel,
			workloads.RestoreOptions{TargetUserID: e.user.ID, TargetFolder: target, Collision: collision})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	copies := func(n int) []string {
		var out []string
		for _, w := range want {
			for range n {
				out = append(out, w)
			}
		}
		slices.Sort(out)
		return out
	}
	if res := restore(exchange.CollisionSkip); res.Restored != len(sel) {
		t.Fatalf("first restore: %+v", res)
	}

	fault = refuseCreate
	res := restore(exchange.CollisionReplace)
	if res.Failed != len(sel) || res.Replaced != 0 {
		t.Errorf("replace with every create failing: %+v; want %d failed", res, len(sel))
	}
	if got := restoredMIME(e.dump(), target); !slices.Equal(got, copies(1)) {
		t.Errorf("after failed replace creates %d messages are left under %q, want the %d originals", len(got), target, len(want))
	}

	fault = applyThen504
	res = restore(exchange.CollisionReplace)
	if res.Failed != len(sel) {
		t.Errorf("replace with every create answering 504: %+v; want %d failed", res, len(sel))
	}
	if got := restoredMIME(e.dump(), target); !slices.Equal(got, copies(2)) {
		t.Errorf("after creates that were applied but answered 504, %d messages are under %q, want %d (the originals and one copy each, no retried duplicates)", len(got), target, 2*len(want))
	}

	fault = passCreate
	res = restore(exchange.CollisionReplace)
	if res.Replaced != len(sel) || res.Failed != 0 {
		t.Errorf("clean replace: %+v", res)
	}
	if got := restoredMIME(e.dump(), target); !slices.Equal(got, copies(1)) {
		t.Errorf("after a clean replace %d messages are under %q, want %d", len(got), target, len(want))
	}
}
