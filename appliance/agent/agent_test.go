package agent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/vault"
)

// newAgent starts a simulated tenant, a vault on four real disk
// directories, and an agent configured from a real configuration file.
func newAgent(t testing.TB, users int, simCfg tenantsim.Config) (*tenantsim.Sim, *agent.Agent, string) {
	t.Helper()
	simCfg.Users, simCfg.Seed = users, 11
	sim := tenantsim.NewTest(t, simCfg)
	dir := t.TempDir()
	t.Cleanup(func() { immutable.ClearTree(dir) }) // sealed by a warden
	var disks []string
	for i := 0; i < 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("disk%d", i))
		os.MkdirAll(d, 0o755)
		disks = append(disks, d)
	}
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "recovery.key"), []byte(res.RecoveryKey.String()+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "ca.pem"), sim.CAPEM(), 0o644)
	cfgText := fmt.Sprintf(`tenant_id: %s
graph_base_url: %s
authority_host: %s
ca_file: ca.pem
backup_app: {client_id: %s, client_secret: %s}
restore_app: {client_id: %s, client_secret: %s}
vault: {disks: [%s], key_file: recovery.key}
workers: 4
resource_units_per_minute: -1
api_socket: agent.sock
`, sim.TenantID(), sim.BaseURL(), sim.AuthorityHost(), sim.BackupApp().ClientID, sim.BackupApp().ClientSecret,
		sim.RestoreApp().ClientID, sim.RestoreApp().ClientSecret, strings.Join(disks, ", "))
	cfgPath := filepath.Join(dir, "strongroom.yaml")
	os.WriteFile(cfgPath, []byte(cfgText), 0o600)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return sim, a, dir
}

// TestAgentDeleteIncrementalRestore guards the product's main promise: a
// folder deleted in the tenant after a backup comes back from the earlier
// restore point byte for byte, and an incremental run downloads only what
// changed.
func TestAgentDeleteIncrementalRestore(t *testing.T) {
	sim, a, dir := newAgent(t, 4, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if full.Result != "success" || full.Protected == 0 || full.NewItems == 0 {
		t.Fatalf("full backup: %+v", full)
	}
	var victim tenantsim.UserInfo
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			victim = u
			break
		}
	}
	before, err := sim.DumpMailbox(victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	var contracts [][]byte
	for _, m := range before.Messages {
		if strings.HasPrefix(m.FolderPath, "Inbox/Signed Contracts") {
			contracts = append(contracts, m.MIME)
		}
	}
	if len(contracts) == 0 {
		t.Fatal("the simulated mailbox has no Signed Contracts mail to delete")
	}
	if _, err := sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: victim.ID, Folder: "Inbox/Signed Contracts"}); err != nil {
		t.Fatal(err)
	}
	burst, err := sim.Apply(tenantsim.Scenario{Name: "mail-burst", Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if inc.NewItems != burst.ItemsCreated {
		t.Fatalf("incremental stored %d new items; want %d (the burst)", inc.NewItems, burst.ItemsCreated)
	}
	_, gone, err := a.Find(ctx, inc.Snapshot, catalog.Query{User: victim.UPN, Folder: "Inbox/Signed Contracts"}, 0)
	if err != nil || len(gone) != 0 {
		t.Fatalf("the incremental snapshot still shows %d items of the deleted folder (%v)", len(gone), err)
	}
	_, kept, err := a.Find(ctx, full.Snapshot, catalog.Query{User: victim.UPN, Folder: "Inbox/Signed Contracts", Kind: "message"}, 0)
	if err != nil || len(kept) != len(contracts) {
		t.Fatalf("the earlier snapshot shows %d items of the folder, want %d (%v)", len(kept), len(contracts), err)
	}
	// Without a target folder the folder goes back to where it was, and
	// the report names the mailbox by its UPN.
	rep, err := a.Restore(ctx, agent.RestoreRequest{
		Selection: agent.Selection{Snapshot: full.Snapshot, User: victim.UPN, Folder: "Inbox/Signed Contracts"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Restored != len(contracts) || rep.Failed != 0 || rep.TargetUser != victim.UPN || rep.TargetFolder != "" {
		t.Fatalf("restored %d (failed %d) of %d contracts into %q of %s; want all, to their place in %s",
			rep.Restored, rep.Failed, len(contracts), rep.TargetFolder, rep.TargetUser, victim.UPN)
	}
	after, err := sim.DumpMailbox(victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	var restored [][]byte
	for _, m := range after.Messages {
		if m.FolderPath == "Inbox/Signed Contracts" || strings.HasPrefix(m.FolderPath, "Inbox/Signed Contracts/") {
			restored = append(restored, m.MIME)
		}
	}
	sortBytes(contracts)
	sortBytes(restored)
	if len(restored) != len(contracts) {
		t.Fatalf("mailbox holds %d restored messages, want %d", len(restored), len(contracts))
	}
	for i := range contracts {
		if !bytes.Equal(contracts[i], restored[i]) {
			t.Fatalf("restored message %d differs from the original MIME", i)
		}
	}
	exp, err := a.Export(ctx, agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: victim.UPN, Folder: "Inbox/Signed Contracts"},
		Format: "mbox", Dest: filepath.Join(dir, "export")})
	if err != nil || exp.Items != len(contracts) {
		t.Fatalf("export: %v, %+v", err, exp)
	}
	test, err := a.RestoreTest(ctx, 20)
	if err != nil || !test.OK || test.Items == 0 {
		t.Fatalf("restore test: %v %+v", err, test)
	}
	st, err := a.Status(ctx)
	if err != nil || st.LastSuccess == nil || st.LastSuccess.ID != inc.Snapshot {
		t.Fatalf("status: %v %+v", err, st)
	}

	// The same answers over the agent's unix socket, as the CLI and the
	// console get them while the daemon runs.
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go api.Serve(l, api.NewLocal(a), api.Operators(os.Getuid()))
	defer l.Close()
	remote, err := api.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := remote.Snapshots(ctx)
	if err != nil || len(snaps) != 2 || snaps[0].ID != full.Snapshot {
		t.Fatalf("remote snapshots: %v %+v", err, snaps)
	}
	rep2, err := remote.Report(ctx, time.Time{})
	if err != nil || len(rep2.Backups) != 2 || rep2.Successful != 2 || len(rep2.RestoreTests) != 1 || rep2.RestoreTestsOK != 1 {
		t.Fatalf("remote report: %v %+v", err, rep2)
	}
	_, nodes, err := remote.List(ctx, full.Snapshot, victim.UPN+"/Mail/Inbox")
	if err != nil || len(nodes) == 0 {
		t.Fatalf("remote ls: %v %+v", err, nodes)
	}
	if _, err := remote.Restore(ctx, api.RestoreRequest{Selection: api.Selection{Snapshot: "nope"}}); err == nil {
		t.Fatal("remote restore of a missing snapshot succeeded")
	}
	err = remote.DeleteSnapshot(ctx, full.Snapshot)
	var re *api.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "retention-locked until") || re.Remedy == "" {
		t.Fatalf("deleting a locked snapshot over the socket: %v; want the retention-lock refusal with a remedy", err)
	}
}

func sortBytes(b [][]byte) {
	sort.Slice(b, func(i, j int) bool { return bytes.Compare(b[i], b[j]) < 0 })
}
