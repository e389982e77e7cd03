package agent_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestAgentKeepsDepartedUsers guards the promise that a user removed from
// the tenant keeps their backed-up data in every later restore point,
// marked as departed, and that it can still be restored elsewhere.
func TestAgentKeepsDepartedUsers(t *testing.T) {
	sim, a, _ := newAgent(t, 4, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var leaver, stayer tenantsim.UserInfo
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			if leaver.ID == "" {
				leaver = u
			} else if stayer.ID == "" {
				stayer = u
			}
		}
	}
	_, before, _ := a.Find(ctx, full.Snapshot, catalog.Query{User: leaver.UPN}, 0)
	if _, err := sim.Apply(tenantsim.Scenario{Name: "deprovision-user", User: leaver.ID}); err != nil {
		t.Fatal(err)
	}
	inc, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !containsStr(inc.Departed, leaver.UPN) || inc.Result != "success" {
		t.Fatalf("run after deprovisioning: result %s, departed %v; want %s departed", inc.Result, inc.Departed, leaver.UPN)
	}
	_, after, _ := a.Find(ctx, inc.Snapshot, catalog.Query{User: leaver.UPN}, 0)
	if len(before) == 0 || len(after) != len(before) {
		t.Fatalf("departed user's items: %d before, %d after; want all kept", len(before), len(after))
	}
	third, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, still, _ := a.Find(ctx, third.Snapshot, catalog.Query{User: leaver.UPN}, 0)
	if len(still) != len(before) {
		t.Fatalf("a second run after departure kept %d of %d items", len(still), len(before))
	}
	rep, err := a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: "latest", User: leaver.UPN, Kind: "mail", Folder: "Inbox"},
		TargetUser: stayer.UPN, TargetFolder: "From " + leaver.UPN})
	if err != nil || rep.Restored == 0 || rep.Failed != 0 {
		t.Fatalf("restore of the departed user's Inbox into %s: %v %+v", stayer.UPN, err, rep)
	}
}

// TestAgentSurvivesFaults guards the promise that throttling, 503 bursts,
// dropped connections, truncated bodies and tokens revoked mid-run cost
// time, not data: the run stores exactly what a clean run stores.
func TestAgentSurvivesFaults(t *testing.T) {
	_, clean, _ := newAgent(t, 3, tenantsim.Config{})
	want, err := clean.Backup(context.Background(), agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sim, a, _ := newAgent(t, 3, tenantsim.Config{
		Throttle: tenantsim.Throttle{Mode: tenantsim.ThrottleStrict, Requests: 1 << 20, ResourceUnits: 1 << 20, Concurrent: 2},
		Faults:   tenantsim.Faults{ServerErrorRate: 0.03, ResetRate: 0.01, TruncateRate: 0.01},
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(300 * time.Millisecond)
		sim.ExpireTokens()
	}()
	got, err := a.Backup(context.Background(), agent.BackupRequest{})
	<-done
	if err != nil {
		t.Fatal(err)
	}
	c := sim.Counters()
	t.Logf("faulty run: %d requests, %d throttled by the tenant, %d faulted, %.1fs", c.Total("", 0), c.Throttled, c.Faulted, got.Seconds)
	if got.Result != "success" || got.Items != want.Items || got.FailedItems != 0 {
		t.Fatalf("faulty run: result %s, %d items (%d failed), errors %v; a clean run stored %d items", got.Result, got.Items, got.FailedItems, got.Errors, want.Items)
	}
	if c.Faulted == 0 || c.Total("", 401) == 0 {
		t.Fatalf("the run met no faults (%d) or no revoked token (%d 401s); the test proves nothing", c.Faulted, c.Total("", 401))
	}
}

// TestAgentKilledMidRun guards crash safety end to end: a backup process
// killed with SIGKILL at a random moment leaves no half restore point, and
// the next run completes a full one.
func TestAgentKilledMidRun(t *testing.T) {
	if os.Getenv("STRONGROOM_AGENT_CHILD") != "" {
		t.Skip("child mode")
	}
	sim, a, dir := newAgent(t, 4, tenantsim.Config{Faults: tenantsim.Faults{SlowRate: 0.3, SlowDelay: 20 * time.Millisecond}})
	first, err := a.Backup(context.Background(), agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := sim.Apply(tenantsim.Scenario{Name: "mail-burst", Count: 20}); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for kill := 0; kill < 3; kill++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAgentChildBackup$")
		cmd.Env = append(os.Environ(), "STRONGROOM_AGENT_CHILD="+filepath.Join(dir, "strongroom.yaml"))
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || !strings.HasPrefix(sc.Text(), "STARTED") {
			t.Fatalf("child did not start: %q", sc.Text())
		}
		time.Sleep(time.Duration(r.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	cfg, err := config.Load(filepath.Join(dir, "strongroom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := agent.New(agent.Options{Config: cfg})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer b.Close()
	snaps, err := b.Snapshots(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if s.ID != first.Snapshot && s.Result == "" {
			t.Fatalf("snapshot %s has no result: a half-written run became visible", s.ID)
		}
	}
	next, err := b.Backup(context.Background(), agent.BackupRequest{})
	if err != nil || next.Result != "success" {
		t.Fatalf("clean run after kills: %v %+v", err, next)
	}
	if next.Items < first.Items+20 {
		t.Fatalf("clean run after kills holds %d items; the first had %d and 20+ mails arrived", next.Items, first.Items)
	}
	test, err := b.RestoreTest(context.Background(), 40)
	if err != nil || !test.OK {
		t.Fatalf("restore test after kills: %v %+v", err, test)
	}
	rep, err := b.Vault().Scrub(false)
	if err != nil || !rep.Healthy {
		t.Fatalf("scrub after kills: %v %+v", err, rep)
	}
}

// TestAgentChildBackup is the child process of TestAgentKilledMidRun.
func TestAgentChildBackup(t *testing.T) {
	path := os.Getenv("STRONGROOM_AGENT_CHILD")
	if path == "" {
		t.Skip("runs only as the child of TestAgentKilledMidRun")
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("STARTED")
	rep, err := a.Backup(context.Background(), agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ACK", rep.Snapshot)
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestAuditLockGoesToACompleteRun guards the monthly audit restore point:
// a partial first run of the month gets it (the month may see no better),
// the first complete run after it gets it too, and later runs only the
// rollback retention.
func TestAuditLockGoesToACompleteRun(t *testing.T) {
	sim, a, _ := newAgent(t, 2, tenantsim.Config{})
	d, err := sim.DumpDrive(sim.Users()[0].ID)
	var file string
	for _, it := range d.Items {
		if err == nil && !it.Folder {
			file = it.ID
			break
		}
	}
	if file == "" {
		t.Fatal("the first user has no OneDrive file to corrupt")
	}
	if err := sim.SetFaults(tenantsim.Faults{CorruptContent: map[string]int{file: -1}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	years := func(r *agent.BackupReport) float64 { return r.RetainUntil.Sub(r.Started).Hours() / 24 / 365 }
	partial, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil || partial.Result != agent.RunPartial {
		t.Fatalf("run with a corrupted file: %v %s", err, partial.Result)
	}
	if err := sim.SetFaults(tenantsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	complete, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil || complete.Result != agent.RunSuccess {
		t.Fatalf("clean run: %v %s", err, complete.Result)
	}
	later, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if years(partial) < 1 || years(complete) < 1 || years(later) > 1 {
		t.Fatalf("retention: partial first run %.2f years, first complete %.2f, later %.2f; want audit, audit, rollback", years(partial), years(complete), years(later))
	}
}
