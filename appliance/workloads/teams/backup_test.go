package teams_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

// backupAll backs up every team Discover finds, failing the test on any
// failed item.
func backupAll(t *testing.T, e *workloadtest.Env) func(context.Context, workloads.Sink, workloads.Previous) (workloads.Result, error) {
	return func(ctx context.Context, sink workloads.Sink, p workloads.Previous) (workloads.Result, error) {
		w := teams.Workload{}
		units, err := w.Discover(ctx, workloads.Tenant{Graph: e.Backup})
		if err != nil {
			return workloads.Result{}, err
		}
		var sum workloads.Result
		for _, u := range units {
			res, err := w.Backup(ctx, e.Backup, sink, p, u)
			if err != nil {
				return sum, err
			}
			if res.Failed != 0 {
				t.Errorf("team %s: %d failed: %v", u.Name, res.Failed, res.Errors)
			}
			sum.Add(res)
			sum.Resynced = append(sum.Resynced, res.Resynced...)
		}
		return sum, nil
	}
}

// stored is a snapshot's threads by channel name and message id.
type stored map[string]map[string]vault.Item

func threadsOf(e *workloadtest.Env, s vault.Snapshot) stored {
	out := stored{}
	for _, it := range e.Items(&s) {
		if it.Meta[catalog.MetaKind] != catalog.KindChannelMessage {
			continue
		}
		ch := it.Meta[catalog.MetaUser] + "/" + it.Meta[catalog.MetaFolder]
		if out[ch] == nil {
			out[ch] = map[string]vault.Item{}
		}
		out[ch][it.Meta[catalog.MetaItemID]] = it
	}
	return out
}

func readThread(t *testing.T, e *workloadtest.Env, it vault.Item) teams.Thread {
	t.Helper()
	b, err := e.Read(it)
	if err != nil {
		t.Fatal(err)
	}
	var th teams.Thread
	if err := json.Unmarshal(b, &th); err != nil {
		t.Fatalf("thread %s: %v", it.Path, err)
	}
	return th
}

func bodyOf(t *testing.T, raw json.RawMessage) string {
	var m struct {
		Body struct{ Content string } `json:"body"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return teams.PlainText(m.Body.Content)
}

// checkChannels compares every channel of every team with the tenant's
// ground truth: each message that is not deleted is stored with its text
// and its replies, and each hosted content it references is stored.
func checkChannels(t *testing.T, e *workloadtest.Env, s vault.Snapshot) {
	t.Helper()
	got := threadsOf(e, s)
	hosted := map[string]bool{}
	for _, it := range e.Items(&s) {
		if it.Meta[catalog.MetaKind] == catalog.KindHostedContent && it.Size > 0 {
			hosted[it.Path] = true
		}
	}
	for _, tm := range e.Sim.Teams() {
		for _, name := range tm.Channels {
			d, err := e.Sim.DumpChannel(tm.ID, name)
			if err != nil {
				t.Fatal(err)
			}
			threads := got[tm.Mail+"/"+name]
			for _, m := range d.Messages {
				it, ok := threads[m.ID]
				if !ok {
					t.Fatalf("%s/%s: message %s not in the snapshot", tm.Name, name, m.ID)
				}
				if m.Deleted {
					continue
				}
				th := readThread(t, e, it)
				if b := bodyOf(t, th.Message); !strings.Contains(b, m.Body) {
					t.Errorf("%s/%s: message %s holds %q, the tenant %q", tm.Name, name, m.ID, b, m.Body)
				}
				if len(th.Replies) != len(m.Replies) {
					t.Errorf("%s/%s: message %s has %d replies stored, %d in the tenant", tm.Name, name, m.ID, len(th.Replies), len(m.Replies))
				}
				for _, h := range th.Hosted {
					if !hosted[h.Path] {
						t.Errorf("%s/%s: hosted content %s of message %s not stored", tm.Name, name, h.ID, m.ID)
					}
				}
			}
		}
	}
}

// TestTeamsBackup backs up every team in full, then after nothing
// changed, then after each kind of change a team sees, and checks the
// snapshot against the tenant each time: only what changed is read
// again, a deleted message keeps what it said, a deleted channel is gone
// from the new snapshot, a new team is picked up.
func TestTeamsBackup(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 5})
	all := backupAll(t, e)
	full, snap := e.Run(nil, all)
	t.Logf("full: %+v", full)
	if full.NewItems == 0 || full.NewItems != full.Items || full.Bytes == 0 || full.Collections < 5 {
		t.Fatalf("full backup: %+v", full)
	}
	checkChannels(t, e, snap)
	inc, snap := e.Run(&snap, all)
	if inc.NewItems != 0 || inc.CarriedItems != full.Items || inc.Bytes != 0 {
		t.Fatalf("unchanged teams: %+v after %+v", inc, full)
	}

	for _, step := range []struct {
		sc       tenantsim.Scenario
		newItems int
	}{
		{tenantsim.Scenario{Name: "post-channel-messages", Count: 2}, 2},
		{tenantsim.Scenario{Name: "reply-channel-messages", Folder: "Partner – Fabrikam"}, 1},
		{tenantsim.Scenario{Name: "edit-channel-messages", Count: 2}, 2},
		{tenantsim.Scenario{Name: "create-team", Site: "Vertrieb Nord"}, 2},
	} {
		if _, err := e.Sim.Apply(step.sc); err != nil {
			t.Fatal(err)
		}
		var res workloads.Result
		res, snap = e.Run(&snap, all)
		if res.NewItems != step.newItems || res.Bytes != 0 {
			t.Fatalf("after %s: %d threads stored, want %d (%+v)", step.sc.Name, res.NewItems, step.newItems, res)
		}
		checkChannels(t, e, snap)
	}
}

// TestTeamsBackupDeletions guards what deletions do: a message deleted
// in Teams stays in the backup as it was, marked deleted; a deleted
// channel's threads leave the new snapshot and count as removed; a
// deleted team is gone.
func TestTeamsBackupDeletions(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 6})
	all := backupAll(t, e)
	_, first := e.Run(nil, all)
	res, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-channel-messages"})
	if err != nil {
		t.Fatal(err)
	}
	deletedID := res.IDs[0]
	inc, snap := e.Run(&first, all)
	if inc.NewItems != 0 {
		t.Fatalf("a deleted message stored anew: %+v", inc)
	}
	var before, after vault.Item
	for _, ch := range threadsOf(e, first) {
		if it, ok := ch[deletedID]; ok {
			before = it
		}
	}
	for _, ch := range threadsOf(e, snap) {
		if it, ok := ch[deletedID]; ok {
			after = it
		}
	}
	if after.Meta[catalog.MetaDeleted] == "" || after.Hash != before.Hash || before.Size == 0 {
		t.Fatalf("deleted message %s: kept %d bytes with meta %v, before %d bytes", deletedID, after.Size, after.Meta, before.Size)
	}

	general := len(threadsOf(e, snap)["finance@contoso-sim.onmicrosoft.com/Projekt Ω – Planung"])
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-channel", Folder: "Projekt Ω – Planung"}); err != nil {
		t.Fatal(err)
	}
	inc, snap = e.Run(&snap, all)
	if general == 0 || inc.RemovedItems != general || len(threadsOf(e, snap)["finance@contoso-sim.onmicrosoft.com/Projekt Ω – Planung"]) != 0 {
		t.Fatalf("deleted channel with %d threads: %+v", general, inc)
	}

	w := teams.Workload{}
	units, err := w.Discover(context.Background(), workloads.Tenant{Graph: e.Backup})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-team", Site: units[0].ID}); err != nil {
		t.Fatal(err)
	}
	w2, err := e.V.NewWriter("gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Abort()
	r, err := w.Backup(context.Background(), e.Backup, w2, e.Previous(&snap), units[0])
	if !errors.Is(err, workloads.ErrUnitGone) || r.Written != 0 {
		t.Fatalf("deleted team: %v, %d written", err, r.Written)
	}
}

// TestTeamsBackupResync guards the 410 path: once Graph refuses every
// channel's deltaLink, each channel is enumerated again, named in
// Resynced, and nothing unchanged is stored anew.
func TestTeamsBackupResync(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 7})
	all := backupAll(t, e)
	full, snap := e.Run(nil, all)
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "expire-delta-tokens"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "edit-channel-messages"}); err != nil {
		t.Fatal(err)
	}
	res, snap := e.Run(&snap, all)
	if len(res.Resynced) != full.Collections || res.NewItems != 1 || res.Bytes != 0 {
		t.Fatalf("after expired delta tokens: %+v (full %d channels)", res, full.Collections)
	}
	checkChannels(t, e, snap)
	again, _ := e.Run(&snap, all)
	if len(again.Resynced) != 0 || again.NewItems != 0 {
		t.Fatalf("after a resync the deltaLinks are not used: %+v", again)
	}
}

// TestTeamsBackupThrottled guards Teams' request limit: against a tenant
// that allows 20 Teams requests a second, a backup paced to that rate by
// the governor meets no 429, and one that is not paced meets them, waits
// them out and still completes.
func TestTeamsBackupThrottled(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pace      int
		throttled bool
	}{
		{"paced", 20, false},
		{"unpaced", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 5, Throttle: tenantsim.Throttle{Mode: tenantsim.ThrottleRealistic, TeamsPerSecond: 20}})
			e.Backup = workloadtest.ClientWith(t, e.Sim, e.Sim.BackupApp(), graph.GovernorOptions{TeamsPerSecond: tc.pace, MaxWait: 3 * time.Second})
			full, _ := e.Run(nil, backupAll(t, e))
			c := e.Sim.Counters()
			if full.Failed != 0 || full.NewItems == 0 || (c.Throttled > 0) != tc.throttled {
				t.Fatalf("%s: %d requests answered 429 (%+v)", tc.name, c.Throttled, full)
			}
			t.Logf("%s: %d Graph requests, %d throttled, waited %s for turns", tc.name, full.Requests, c.Throttled, e.Backup.Governor.Stats().TeamsWait)
		})
	}
}

// TestTeamsBackupNamesMissingPermission guards the message an operator
// meets when the backup app lacks a Teams permission: the team fails as
// a whole, nothing is written, and the permission to grant is named.
func TestTeamsBackupNamesMissingPermission(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 5})
	units, err := teams.Workload{}.Discover(context.Background(), workloads.Tenant{Graph: e.Backup})
	if err != nil || len(units) == 0 {
		t.Fatalf("discover: %v", err)
	}
	// The restore app has Group.ReadWrite.All but no TeamMember permission.
	w, err := e.V.NewWriter("refused", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	res, err := teams.Workload{}.Backup(context.Background(), e.Restore, w, nil, units[0])
	if err == nil || !strings.Contains(err.Error(), "grant the backup app the application permission TeamMember.Read.All") || res.Written != 0 {
		t.Fatalf("backup without TeamMember.Read.All: %v, %d written", err, res.Written)
	}
}
