package agent_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// TestAgentBackupUnderEachFault guards that every kind of transient
// failure Graph can throw at a run is ridden out: a backup of a 15-user
// tenant under each fault alone (5 % of answers cut short, dropped
// connections, 503/504 bursts, slow answers, every token revoked mid-run,
// strict throttling) ends with exactly the items, paths and sizes of a
// clean run of the same tenant, nothing failed, nothing carried over.
func TestAgentBackupUnderEachFault(t *testing.T) {
	if testing.Short() {
		t.Skip("seven full backups")
	}
	const users = 15
	_, clean, _ := newAgent(t, users, tenantsim.Config{})
	want := backupItems(t, clean)
	kinds := []struct {
		name   string
		cfg    tenantsim.Config
		expire bool
	}{
		{name: "truncate 5%", cfg: tenantsim.Config{Faults: tenantsim.Faults{TruncateRate: 0.05}}},
		{name: "reset 3%", cfg: tenantsim.Config{Faults: tenantsim.Faults{ResetRate: 0.03}}},
		{name: "503 bursts", cfg: tenantsim.Config{Faults: tenantsim.Faults{ServerErrorRate: 0.005, ServerErrorBurst: 4}}},
		{name: "slow", cfg: tenantsim.Config{Faults: tenantsim.Faults{SlowRate: 0.1, SlowDelay: 30 * time.Millisecond}}},
		{name: "token expiry", expire: true},
		{name: "strict throttling", cfg: tenantsim.Config{Throttle: tenantsim.Throttle{Mode: tenantsim.ThrottleStrict,
			Requests: 1 << 20, ResourceUnits: 1 << 20, Concurrent: 2}}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			sim, a, _ := newAgent(t, users, k.cfg)
			if k.expire {
				// Revoke every token once the run is under way: each
				// request after that gets a 401 until the agent signs in
				// again.
				stop := expireOnce(sim, 300)
				defer stop()
			}
			got := backupItems(t, a)
			c := sim.Counters()
			t.Logf("%d requests, %d faulted, %d slowed, %d throttled, %d answered 401", c.Total("", 0), c.Faulted, c.Slowed, c.Throttled, c.Total("", 401))
			if missing, extra := diffItems(want, got); len(missing)+len(extra) > 0 {
				t.Fatalf("%d items missing (first %q), %d extra (first %q) against a clean run of %d",
					len(missing), first(missing), len(extra), first(extra), len(want))
			}
			if c.Faulted+c.Slowed+c.Throttled+c.Total("", 401) == 0 {
				t.Fatal("the run met no fault: the test proves nothing")
			}
		})
	}
}

// backupItems runs a backup that must succeed with nothing failed or
// carried over, and returns its items as "view size" lines.
func backupItems(t *testing.T, a *agent.Agent) map[string]bool {
	t.Helper()
	ctx := context.Background()
	rep, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Result != "success" || rep.FailedItems != 0 || len(rep.Errors) > 0 {
		t.Fatalf("result %s, %d items (%d failed), errors %v", rep.Result, rep.Items, rep.FailedItems, rep.Errors)
	}
	_, entries, err := a.Find(ctx, rep.Snapshot, catalog.Query{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	items := make(map[string]bool, len(entries))
	for _, e := range entries {
		items[fmt.Sprintf("%s %d", e.View, e.Size)] = true
	}
	return items
}

func diffItems(want, got map[string]bool) (missing, extra []string) {
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// expireOnce revokes the simulator's tokens once it has answered after
// requests, and returns a func that stops watching.
func expireOnce(sim *tenantsim.Sim, after int64) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if sim.Counters().Total("", 0) >= after {
					sim.ExpireTokens()
					return
				}
			}
		}
	}()
	return func() { close(done) }
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
