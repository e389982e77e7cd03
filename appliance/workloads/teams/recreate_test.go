package teams_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

// teamItems are a team's restorable items: what a restore of the whole
// team (--user its mail, no --folder) selects.
func teamItems(items []vault.Item, teamID string) []vault.Item {
	var out []vault.Item
	for _, it := range items {
		switch it.Meta[catalog.MetaKind] {
		case catalog.KindTeam, catalog.KindChannelMessage, catalog.KindHostedContent:
			if it.Meta[catalog.MetaUserID] == teamID {
				out = append(out, it)
			}
		}
	}
	return out
}

// TestTeamsRecreateDeletedTeam deletes a team (its group with it),
// restores the whole team and compares the team that Graph's import path
// created again with the tenant's record from before the deletion: its
// name, description and settings, its members and owners, every channel
// with its membership type, and every message and reply in order with
// its author, time and text; nothing is left in migration mode.
func TestTeamsRecreateDeletedTeam(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 9, ExtraRestoreRoles: []string{"TeamMember.ReadWrite.All"}})
	_, snap := e.Run(nil, backupAll(t, e))
	team := e.Sim.Teams()[0]
	want, err := e.Sim.DumpTeam(team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Channels) < 2 || len(want.Members) < 2 {
		t.Fatalf("the team lacks channels or members to test with: %+v", want)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-team", Site: team.ID}); err != nil {
		t.Fatal(err)
	}
	res, err := teams.Workload{}.Restore(context.Background(), e.Restore, e.V, teamItems(e.Items(&snap), team.ID), workloads.RestoreOptions{})
	if err != nil || res.Failed != 0 || res.Restored == 0 {
		t.Fatalf("restore of the deleted team: %v %+v", err, res)
	}
	got, err := e.Sim.DumpTeam(team.Name)
	if err != nil {
		t.Fatalf("the team was not created again: %v", err)
	}
	if got.ID == want.ID || got.Migrating {
		t.Errorf("new team %s (the deleted one was %s), still in migration: %v", got.ID, want.ID, got.Migrating)
	}
	if got.Name != want.Name || got.Description != want.Description || !reflect.DeepEqual(got.Settings, want.Settings) {
		t.Errorf("team %q %q %v, want %q %q %v", got.Name, got.Description, got.Settings, want.Name, want.Description, want.Settings)
	}
	if !reflect.DeepEqual(got.Members, want.Members) {
		t.Errorf("members %q, want %q", got.Members, want.Members)
	}
	if len(got.Channels) != len(want.Channels) {
		t.Fatalf("%d channels, the team had %d", len(got.Channels), len(want.Channels))
	}
	byName := map[string]tenantsim.ChannelDump{}
	for _, c := range got.Channels {
		byName[c.Name] = c
	}
	for _, w := range want.Channels {
		g, ok := byName[w.Name]
		if !ok || g.MembershipType != w.MembershipType {
			t.Errorf("channel %s (%s): restored as %+v", w.Name, w.MembershipType, g.MembershipType)
			continue
		}
		sameThreads(t, w.Name, w.Messages, g.Messages)
	}

	// Again: the team of that name is there now; only copy makes another.
	sel := teamItems(e.Items(&snap), team.ID)
	_, err = teams.Workload{}.Restore(context.Background(), e.Restore, e.V, sel, workloads.RestoreOptions{})
	if err == nil || !strings.Contains(err.Error(), "--collision copy") || !strings.Contains(err.Error(), "--target-user") {
		t.Fatalf("a second restore of the deleted team: %v, want a refusal naming --target-user and --collision copy", err)
	}
	res, err = teams.Workload{}.Restore(context.Background(), e.Restore, e.V, sel, workloads.RestoreOptions{Collision: workloads.CollisionCopy})
	if err != nil || res.Failed != 0 {
		t.Fatalf("a second restore with copy: %v %+v", err, res)
	}
	n := 0
	for _, tm := range e.Sim.Teams() {
		if tm.Name == team.Name {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d teams named %q after a restore with copy, want 2", n, team.Name)
	}
}

// sameThreads compares restored threads with the original ones, oldest
// first; messages deleted before the backup are not restored.
func sameThreads(t *testing.T, channel string, want, got []tenantsim.ChannelMessageDump) {
	t.Helper()
	var live []tenantsim.ChannelMessageDump
	for _, m := range want {
		if !m.Deleted {
			live = append(live, m)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].Created.Before(live[j].Created) })
	if len(got) != len(live) {
		t.Errorf("channel %s: %d threads restored, %d before", channel, len(got), len(live))
		return
	}
	for i, w := range live {
		same(t, "message", w, got[i])
		if len(got[i].Replies) != len(w.Replies) {
			t.Errorf("channel %s message %s: %d replies restored, %d before", channel, w.ID, len(got[i].Replies), len(w.Replies))
			continue
		}
		for j := range w.Replies {
			same(t, "reply", w.Replies[j], got[i].Replies[j])
		}
	}
}

// TestTeamsRecreateNamesMemberPermission guards what a restore app
// without TeamMember.ReadWrite.All meets: the team and its channels come
// back, each member is counted failed with the permission to grant named.
func TestTeamsRecreateNamesMemberPermission(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 9})
	_, snap := e.Run(nil, backupAll(t, e))
	team := e.Sim.Teams()[0]
	want, err := e.Sim.DumpTeam(team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-team", Site: team.ID}); err != nil {
		t.Fatal(err)
	}
	res, err := teams.Workload{}.Restore(context.Background(), e.Restore, e.V, teamItems(e.Items(&snap), team.ID), workloads.RestoreOptions{})
	if err != nil || res.Failed != len(want.Members) || !strings.Contains(strings.Join(res.Errors, "\n"), "TeamMember.ReadWrite.All") {
		t.Fatalf("restore without TeamMember.ReadWrite.All: %v %+v, want %d members failed naming the permission", err, res, len(want.Members))
	}
	if got, err := e.Sim.DumpTeam(team.Name); err != nil || len(got.Channels) != len(want.Channels) || got.Migrating {
		t.Fatalf("the team created again: %v %+v", err, got)
	}
}

// TestTeamsRestoreTimeWindow restores a channel's messages of a time
// window that begins between a message and its reply: the restored
// channel holds exactly the threads with a message or a reply in the
// window, each with its message and only the replies in the window, in
// order with their authors and times; a window holding nothing is
// refused with a message saying so.
func TestTeamsRestoreTimeWindow(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 9})
	_, snap := e.Run(nil, backupAll(t, e))
	team := e.Sim.Teams()[0]
	all, err := e.Sim.DumpChannel(team.ID, "General")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []tenantsim.ChannelMessageDump
	for _, m := range all.Messages {
		if !m.Deleted {
			msgs = append(msgs, m)
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Created.Before(msgs[j].Created) })
	// The window opens just after the first message that has a reply
	// (its reply is in, it is not) and closes at a later message (out).
	first := -1
	for i, m := range msgs {
		if len(m.Replies) > 0 && i+2 < len(msgs) && first < 0 {
			first = i
		}
	}
	if first < 0 {
		t.Fatalf("no thread with a reply and two later ones: %+v", msgs)
	}
	from, to := msgs[first].Created.Add(time.Second), msgs[first+2].Created
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	var want []tenantsim.ChannelMessageDump
	posts := 0
	for _, m := range msgs {
		var replies []tenantsim.ChannelMessageDump
		for _, rp := range m.Replies {
			if in(rp.Created) {
				replies = append(replies, rp)
			}
		}
		if in(m.Created) || len(replies) > 0 {
			m.Replies = replies
			want = append(want, m)
			posts += 1 + len(replies)
		}
	}
	var sel []vault.Item
	for _, it := range e.Items(&snap) {
		if it.Meta[catalog.MetaUserID] == team.ID && it.Meta[catalog.MetaFolder] == "General" && it.Meta[catalog.MetaKind] != catalog.KindTeam {
			sel = append(sel, it)
		}
	}
	res, err := teams.Workload{}.Restore(context.Background(), e.Restore, e.V, sel, workloads.RestoreOptions{From: from, To: to, TargetFolder: "Fenster"})
	if err != nil || res.Failed != 0 || res.Restored != posts {
		t.Fatalf("window restore: %v %+v, want %d messages and replies", err, res, posts)
	}
	got, err := e.Sim.DumpChannel(team.ID, "Fenster")
	if err != nil {
		t.Fatal(err)
	}
	sameThreads(t, "Fenster", want, got.Messages)
	if len(want) < 2 || len(want[0].Replies) == 0 || in(want[0].Created) {
		t.Errorf("the window does not test a thread whose reply alone is in it: %+v", want)
	}

	_, err = teams.Workload{}.Restore(context.Background(), e.Restore, e.V, sel, workloads.RestoreOptions{From: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2001, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err == nil || !strings.Contains(err.Error(), "--from/--to") {
		t.Fatalf("a window holding nothing: %v, want a refusal naming --from/--to", err)
	}
}
