package groups_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/groups"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

func backupAll(t *testing.T, e *workloadtest.Env) func(context.Context, workloads.Sink, workloads.Previous) (workloads.Result, error) {
	return func(ctx context.Context, sink workloads.Sink, p workloads.Previous) (workloads.Result, error) {
		w := groups.Workload{}
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
				t.Errorf("group %s: %d failed: %v", u.Name, res.Failed, res.Errors)
			}
			sum.Add(res)
		}
		return sum, nil
	}
}

// posts counts the stored posts of every group by mail address, and the
// stored attachments that carry content.
func posts(t *testing.T, e *workloadtest.Env, s vault.Snapshot) (map[string]int, int) {
	t.Helper()
	n, atts := map[string]int{}, 0
	for _, it := range e.Items(&s) {
		if it.Meta[catalog.MetaKind] != catalog.KindGroupThread {
			continue
		}
		b, err := e.Read(it)
		if err != nil {
			t.Fatal(err)
		}
		var th groups.Thread
		if err := json.Unmarshal(b, &th); err != nil {
			t.Fatal(err)
		}
		n[it.Meta[catalog.MetaUser]] += len(th.Posts)
		for _, p := range th.Posts {
			for _, a := range p.Attachments {
				var fa struct{ ContentBytes string }
				if json.Unmarshal(a, &fa) == nil {
					if raw, err := base64.StdEncoding.DecodeString(fa.ContentBytes); err == nil && len(raw) > 1000 {
						atts++
					}
				}
			}
		}
	}
	return n, atts
}

// TestGroupsBackup backs up every Microsoft 365 group, checks each
// group's posts against the tenant, carries everything when nothing
// changed, reads only the thread that got a post, and reports a deleted
// group as gone.
func TestGroupsBackup(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 8})
	all := backupAll(t, e)
	full, snap := e.Run(nil, all)
	t.Logf("full: %+v", full)
	check := func(s vault.Snapshot) {
		t.Helper()
		got, atts := posts(t, e, s)
		for _, g := range e.Sim.Teams() {
			if got[g.Mail] != g.Posts || g.Posts == 0 {
				t.Errorf("group %s: %d posts stored, %d in the tenant", g.Name, got[g.Mail], g.Posts)
			}
		}
		if atts == 0 {
			t.Error("no post attachment stored with its content")
		}
	}
	check(snap)
	if full.NewItems != full.Items || full.NewItems == 0 {
		t.Fatalf("full: %+v", full)
	}
	inc, snap := e.Run(&snap, all)
	if inc.NewItems != 0 || inc.CarriedItems != full.Items {
		t.Fatalf("unchanged groups: %+v after %+v", inc, full)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "post-to-group", Count: 2}); err != nil {
		t.Fatal(err)
	}
	inc, snap = e.Run(&snap, all)
	if inc.NewItems != 1 {
		t.Fatalf("after two posts to one thread: %+v", inc)
	}
	check(snap)

	units, err := groups.Workload{}.Discover(context.Background(), workloads.Tenant{Graph: e.Backup})
	if err != nil || len(units) < 3 {
		t.Fatalf("discover: %v, %d groups", err, len(units))
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-team", Site: units[0].ID}); err != nil {
		t.Fatal(err)
	}
	w, err := e.V.NewWriter("gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	r, err := groups.Workload{}.Backup(context.Background(), e.Backup, w, e.Previous(&snap), units[0])
	if !errors.Is(err, workloads.ErrUnitGone) || r.Written != 0 {
		t.Fatalf("deleted group: %v, %d written", err, r.Written)
	}
}

// TestGroupsRestoreThreads posts a backed-up thread back into its group:
// a new thread "Restored: <topic>" with every post in order, each naming
// its original author and keeping its text and attachments.
func TestGroupsRestoreThreads(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 10})
	_, snap := e.Run(nil, backupAll(t, e))
	g := e.Sim.Teams()[0]
	before, err := e.Sim.DumpGroupThreads(g.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sel []vault.Item
	for _, it := range e.Items(&snap) {
		if it.Meta[catalog.MetaKind] == catalog.KindGroupThread && it.Meta[catalog.MetaUserID] == g.ID && it.Meta[catalog.MetaSubject] == before[0].Topic {
			sel = append(sel, it)
		}
	}
	res, err := groups.Workload{}.Restore(context.Background(), e.Restore, e.V, sel, workloads.RestoreOptions{TargetUserID: g.Mail})
	if err != nil || res.Failed != 0 || res.Restored != len(before[0].Posts) || len(sel) != 1 {
		t.Fatalf("restore %d threads: %v %+v, want %d posts", len(sel), err, res, len(before[0].Posts))
	}
	after, err := e.Sim.DumpGroupThreads(g.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := after[len(after)-1]
	if got.Topic != "Restored: "+before[0].Topic || len(got.Posts) != len(before[0].Posts) {
		t.Fatalf("restored thread %q with %d posts, want %q with %d", got.Topic, len(got.Posts), "Restored: "+before[0].Topic, len(before[0].Posts))
	}
	for i, want := range before[0].Posts {
		p := got.Posts[i]
		if !strings.Contains(html.UnescapeString(p.Body), want.Body) || !strings.Contains(p.Body, want.From) || strings.Join(p.Attachments, ",") != strings.Join(want.Attachments, ",") {
			t.Errorf("post %d: %q with %v, want the text %q, the author %s and %v", i, p.Body, p.Attachments, want.Body, want.From, want.Attachments)
		}
	}
}
