package teams_test

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

var imgSrc = regexp.MustCompile(`src="([^"]+/hostedContents/[^"]+/\$value)"`)

// TestTeamsRestoreDeletedChannel deletes a channel, restores it from the
// backup through Graph's import path and compares the restored channel
// with the tenant's record of the deleted one: every message and reply in
// order with its author, time and text, pasted images byte for byte; the
// migration is completed, so an application can no longer post into it.
func TestTeamsRestoreDeletedChannel(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 9})
	_, snap := e.Run(nil, backupAll(t, e))
	const name = "Projekt Ω – Planung"
	team := e.Sim.Teams()[0]
	want, err := e.Sim.DumpChannel(team.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-channel", Folder: name}); err != nil {
		t.Fatal(err)
	}
	var sel []vault.Item
	images := map[string][]byte{}
	for _, it := range e.Items(&snap) {
		if it.Meta[catalog.MetaUserID] == team.ID && it.Meta[catalog.MetaFolder] == name &&
			(it.Meta[catalog.MetaKind] == catalog.KindChannelMessage || it.Meta[catalog.MetaKind] == catalog.KindHostedContent) {
			sel = append(sel, it)
		}
		if it.Meta[catalog.MetaKind] == catalog.KindHostedContent {
			b, _ := e.Read(it)
			images[string(b)] = b
		}
	}
	res, err := teams.Workload{}.Restore(context.Background(), e.Restore, e.V, sel, workloads.RestoreOptions{})
	replies := 0
	for _, m := range want.Messages {
		replies += len(m.Replies)
	}
	if err != nil || res.Failed != 0 || res.Restored != len(want.Messages)+replies {
		t.Fatalf("restore: %v %+v, want %d messages and replies", err, res, len(want.Messages)+replies)
	}
	var restored string
	for _, ch := range e.Sim.Teams()[0].Channels {
		if strings.HasPrefix(ch, "Restored – "+name+" ") {
			restored = ch
		}
	}
	got, err := e.Sim.DumpChannel(team.ID, restored)
	if err != nil {
		t.Fatalf("restored channel %q: %v", restored, err)
	}
	if len(got.Messages) != len(want.Messages) {
		t.Fatalf("restored %d messages, the channel had %d", len(got.Messages), len(want.Messages))
	}
	// The restored channel holds the threads in the order they were
	// posted.
	sort.SliceStable(want.Messages, func(i, j int) bool { return want.Messages[i].Created.Before(want.Messages[j].Created) })
	c := &graph.Caller{G: e.Backup}
	embedded := 0
	for i, w := range want.Messages {
		g := got.Messages[i]
		same(t, "message", w, g)
		if len(g.Replies) != len(w.Replies) {
			t.Fatalf("message %s: %d replies restored, %d before", w.ID, len(g.Replies), len(w.Replies))
		}
		for j := range w.Replies {
			same(t, "reply", w.Replies[j], g.Replies[j])
		}
		for _, m := range imgSrc.FindAllStringSubmatch(g.Body, -1) {
			ri, err := c.LinkRequest(m[1])
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.Send(context.Background(), ri)
			if err != nil || images[string(b)] == nil {
				t.Fatalf("restored image %s: %v, %d bytes, not one of the backed-up images", m[1], err, len(b))
			}
			embedded++
		}
	}
	if embedded == 0 {
		t.Error("no pasted image came back")
	}
	// The migration is completed: the import path is closed.
	_, err = (&graph.Caller{G: e.Restore}).WriteJSON(context.Background(), abstractions.POST, "/teams/"+team.ID+"/channels/"+got.ID+"/messages",
		map[string]any{"createdDateTime": "2030-01-01T00:00:00Z", "body": map[string]any{"content": "x"}})
	if st, _ := graph.ErrorOf(err); st != 403 {
		t.Fatalf("posting into the restored channel after completeMigration: %v, want 403", err)
	}
}

// same compares a restored message with the original: author, time and
// text (the restored body may be HTML around the same text).
func same(t *testing.T, what string, want, got tenantsim.ChannelMessageDump) {
	t.Helper()
	if got.From != want.From || !got.Created.Equal(want.Created) || !strings.Contains(teams.PlainText(got.Body), want.Body) {
		t.Errorf("%s %s: restored from %s at %s saying %q, was from %s at %s saying %q", what, want.ID, got.From, got.Created, teams.PlainText(got.Body), want.From, want.Created, want.Body)
	}
}

// TestTeamsRestoreIntoDeletedTeam guards the error a restore into a team
// that is gone meets: every message and reply counted failed and a remedy naming
// --target-user.
func TestTeamsRestoreIntoDeletedTeam(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 4, Seed: 9})
	_, snap := e.Run(nil, backupAll(t, e))
	team := e.Sim.Teams()[0]
	var sel []vault.Item
	for _, it := range e.Items(&snap) {
		if it.Meta[catalog.MetaUserID] == team.ID && it.Meta[catalog.MetaKind] == catalog.KindChannelMessage && it.Meta[catalog.MetaFolder] == "General" {
			sel = append(sel, it)
		}
	}
	d, err := e.Sim.DumpChannel(team.ID, "General")
	if err != nil {
		t.Fatal(err)
	}
	posts := 0
	for _, m := range d.Messages {
		posts += 1 + len(m.Replies)
	}
	if _, err := e.Sim.Apply(tenantsim.Scenario{Name: "delete-team", Site: team.ID}); err != nil {
		t.Fatal(err)
	}
	res, err := teams.Workload{}.Restore(context.Background(), e.Restore, e.V, sel, workloads.RestoreOptions{})
	if err != nil || res.Failed != posts || res.Restored != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "--target-user") {
		t.Fatalf("restore into a deleted team: %v %+v", err, res)
	}
}
