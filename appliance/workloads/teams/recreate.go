package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// A team that no longer exists is created again as a whole through
// Graph's import path: POST /teams with the standard template in
// migration mode as of the team's creation; its General channel and each
// other channel (created in migration mode with its name and membership
// type) take their threads with their original authors and times; each
// channel's migration is completed, then the team's; then the members
// and owners are added back (Graph refuses membership changes before) and
// the settings (member, messaging, fun, guest) are applied with PATCH.
// Tabs, the membership of private and shared channels and an archived
// team's archiving are not restored.

// teamRecord is the stored _team.json.
type teamRecord struct {
	Team     json.RawMessage   `json:"team"`
	Members  []json.RawMessage `json:"members"`
	Channels []json.RawMessage `json:"channels"`
}

// teamSettings are the settings sections a recreated team gets back.
var teamSettings = []string{"memberSettings", "messagingSettings", "funSettings", "guestSettings"}

// teamGone reports whether the team id answers 404.
func (r *restorer) teamGone(ctx context.Context, id string) (bool, error) {
	_, err := r.c.Get(ctx, "/teams/"+url.PathEscape(id), url.Values{"$select": {"id"}})
	if st, _ := graph.ErrorOf(err); st == http.StatusNotFound {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up team %s: %s; the restore app needs Group.ReadWrite.All", id, graph.Describe(err))
	}
	return false, nil
}

// recreate creates the team of the stored record rec again with every
// channel of the record and the threads (all of this team) in them. A
// team of the same name that exists already (created again by an earlier
// restore) is left alone unless collision is copy: the restore is refused
// with what to do.
func (r *restorer) recreate(ctx context.Context, rec vault.Item, threads []vault.Item, collision string) error {
	var buf bytes.Buffer
	var tr teamRecord
	if err := r.src.WriteItem(&buf, rec); err != nil || json.Unmarshal(buf.Bytes(), &tr) != nil {
		return fmt.Errorf("team %s: the stored record is not readable (%v); run 'strongroom vault scrub --repair'", rec.Meta[catalog.MetaUser], err)
	}
	var team map[string]any
	_ = json.Unmarshal(tr.Team, &team)
	if collision != workloads.CollisionCopy {
		if err := r.sameName(ctx, fmt.Sprint(team["displayName"])); err != nil {
			return err
		}
	}
	items := map[string][]vault.Item{}
	for _, it := range threads {
		items[it.Meta[catalog.MetaChannelID]] = append(items[it.Meta[catalog.MetaChannelID]], it)
	}
	byChannel := map[string][]loaded{}
	earliest := fmt.Sprint(team["createdDateTime"])
	for id, its := range items {
		ts := r.load(its)
		if len(ts) > 0 && when(ts[0].created).Before(when(earliest)) {
			earliest = ts[0].created
		}
		byChannel[id] = ts
	}
	teamID, err := r.createTeam(ctx, team, earliest)
	if err != nil {
		return err
	}
	base := "/teams/" + url.PathEscape(teamID) + "/channels"
	for _, raw := range tr.Channels {
		var ch struct {
			channelRecord
			Created string `json:"createdDateTime"`
		}
		if json.Unmarshal(raw, &ch) != nil || ch.ID == "" {
			continue
		}
		ts := byChannel[ch.ID]
		created := earliest
		if when(ch.Created).After(when(created)) && (len(ts) == 0 || !when(ch.Created).After(when(ts[0].created))) {
			created = ch.Created
		}
		chID, err := r.teamChannel(ctx, base, ch.channelRecord, created)
		if err != nil {
			r.fail(posts(ts), "create channel %q in the new team: %s; %s", ch.DisplayName, graph.Describe(err), channelRemedy(err))
			continue
		}
		r.fill(ctx, base, chID, ch.DisplayName, ts)
	}
	if _, err := r.c.Write(ctx, abstractions.POST, "/teams/"+url.PathEscape(teamID)+"/completeMigration", "application/json", nil); err != nil {
		r.fail(0, "complete the migration of the new team %s: %s; members and settings cannot be added until it is: POST /teams/%s/completeMigration, then restore again", teamID, graph.Describe(err), teamID)
		return nil
	}
	r.addMembers(ctx, teamID, tr.Members)
	r.applySettings(ctx, teamID, team)
	return nil
}

// sameName refuses to create a team whose name a team of the tenant
// has.
func (r *restorer) sameName(ctx context.Context, name string) error {
	teams, err := ListGroups(ctx, r.c.G, true)
	if err != nil {
		return fmt.Errorf("look for a team named %q before creating it again: %w; the restore app needs Group.ReadWrite.All", name, err)
	}
	for _, t := range teams {
		if strings.EqualFold(t.DisplayName, name) {
			return fmt.Errorf("the team was deleted and a team named %q exists now (%s), created again by an earlier restore or anew: restore the channels into it with --target-user %s, or create another team with --collision copy", name, t.Name, t.Name)
		}
	}
	return nil
}

var teamLocation = regexp.MustCompile(`teams\('([^']+)'\)`)

// createTeam creates the team in migration mode as of created and waits
// until Graph serves it (creation is asynchronous).
func (r *restorer) createTeam(ctx context.Context, team map[string]any, created string) (string, error) {
	name := fmt.Sprint(team["displayName"])
	body := map[string]any{"@microsoft.graph.teamCreationMode": "migration", "displayName": name, "createdDateTime": created,
		"template@odata.bind": r.c.G.BaseURL() + "/teamsTemplates('standard')"}
	if d, ok := team["description"].(string); ok && d != "" {
		body["description"] = d
	}
	loc, _, err := r.c.Create(ctx, "/teams", body)
	if err != nil {
		return "", fmt.Errorf("create team %q again: %s; grant the restore app Teamwork.Migrate.All and consent to it", name, graph.Describe(err))
	}
	m := teamLocation.FindStringSubmatch(loc)
	if m == nil {
		return "", fmt.Errorf("create team %q again: Graph accepted it but named no team (Content-Location %q); look for the team in Teams admin and restore its channels into it with --target-user", name, loc)
	}
	for wait := 250 * time.Millisecond; ; wait *= 2 {
		gone, err := r.teamGone(ctx, m[1])
		if err == nil && !gone {
			return m[1], nil
		}
		if wait > 16*time.Second {
			return "", fmt.Errorf("the new team %s (%q) did not appear in time; restore again when Teams shows it", m[1], name)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
}

// teamChannel is the new team's General channel for ch's General, else
// a channel created in migration mode like ch.
func (r *restorer) teamChannel(ctx context.Context, base string, ch channelRecord, created string) (string, error) {
	if ch.DisplayName == "General" {
		body, err := r.c.Get(ctx, strings.TrimSuffix(base, "/channels")+"/primaryChannel", nil)
		var c channelRecord
		if err == nil && json.Unmarshal(body, &c) == nil && c.ID != "" {
			return c.ID, nil
		}
		if err == nil {
			return "", fmt.Errorf("the new team's General channel: Graph answered without its id")
		}
		return "", fmt.Errorf("the new team's General channel: %s", graph.Describe(err))
	}
	return r.createChannel(ctx, base, ch.DisplayName, ch.MembershipType, created)
}

// addMembers adds the stored members back with their roles; one who
// cannot be added (gone from the tenant) is counted as failed.
func (r *restorer) addMembers(ctx context.Context, teamID string, members []json.RawMessage) {
	for _, raw := range members {
		var m struct {
			UserID      string   `json:"userId"`
			DisplayName string   `json:"displayName"`
			Roles       []string `json:"roles"`
		}
		if json.Unmarshal(raw, &m) != nil || m.UserID == "" {
			continue
		}
		roles := m.Roles
		if roles == nil {
			roles = []string{}
		}
		_, err := r.c.WriteJSON(ctx, abstractions.POST, "/teams/"+url.PathEscape(teamID)+"/members", map[string]any{
			"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": roles,
			"user@odata.bind": r.c.G.BaseURL() + "/users('" + m.UserID + "')"})
		if err != nil {
			r.fail(1, "member %s of the new team: %s; add them in Teams (the restore app needs TeamMember.ReadWrite.All)", m.DisplayName, graph.Describe(err))
		}
	}
}

// applySettings gives the new team the stored settings.
func (r *restorer) applySettings(ctx context.Context, teamID string, team map[string]any) {
	patch := map[string]any{}
	for _, k := range teamSettings {
		if v, ok := team[k].(map[string]any); ok {
			patch[k] = v
		}
	}
	if len(patch) == 0 {
		return
	}
	if _, err := r.c.WriteJSON(ctx, abstractions.PATCH, "/teams/"+url.PathEscape(teamID), patch); err != nil {
		r.fail(1, "settings of the new team: %s; set them in Teams (the restore app needs TeamSettings.ReadWrite.All)", graph.Describe(err))
	}
}
