// Package workloadtest is what workload tests share: a simulated tenant,
// the backup and restore apps' clients through the real SDK over HTTPS,
// and a vault on temporary disks to back up into.
package workloadtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/vault"
)

// Env is a tenant and a vault for one test.
type Env struct {
	T       *testing.T
	Sim     *tenantsim.Sim
	Backup  *graph.Client // the backup app: read-only
	Restore *graph.Client // the restore app
	V       *vault.Vault
	// User is the first licensed, enabled user.
	User workloads.Unit
}

// New starts a simulated tenant and opens a vault on three temporary
// disks with small segments and chunks.
func New(t *testing.T, cfg tenantsim.Config) *Env {
	t.Helper()
	s := tenantsim.NewTest(t, cfg)
	e := &Env{T: t, Sim: s}
	e.Backup = Client(t, s, s.BackupApp())
	e.Restore = Client(t, s, s.RestoreApp())
	var disks []string
	for _, n := range []string{"a", "b", "c"} {
		d := filepath.Join(t.TempDir(), "disk"+n)
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(vault.Options{Disks: disks, Key: res.RecoveryKey, SegmentSize: 4 << 20,
		Chunking: chunk.Params{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	e.V = v
	for _, u := range s.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			e.User = workloads.Unit{ID: u.ID, Name: u.UPN, DisplayName: u.Name, OwnerID: u.ID}
			break
		}
	}
	return e
}

// Client is a Graph client of app against the simulated tenant, with
// short back-offs.
func Client(t *testing.T, s *tenantsim.Sim, app tenantsim.App) *graph.Client {
	t.Helper()
	return ClientWith(t, s, app, graph.GovernorOptions{})
}

// ClientWith is Client with the governor's options o (its back-offs
// short unless o sets them).
func ClientWith(t *testing.T, s *tenantsim.Sim, app tenantsim.App, o graph.GovernorOptions) *graph.Client {
	t.Helper()
	if o.BaseBackoff == 0 {
		o.BaseBackoff = 20 * time.Millisecond
	}
	if o.MaxWait == 0 {
		o.MaxWait = 2 * time.Second
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := graph.New(graph.Config{TenantID: s.TenantID(), BaseURL: s.BaseURL(), AuthorityHost: s.AuthorityHost(), CAFile: ca,
		App: graph.App{ClientID: app.ClientID, ClientSecret: app.ClientSecret}, Timeout: 30 * time.Second}, o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Read returns an item's stored content.
func (e *Env) Read(it vault.Item) ([]byte, error) {
	var buf bytes.Buffer
	err := e.V.WriteItem(&buf, it)
	return buf.Bytes(), err
}

// Items lists a snapshot's items (none for nil).
func (e *Env) Items(s *vault.Snapshot) []vault.Item {
	e.T.Helper()
	if s == nil {
		return nil
	}
	items, err := e.V.Items(*s)
	if err != nil {
		e.T.Fatal(err)
	}
	return items
}

// Previous is s as the previous state of a backup (nil: a first one).
func (e *Env) Previous(s *vault.Snapshot) workloads.Previous {
	return workloads.NewItemsPrevious(e.Items(s), e.Read)
}

// Run writes one snapshot with backup, on top of prev, and commits it;
// a backup error fails the test.
func (e *Env) Run(prev *vault.Snapshot, backup func(ctx context.Context, sink workloads.Sink, p workloads.Previous) (workloads.Result, error)) (workloads.Result, vault.Snapshot) {
	e.T.Helper()
	w, err := e.V.NewWriter("workload-test", nil)
	if err != nil {
		e.T.Fatal(err)
	}
	res, err := backup(context.Background(), w, e.Previous(prev))
	if err != nil {
		w.Abort()
		e.T.Fatalf("backup: %v (%+v)", err, res)
	}
	s, err := w.Commit(time.Time{})
	if err != nil {
		e.T.Fatal(err)
	}
	return res, s
}
