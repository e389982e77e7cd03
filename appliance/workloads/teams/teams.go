package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// Name is the workload's name: the first element of its paths in a
// snapshot and its metrics label.
const Name = "teams"

// Workload protects every team of the tenant.
type Workload struct {
	// PageSize is asked for on message pages (default 50, the most
	// Graph serves for channel messages).
	PageSize int
}

// Name implements workloads.Workload.
func (Workload) Name() string { return Name }

// Noun implements workloads.Workload.
func (Workload) Noun() (string, string) { return "team", "teams" }

// PathPrefix is where a team lives in a snapshot.
func PathPrefix(teamID string) string { return workloads.Prefix(Name, teamID) }

// groupRecord is the part of a group the discovery reads.
type groupRecord struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Mail        string   `json:"mail"`
	Options     []string `json:"resourceProvisioningOptions"`
	GroupTypes  []string `json:"groupTypes"`
}

func (g groupRecord) name() string {
	if g.Mail != "" {
		return g.Mail
	}
	return g.ID
}

// ResolveGroup resolves the group to restore into: target, an id or a
// mail address looked up among the tenant's groups (its teams, with
// teamsOnly), or original when target is empty. The errors call the group
// a team with teamsOnly.
func ResolveGroup(ctx context.Context, g *graph.Client, target, original string, teamsOnly bool) (string, error) {
	if target == "" {
		return original, nil
	}
	if !strings.Contains(target, "@") {
		return target, nil
	}
	noun := "group"
	if teamsOnly {
		noun = "team"
	}
	all, err := ListGroups(ctx, g, teamsOnly)
	if err != nil {
		return "", fmt.Errorf("find %s %s: %w; the restore app needs Group.Read.All or Group.ReadWrite.All", noun, target, err)
	}
	for _, u := range all {
		if strings.EqualFold(u.Name, target) {
			return u.ID, nil
		}
	}
	return "", fmt.Errorf("no %s %s in the tenant: name it by its mail address or id as 'strongroom ls latest' shows it", noun, target)
}

// ListGroups lists the tenant's Microsoft 365 groups; teamsOnly keeps
// those that are teams.
func ListGroups(ctx context.Context, g *graph.Client, teamsOnly bool) ([]workloads.Unit, error) {
	c := &graph.Caller{G: g, PageSize: 999}
	ri, err := c.Request("/groups", url.Values{"$select": {"id,displayName,mail,groupTypes,resourceProvisioningOptions"}})
	if err != nil {
		return nil, err
	}
	var out []workloads.Unit
	_, err = graph.Each(ctx, c, ri, func(gr groupRecord) error {
		isTeam, unified := false, false
		for _, o := range gr.Options {
			isTeam = isTeam || o == "Team"
		}
		for _, t := range gr.GroupTypes {
			unified = unified || t == "Unified"
		}
		if (teamsOnly && isTeam) || (!teamsOnly && unified) {
			out = append(out, workloads.Unit{ID: gr.ID, Name: gr.name(), DisplayName: gr.DisplayName})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the groups: %s", graph.Describe(err))
	}
	return out, nil
}

// Discover lists every team (a group provisioned as a team), archived
// ones included.
func (Workload) Discover(ctx context.Context, t workloads.Tenant) ([]workloads.Unit, error) {
	return ListGroups(ctx, t.Graph, true)
}

// backup is one team's run.
type backup struct {
	c    *graph.Caller
	sink workloads.Sink
	prev workloads.Previous
	u    workloads.Unit

	res     workloads.Result
	sinkErr error
}

// Backup implements workloads.Workload: the team's record first (a team
// that answers 404 is gone and nothing is written), then its members and
// channels, then each channel's tabs and messages. A channel that fails
// is counted and its previous items are kept.
func (w Workload) Backup(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, u workloads.Unit) (workloads.Result, error) {
	size := w.PageSize
	if size <= 0 {
		size = 50
	}
	b := &backup{c: &graph.Caller{G: g, PageSize: size}, sink: sink, prev: workloads.OrEmpty(prev), u: u}
	err := b.run(ctx)
	return workloads.Finish("team "+u.Name, b.c, &b.res, err, b.sinkErr)
}

func (b *backup) run(ctx context.Context) error {
	base := "/teams/" + url.PathEscape(b.u.ID)
	team, err := workloads.ReadRecord(ctx, b.c, base, "team "+b.u.Name, func(err error) string { return describe(err, "Team.ReadBasic.All") })
	if err != nil {
		return err
	}
	members, err := b.c.All(ctx, base+"/members", nil)
	if err != nil {
		return fmt.Errorf("back up team %s: list the members: %s", b.u.Name, describe(err, "TeamMember.Read.All"))
	}
	chans, err := b.c.All(ctx, base+"/channels", nil)
	if err != nil {
		return fmt.Errorf("back up team %s: list the channels: %s", b.u.Name, describe(err, "ChannelMessage.Read.All"))
	}
	rec, _ := json.Marshal(map[string]any{"team": json.RawMessage(team), "members": members, "channels": chans})
	b.put(PathPrefix(b.u.ID)+"_team.json", b.meta(catalog.KindTeam, b.u.DisplayName), rec)
	live := map[string]bool{}
	for _, raw := range chans {
		var ch channelRecord
		if json.Unmarshal(raw, &ch) != nil || ch.ID == "" {
			b.fail("a channel without an id")
			continue
		}
		live[ch.ID] = true
		b.channel(ctx, ch, raw)
		b.res.Collections++
	}
	b.countRemoved(live)
	return nil
}

// countRemoved counts the threads of channels the previous snapshot had
// and the team no longer has.
func (b *backup) countRemoved(live map[string]bool) {
	_ = b.prev.Each(PathPrefix(b.u.ID)+"channels/", func(it vault.Item) error {
		if it.Meta[catalog.MetaKind] == catalog.KindChannelMessage && !live[it.Meta[catalog.MetaChannelID]] {
			b.res.RemovedItems++
		}
		return nil
	})
}

func (b *backup) meta(kind, name string) map[string]string {
	return map[string]string{catalog.MetaKind: kind, catalog.MetaWorkload: Name, catalog.MetaUserID: b.u.ID,
		catalog.MetaUser: b.u.Name, catalog.MetaName: name}
}

// put stores body as a new item at p.
func (b *backup) put(p string, meta map[string]string, body []byte) bool {
	if b.sinkErr != nil {
		return false
	}
	if _, err := b.sink.Put(vault.Item{Path: p, Meta: meta}, bytes.NewReader(body)); err != nil {
		b.sinkErr = err
		return false
	}
	b.res.Written++
	return true
}

// add records a previous item again, with meta when it is not nil.
func (b *backup) add(it vault.Item, meta map[string]string) bool {
	if b.sinkErr != nil {
		return false
	}
	if meta != nil {
		it.Meta = meta
	}
	if err := b.sink.Add(it); err != nil {
		b.sinkErr = err
		return false
	}
	b.res.Written++
	return true
}

func (b *backup) fail(format string, args ...any) {
	b.res.Failed++
	b.res.Errors = append(b.res.Errors, fmt.Sprintf(format, args...))
}

// carry records the previous snapshot's items under prefix again.
func (b *backup) carry(prefix string) {
	_ = b.prev.Each(prefix, func(it vault.Item) error {
		if !b.add(it, nil) {
			return b.sinkErr
		}
		if it.Meta[catalog.MetaKind] == catalog.KindChannelMessage {
			b.res.Items++
			b.res.CarriedItems++
		}
		return nil
	})
}

// describe is graph.Describe with, for a refusal, the permission the
// backup app lacks.
func describe(err error, perm string) string {
	if st, _ := graph.ErrorOf(err); st == 401 || st == 403 {
		return graph.Describe(err) + "; grant the backup app the application permission " + perm + " and consent to it"
	}
	return graph.Describe(err)
}

// preview is the start of a message's text for its catalog name.
func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return s
}
