package graph_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestClientTimeoutIsPerAttempt guards that Config.Timeout does not bound
// a whole Graph request: a response slower than it still arrives (a large
// download, or governor waits and retries, take longer than one timeout),
// while each attempt stays bounded by the governor.
func TestClientTimeoutIsPerAttempt(t *testing.T) {
	sim := tenantsim.NewTest(t, tenantsim.Config{Users: 1, Seed: 3,
		Faults: tenantsim.Faults{SlowRate: 1, SlowDelay: 1500 * time.Millisecond}})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, sim.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	app := sim.BackupApp()
	g, err := graph.New(graph.Config{TenantID: sim.TenantID(), BaseURL: sim.BaseURL(), AuthorityHost: sim.AuthorityHost(), CAFile: ca,
		App: graph.App{ClientID: app.ClientID, ClientSecret: app.ClientSecret}, Timeout: time.Second}, graph.GovernorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	users, err := g.Users(context.Background())
	if err != nil || len(users) == 0 {
		t.Fatalf("a response slower than Config.Timeout failed: %v (%d users)", err, len(users))
	}
}

// TestSignInRemedies guards the "what to do" line for sign-in and
// connection failures: each names the setting to fix.
func TestSignInRemedies(t *testing.T) {
	cases := map[string]string{
		"AADSTS7000215: Invalid client secret provided.":                                   "client_secret",
		"AADSTS700016: Application with identifier 'x' not found":                          "client_id",
		"AADSTS90002: Tenant 'x' not found.":                                               "tenant_id",
		"tls: failed to verify certificate: x509: certificate signed by unknown authority": "ca_file",
		"dial tcp: lookup login.example: no such host":                                     "DNS",
		"dial tcp 10.0.0.1:443: connect: connection refused":                               "proxy",
	}
	for msg, want := range cases {
		err := graph.Explain(errors.New(msg))
		if !strings.Contains(err.Error(), "what to do:") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q explained as %q; want a remedy naming %s", msg, err, want)
		}
	}
	if err := graph.Explain(errors.New("something else")); strings.Contains(err.Error(), "what to do") {
		t.Errorf("an unknown failure got a remedy: %v", err)
	}
}

// TestClientRetriesCutShortAnswers guards that a JSON page cut short in
// transit (a full Content-Length, half the body, then a dropped
// connection) is asked for again rather than failing the typed SDK call
// with "unexpected EOF": a user list read through a simulator that cuts
// a third of its answers must come back whole, every time.
func TestClientRetriesCutShortAnswers(t *testing.T) {
	clean := tenantsim.NewTest(t, tenantsim.Config{Users: 30, Seed: 8})
	sim := tenantsim.NewTest(t, tenantsim.Config{Users: 30, Seed: 8, Faults: tenantsim.Faults{TruncateRate: 0.3}})
	want := userIDs(t, clean)
	g := newClient(t, sim)
	ctx := context.Background()
	for i := range 20 {
		users, err := g.Users(ctx)
		if err != nil {
			t.Fatalf("list %d: %v", i, err)
		}
		if got := idsOf(users); got != want {
			t.Fatalf("list %d: got users %s, want %s", i, got, want)
		}
	}
	if sim.Counters().Faulted == 0 {
		t.Fatal("the simulator cut no answer: the test proves nothing")
	}
	if st := g.Governor.Stats(); st.CutShort == 0 {
		t.Fatalf("no answer was counted as cut short and asked again: %+v", st)
	}
}

func newClient(t *testing.T, sim *tenantsim.Sim) *graph.Client {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, sim.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	app := sim.BackupApp()
	g, err := graph.New(graph.Config{TenantID: sim.TenantID(), BaseURL: sim.BaseURL(), AuthorityHost: sim.AuthorityHost(), CAFile: ca,
		App: graph.App{ClientID: app.ClientID, ClientSecret: app.ClientSecret}}, graph.GovernorOptions{BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func userIDs(t *testing.T, sim *tenantsim.Sim) string {
	t.Helper()
	users, err := newClient(t, sim).Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return idsOf(users)
}

func idsOf(users []graph.User) string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID + "=" + u.UPN
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}
