package graph_test

import (
	"context"
	"os"
	"path/filepath"
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
