package tenantsim

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A team created as Graph's import path creates one: POST /teams with the
// standard template and "@microsoft.graph.teamCreationMode": "migration"
// answers 202 with the new team in Content-Location; the team, its General
// channel and the channels created in it take imported messages until
// each channel's migration and then the team's are completed
// (POST /teams/{id}/completeMigration, refused while a channel is still
// in migration). Members can be added (POST /teams/{id}/members) only
// after that. PATCH /teams/{id} changes the team's settings.

var (
	permTeamCreate       = permission{"Team.Create", "Teamwork.Migrate.All", "Group.ReadWrite.All"}
	permTeamSettings     = permission{"TeamSettings.ReadWrite.All", "Group.ReadWrite.All"}
	permTeamMemberWrite  = permission{"TeamMember.ReadWrite.All"}
	teamSettingsSections = []string{"memberSettings", "messagingSettings", "funSettings", "guestSettings"}
	userBind             = regexp.MustCompile(`/users\('([^']+)'\)$`)
)

func (s *Sim) registerTeamCreateRoutes() {
	rt := &s.routes
	rt.add(http.MethodPost, "teams", "teams", permTeamCreate, handleCreateTeam)
	rt.add(http.MethodPost, "teams/{gid}/completeMigration", "teams", permMigrate, handleCompleteTeamMigration)
	rt.add(http.MethodPost, "teams/{gid}/members", "teams", permTeamMemberWrite, handleAddTeamMember)
	rt.add(http.MethodPatch, "teams/{gid}", "teams", permTeamSettings, handlePatchTeam)
	rt.add(http.MethodGet, "teams/{gid}/primaryChannel", "teams", permTeamRead, handlePrimaryChannel)
}

// handlePrimaryChannel serves the team's General channel.
func handlePrimaryChannel(q *request) *graphError {
	return readOf(q, q.team, func(g *group) (any, *graphError) {
		for _, ch := range g.channels {
			if ch.displayName == "General" {
				return channelJSON(g, ch), nil
			}
		}
		return nil, errf(http.StatusNotFound, "NotFound", "The team has no General channel.")
	})
}

// teamIn is the part of a new team the simulator takes.
type teamIn struct {
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	Template    string `json:"template@odata.bind"`
	Mode        string `json:"@microsoft.graph.teamCreationMode"`
	Created     string `json:"createdDateTime"`
}

// check refuses what Graph refuses and returns the creation time.
func (in teamIn) check() (time.Time, *graphError) {
	if strings.TrimSpace(in.DisplayName) == "" {
		return time.Time{}, errf(http.StatusBadRequest, "BadRequest", "displayName is required.")
	}
	if !strings.HasSuffix(in.Template, "/teamsTemplates('standard')") {
		return time.Time{}, errf(http.StatusBadRequest, "BadRequest", "template@odata.bind must name a template: .../teamsTemplates('standard').")
	}
	if in.Mode != "" && in.Mode != "migration" {
		return time.Time{}, errf(http.StatusBadRequest, "BadRequest", "@microsoft.graph.teamCreationMode must be migration.")
	}
	if in.Created == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, in.Created)
	if err != nil || in.Mode != "migration" {
		return time.Time{}, errf(http.StatusBadRequest, "BadRequest", "createdDateTime can only be set, as an ISO 8601 time, on a team created in migration mode.")
	}
	return t, nil
}

func handleCreateTeam(q *request) *graphError {
	var in teamIn
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	created, gerr := in.check()
	if gerr != nil {
		return gerr
	}
	q.sim.mu.Lock()
	s := q.sim
	seq := s.nextSeq()
	if created.IsZero() {
		created = s.logicalNow(seq)
	}
	nick := strings.ToLower(strings.Join(strings.FieldsFunc(in.DisplayName, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') }), ""))
	for s.liveGroup(nick+"@"+tenantDomain, false) != nil {
		nick += fmt.Sprint(seq % 10)
	}
	g := &group{id: guid(s.cfg.Seed, "group", "created", seq), displayName: in.DisplayName, mail: nick + "@" + tenantDomain}
	g.team = &teamInfo{description: in.Description, created: created, allowDeleteMessages: true, migration: in.Mode == "migration"}
	general := s.newChannel(g, "General", "standard", created)
	general.migration = g.team.migration
	s.groups = append(s.groups, g)
	q.sim.mu.Unlock()
	h := q.w.Header()
	h.Set("Location", fmt.Sprintf("/teams('%s')/operations('%s')", g.id, guid("operation", g.id)))
	h.Set("Content-Location", fmt.Sprintf("/teams('%s')", g.id))
	h.Set("Content-Type", "application/json")
	q.w.WriteHeader(http.StatusAccepted)
	return nil
}

func handleCompleteTeamMigration(q *request) *graphError {
	return writeOf(q, q.team, func(g *group) (any, *graphError) {
		if g.team == nil || !g.team.migration {
			return nil, errf(http.StatusBadRequest, "BadRequest", "The team is not in migration mode.")
		}
		for _, ch := range g.channels {
			if ch.migration {
				return nil, errf(http.StatusBadRequest, "BadRequest", "Channel "+ch.displayName+" is still in migration mode: complete the migration of every channel first.")
			}
		}
		g.team.migration = false
		q.sim.nextSeq()
		return nil, nil
	})
}

func handleAddTeamMember(q *request) *graphError {
	var in struct {
		Type  string   `json:"@odata.type"`
		Roles []string `json:"roles"`
		User  string   `json:"user@odata.bind"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	m := userBind.FindStringSubmatch(in.User)
	if in.Type != "#microsoft.graph.aadUserConversationMember" || m == nil {
		return errf(http.StatusBadRequest, "BadRequest", "A member is a #microsoft.graph.aadUserConversationMember with user@odata.bind .../users('{id}').")
	}
	return writeOf(q, q.team, func(g *group) (any, *graphError) {
		if g.team != nil && g.team.migration {
			return nil, errf(http.StatusBadRequest, "BadRequest", "Membership operations are not allowed on a team in migration mode: complete its migration first.")
		}
		var u *user
		for _, x := range q.sim.users {
			if !x.deleted && (x.id == m[1] || strings.EqualFold(x.upn, m[1])) {
				u = x
			}
		}
		if u == nil {
			return nil, errf(http.StatusNotFound, "NotFound", "User "+m[1]+" is not in the tenant.")
		}
		if !slices.Contains(g.members, u) {
			g.members = append(g.members, u)
		}
		if slices.Contains(in.Roles, "owner") && !slices.Contains(g.owners, u) {
			g.owners = append(g.owners, u)
		}
		q.sim.nextSeq()
		return map[string]any{"@odata.type": in.Type, "id": shortHash(g.id+u.id, 2), "roles": in.Roles, "displayName": u.displayName, "userId": u.id, "email": u.mail}, nil
	})
}

// handlePatchTeam changes the team's description and settings: each
// section given replaces the values it names.
func handlePatchTeam(q *request) *graphError {
	var in map[string]any
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	q.sim.mu.Lock()
	g, gerr := q.team()
	if gerr == nil && g.team == nil {
		g.team = &teamInfo{created: genEpoch, allowDeleteMessages: true}
	}
	for k, v := range in {
		if gerr != nil {
			break
		}
		sec, ok := v.(map[string]any)
		switch {
		case k == "description":
			g.team.description = fmt.Sprint(v)
		case slices.Contains(teamSettingsSections, k) && ok:
			if g.team.settings == nil {
				g.team.settings = map[string]map[string]any{}
			}
			if g.team.settings[k] == nil {
				g.team.settings[k] = map[string]any{}
			}
			maps.Copy(g.team.settings[k], sec)
		default:
			gerr = errf(http.StatusBadRequest, "BadRequest", "Property "+k+" cannot be changed here.")
		}
	}
	if gerr == nil {
		q.sim.nextSeq()
	}
	q.sim.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// TeamDump is a team as the tenant holds it: its settings, its members
// ("upn:owner" or "upn:member", sorted) and its channels with their
// messages.
type TeamDump struct {
	ID          string                    `json:"id"`
	Name        string                    `json:"name"`
	Description string                    `json:"description"`
	Settings    map[string]map[string]any `json:"settings"`
	Members     []string                  `json:"members"`
	Channels    []ChannelDump             `json:"channels"`
	// Migrating is set while the team or one of its channels is still in
	// migration mode.
	Migrating bool `json:"migrating,omitempty"`
}

// DumpTeam returns the team key (id, mail or display name) that is not
// deleted.
func (s *Sim) DumpTeam(key string) (TeamDump, error) {
	s.mu.RLock()
	g := s.liveGroup(key, true)
	var d TeamDump
	var names []string
	if g != nil {
		j := teamJSON(g)
		d = TeamDump{ID: g.id, Name: g.displayName, Description: fmt.Sprint(j["description"]), Settings: map[string]map[string]any{}}
		for _, k := range teamSettingsSections {
			d.Settings[k], _ = j[k].(map[string]any)
		}
		for _, u := range g.members {
			if u.deleted {
				continue
			}
			role := "member"
			if slices.Contains(g.owners, u) {
				role = "owner"
			}
			d.Members = append(d.Members, u.upn+":"+role)
		}
		for _, u := range g.owners {
			if !slices.Contains(g.members, u) && !u.deleted {
				d.Members = append(d.Members, u.upn+":owner")
			}
		}
		slices.Sort(d.Members)
		d.Migrating = g.team != nil && g.team.migration
		for _, ch := range g.channels {
			names = append(names, ch.id)
			d.Migrating = d.Migrating || ch.migration
		}
	}
	s.mu.RUnlock()
	if g == nil || key == "" {
		return TeamDump{}, fmt.Errorf("dump team: no team %q", key)
	}
	for _, id := range names {
		ch, err := s.DumpChannel(g.id, id)
		if err != nil {
			return d, err
		}
		d.Channels = append(d.Channels, ch)
	}
	return d, nil
}
