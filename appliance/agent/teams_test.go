package agent_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestDeletedTeamThroughAgent selects a deleted team's record by its mail
// (--kind team): the agent adds the team's threads, and the team comes
// back as a whole with its channels, their messages, its members and its
// settings.
func TestDeletedTeamThroughAgent(t *testing.T) {
	sim, a, _ := newAgent(t, 4, tenantsim.Config{ExtraRestoreRoles: []string{"TeamMember.ReadWrite.All"}})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	team := sim.Teams()[0]
	want, err := sim.DumpTeam(team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Apply(tenantsim.Scenario{Name: "delete-team", Site: team.ID}); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: team.Mail, Kind: "team"}})
	if err != nil || rep.Failed != 0 || rep.Workload != "teams" || rep.Restored == 0 {
		t.Fatalf("restore of the deleted team: %v %+v", err, rep)
	}
	got, err := sim.DumpTeam(team.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Members, want.Members) || !reflect.DeepEqual(got.Settings, want.Settings) || len(got.Channels) != len(want.Channels) {
		t.Fatalf("the team created again: %+v\nwant %+v", got, want)
	}
	for i := range want.Channels {
		if len(got.Channels[i].Messages) != len(want.Channels[i].Messages) {
			t.Errorf("channel %s: %d threads, had %d", want.Channels[i].Name, len(got.Channels[i].Messages), len(want.Channels[i].Messages))
		}
	}
}

// TestRestoreWindowRefusals guards the refusals of --from/--to: a window
// that ends before it begins, and a window on anything but Teams channel
// messages, each naming the flags.
func TestRestoreWindowRefusals(t *testing.T) {
	sim, a, _ := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	team := sim.Teams()[0]
	_, err = a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: team.Mail, Folder: "General"}, From: day, To: day.Add(-time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "--from must be before --to") {
		t.Errorf("a window ending before it begins: %v", err)
	}
	_, sites := simSites(t, sim)
	_, err = a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: sites[0].WebURL, Kind: "lists"}, From: day})
	if err == nil || !strings.Contains(err.Error(), "--from and --to select Teams channel messages") {
		t.Errorf("a window on a site's lists: %v", err)
	}
}
