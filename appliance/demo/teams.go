package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
)

// teamsStage is the Teams part of the demo: a channel deleted before the
// incremental backup and restored from the first restore point.
type teamsStage struct {
	team    tenantsim.TeamInfo
	channel string
	before  tenantsim.ChannelDump // the tenant's record of the channel before it was deleted
}

// deleteChannel has someone delete the first team's second channel,
// keeping the tenant's record of it to compare.
func (d *demo) deleteChannel(context.Context) error {
	for _, t := range d.sim.Teams() {
		if t.Team && len(t.Channels) > 1 {
			d.teams = &teamsStage{team: t, channel: t.Channels[1]}
			break
		}
	}
	if d.teams == nil {
		return fmt.Errorf("demo: the simulated tenant has no team with two channels")
	}
	s := d.teams
	var err error
	if s.before, err = d.sim.DumpChannel(s.team.ID, s.channel); err != nil {
		return err
	}
	if _, err := d.sim.Apply(tenantsim.Scenario{Name: "delete-channel", Site: s.team.ID, Folder: s.channel}); err != nil {
		return err
	}
	d.step("teams: the channel %q of %s was deleted (%d threads)", s.channel, s.team.Name, len(s.before.Messages))
	return nil
}

// restoreChannel restores the channel from the first restore point
// through Graph's import path and compares it with the tenant's record:
// threads in order, authors, times, texts, replies.
func (d *demo) restoreChannel(ctx context.Context) error {
	s := d.teams
	rep, err := d.a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: d.full.Snapshot, User: s.team.Mail, Folder: s.channel}})
	if err != nil {
		return err
	}
	var name string
	for _, t := range d.sim.Teams() {
		for _, ch := range t.Channels {
			if t.ID == s.team.ID && strings.HasPrefix(ch, "Restored – "+s.channel+" ") {
				name = ch
			}
		}
	}
	d.step("restore: %d channel messages and replies imported into the new channel %q in %.1fs (%d failed)", rep.Restored, name, rep.Seconds, rep.Failed)
	got, err := d.sim.DumpChannel(s.team.ID, name)
	if err != nil {
		return fmt.Errorf("demo failed: the restored channel: %w", err)
	}
	want := s.before.Messages
	sort.SliceStable(want, func(i, j int) bool { return want[i].Created.Before(want[j].Created) })
	if len(got.Messages) != len(want) || len(want) == 0 {
		return fmt.Errorf("demo failed: %d threads restored, %d deleted", len(got.Messages), len(want))
	}
	posts := 0
	for i, w := range want {
		g := got.Messages[i]
		if len(g.Replies) != len(w.Replies) {
			return fmt.Errorf("demo failed: thread %s has %d replies restored, %d before", w.ID, len(g.Replies), len(w.Replies))
		}
		pairs := [][2]tenantsim.ChannelMessageDump{{w, g}}
		for j := range w.Replies {
			pairs = append(pairs, [2]tenantsim.ChannelMessageDump{w.Replies[j], g.Replies[j]})
		}
		for _, p := range pairs {
			if p[0].From != p[1].From || !p[0].Created.Equal(p[1].Created) || !strings.Contains(teams.PlainText(p[1].Body), p[0].Body) {
				return fmt.Errorf("demo failed: message %s restored from %s at %s, was from %s at %s", p[0].ID, p[1].From, p[1].Created, p[0].From, p[0].Created)
			}
			posts++
		}
	}
	d.step("verified: all %d threads (%d messages and replies) have their original authors, times, texts and order", len(want), posts)
	return nil
}
