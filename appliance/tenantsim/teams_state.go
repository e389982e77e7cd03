package tenantsim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// teamInfo is what a team adds to its Microsoft 365 group: settings and
// whether it is archived (read-only, still backed up).
type teamInfo struct {
	description string
	archived    bool
	created     time.Time
	// allowGiphy and allowDeleteMessages stand for the team's fun and
	// member settings.
	allowGiphy, allowDeleteMessages bool
	// settings are values set with PATCH, by section (memberSettings,
	// ...), over the defaults teamJSON serves. migration: created in
	// migration mode and not completed yet.
	settings  map[string]map[string]any
	migration bool
}

// channelTab is an app pinned to a channel.
type channelTab struct {
	id, displayName, appID, url string
}

// msgExtras is what a channel message may carry besides its text: an
// edit, a soft deletion, reactions, mentions, importance and references
// to files.
type msgExtras struct {
	// modified is the last change to the message or its replies; edited
	// the last change of its own body; deletedAt its soft deletion, after
	// which Graph serves it with an empty body.
	modified, edited, deletedAt time.Time
	importance                  string
	// bodyType is set on an imported message: its body is served as
	// posted, of this content type (text or html).
	bodyType  string
	reactions []msgReaction
	mentions  []*user
	files     []fileRef
}

type msgReaction struct {
	kind string
	by   *user
	at   time.Time
}

// fileRef is a channel message's attachment: a reference to a file in
// the team's site, as Teams attaches files.
type fileRef struct {
	id, name, url string
}

// isTeam says whether g is a team.
func (g *group) isTeam() bool { return g.team != nil || len(g.channels) > 0 }

// generateTeamsExtras makes the first team's owner, settings, tabs, a
// private and a shared channel, reactions, a mention, an important
// message and file references, and an archived team whose owner has
// left. It draws from a stream of its own and runs after everything
// else, so what was generated before stays as it was.
func (s *Sim) generateTeamsExtras() {
	r := rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "teams-extras"), 1))
	var first *group
	for _, g := range s.groups {
		if len(g.channels) > 0 && len(g.members) > 0 {
			first = g
			break
		}
	}
	if first == nil {
		return
	}
	first.team = &teamInfo{description: "Team " + first.displayName, created: genEpoch, allowGiphy: true, allowDeleteMessages: true}
	first.owners = []*user{first.members[0]}
	for i, ch := range first.channels {
		ch.membershipType, ch.created = "standard", genEpoch
		ch.tabs = []*channelTab{{id: guid(s.cfg.Seed, "tab", ch.id, 0), displayName: "Wiki – Übersicht", appID: "com.microsoft.teamspace.tab.wiki", url: ""}}
		if i == 0 {
			ch.tabs = append(ch.tabs, &channelTab{id: guid(s.cfg.Seed, "tab", ch.id, 1), displayName: "Budget.xlsx", appID: "com.microsoft.teamspace.tab.file.staticviewer.excel", url: "https://contoso-sim.sharepoint.com/sites/finance/Shared%20Documents/Budget.xlsx"})
		}
		s.decorateMessages(r, first, ch)
	}
	for i, spec := range []struct{ name, kind string }{{"Leitung (privat)", "private"}, {"Partner – Fabrikam", "shared"}} {
		ch := s.newChannel(first, spec.name, spec.kind, genEpoch.Add(time.Duration(i+1)*24*time.Hour))
		s.fillChannel(r, first, ch, 3)
	}
	s.generateArchivedTeam(r)
}

// decorateMessages adds reactions, a mention, importance and a file
// reference to some of a channel's messages.
func (s *Sim) decorateMessages(r *rand.Rand, g *group, ch *channel) {
	for j, m := range ch.messages {
		switch j % 4 {
		case 0:
			m.reactions = append(m.reactions, msgReaction{kind: []string{"like", "heart", "laugh"}[r.IntN(3)], by: g.members[r.IntN(len(g.members))], at: m.created.Add(time.Hour)})
		case 1:
			m.mentions = append(m.mentions, g.members[r.IntN(len(g.members))])
		case 2:
			m.importance = "high"
		case 3:
			n := fmt.Sprintf("%s %d.docx", fileStems[r.IntN(len(fileStems))], j)
			m.files = append(m.files, fileRef{id: guid(s.cfg.Seed, "fileref", m.id), name: n, url: "https://contoso-sim.sharepoint.com/sites/" + strings.ToLower(strings.Fields(g.displayName)[0]) + "/Shared%20Documents/" + strings.ReplaceAll(n, " ", "%20")})
		}
	}
}

// newChannel adds an empty channel with its change log to g.
func (s *Sim) newChannel(g *group, name, kind string, created time.Time) *channel {
	ch := &channel{id: fmt.Sprintf("19:%s@thread.tacv2", shortHash(g.id+name, len(g.channels))), displayName: name, membershipType: kind, created: created}
	ch.log = &collection{id: "channellog:" + g.id + ":" + ch.id}
	g.channels = append(g.channels, ch)
	return ch
}

// fillChannel posts n messages, each with a reply, into ch.
func (s *Sim) fillChannel(r *rand.Rand, g *group, ch *channel, n int) {
	for m := range n {
		when := genEpoch.Add(time.Duration(r.IntN(200*24)) * time.Hour)
		msg := &chatMessage{id: fmt.Sprint(1600000000000 + int64(seedOf(ch.id)%1000000)*100 + int64(m)), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: when}
		msg.replies = append(msg.replies, &chatMessage{id: fmt.Sprint(1650000000000 + int64(seedOf(ch.id)%1000000)*100 + int64(m)), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: when.Add(time.Minute)})
		ch.messages = append(ch.messages, msg)
		s.logAdd(ch.log, msg.id)
	}
}

// generateArchivedTeam makes an archived team without a site, owned by
// a user who has left the tenant when there is one.
func (s *Sim) generateArchivedTeam(r *rand.Rand) {
	var live []*user
	var owner *user
	for _, u := range s.users {
		switch {
		case u.licensed && !u.deleted:
			live = append(live, u)
		case u.deleted && owner == nil:
			owner = u
		}
	}
	if len(live) == 0 {
		return
	}
	if owner == nil {
		owner = live[0]
	}
	g := &group{id: guid(s.cfg.Seed, "group", "archived"), displayName: "Messe 2023 – Archiv", mail: "messe2023@" + tenantDomain,
		members: live[:min(3, len(live))], owners: []*user{owner}}
	g.team = &teamInfo{description: "Messe 2023", archived: true, created: genEpoch}
	ch := s.newChannel(g, "General", "standard", genEpoch)
	s.fillChannel(r, g, ch, 2)
	conv := &conversation{id: itemID("AAQkAGconv", s.cfg.Seed, g.id, 0), topic: "Standplan und Aufbau"}
	th := &convThread{id: itemID("AAQkAGthread", s.cfg.Seed, g.id, 0), topic: conv.topic, conv: conv}
	for p := range 2 {
		th.posts = append(th.posts, &groupPost{id: itemID("AAMkAGpost", s.cfg.Seed, th.id, p), from: g.members[p%len(g.members)],
			body: phrases[r.IntN(len(phrases))], created: genEpoch.Add(time.Duration(100+p) * time.Hour)})
	}
	conv.threads = append(conv.threads, th)
	g.conversations = append(g.conversations, conv)
	s.groups = append(s.groups, g)
}

// liveGroup finds a group or team that is not deleted by id, mail or
// display name.
func (s *Sim) liveGroup(key string, team bool) *group {
	for _, g := range s.groups {
		if g.deleted || (team && !g.isTeam()) {
			continue
		}
		if key == "" || g.id == key || strings.EqualFold(g.displayName, key) || strings.EqualFold(g.mail, key) {
			return g
		}
	}
	return nil
}

func teamsIdentityJSON(u *user) map[string]any {
	return map[string]any{"user": map[string]any{"id": u.id, "displayName": u.displayName, "userIdentityType": "aadUser"}}
}

// msgExtrasJSON adds a message's extras to its JSON.
func msgExtrasJSON(j map[string]any, m *chatMessage) {
	if m.bodyType != "" {
		j["body"] = map[string]any{"contentType": m.bodyType, "content": m.body}
	}
	if !m.modified.IsZero() {
		j["lastModifiedDateTime"] = ts(m.modified)
	}
	if !m.edited.IsZero() {
		j["lastEditedDateTime"] = ts(m.edited)
	}
	if m.importance != "" {
		j["importance"] = m.importance
	}
	reactions := []any{}
	for _, rc := range m.reactions {
		reactions = append(reactions, map[string]any{"reactionType": rc.kind, "createdDateTime": ts(rc.at), "user": teamsIdentityJSON(rc.by)})
	}
	j["reactions"] = reactions
	mentions := []any{}
	for i, u := range m.mentions {
		mentions = append(mentions, map[string]any{"id": i, "mentionText": u.displayName, "mentioned": teamsIdentityJSON(u)})
	}
	j["mentions"] = mentions
	atts := []any{}
	for _, f := range m.files {
		atts = append(atts, map[string]any{"id": f.id, "contentType": "reference", "contentUrl": f.url, "name": f.name})
	}
	j["attachments"] = atts
	if !m.deletedAt.IsZero() {
		j["deletedDateTime"] = ts(m.deletedAt)
		j["body"] = map[string]any{"contentType": "text", "content": ""}
		j["attachments"], j["mentions"], j["reactions"] = []any{}, []any{}, []any{}
	}
}

func teamJSON(g *group) map[string]any {
	t := g.team
	if t == nil {
		t = &teamInfo{created: genEpoch, allowDeleteMessages: true}
	}
	j := map[string]any{
		"id": g.id, "displayName": g.displayName, "description": t.description, "isArchived": t.archived,
		"createdDateTime": ts(t.created), "visibility": "private", "classification": nil,
		"webUrl":         "https://teams.microsoft.com/l/team/" + g.id,
		"memberSettings": map[string]any{"allowCreateUpdateChannels": true, "allowDeleteChannels": false, "allowAddRemoveApps": true},
		"messagingSettings": map[string]any{"allowUserEditMessages": true, "allowUserDeleteMessages": t.allowDeleteMessages,
			"allowChannelMentions": true, "allowTeamMentions": true},
		"funSettings":   map[string]any{"allowGiphy": t.allowGiphy, "giphyContentRating": "moderate", "allowStickersAndMemes": true},
		"guestSettings": map[string]any{"allowCreateUpdateChannels": false, "allowDeleteChannels": false},
	}
	for sec, values := range t.settings {
		maps.Copy(j[sec].(map[string]any), values)
	}
	return j
}

func channelJSON(g *group, ch *channel) map[string]any {
	kind := ch.membershipType
	if kind == "" {
		kind = "standard"
	}
	created := ch.created
	if created.IsZero() {
		created = genEpoch
	}
	return map[string]any{"id": ch.id, "displayName": ch.displayName, "membershipType": kind, "createdDateTime": ts(created),
		"description": nil, "email": "", "webUrl": "https://teams.microsoft.com/l/channel/" + ch.id + "?groupId=" + g.id}
}

func (s *Sim) registerTeamsStateRoutes() {
	rt := &s.routes
	const get = http.MethodGet
	rt.add(get, "teams/{gid}", "teams", permTeamRead, handleGetTeam)
	rt.add(get, "teams/{gid}/members", "teams", permTeamMemberRead, handleTeamMembers)
	rt.add(get, "groups/{gid}/owners", "groups", permGroupRead, handleGroupOwners)
	rt.add(get, "teams/{gid}/channels/{chid}", "teams", permTeamRead, handleGetChannel)
	rt.add(get, "teams/{gid}/channels/{chid}/tabs", "teams", permTabRead, handleChannelTabs)
	s.registerTeamCreateRoutes()
}

// Permissions of a team's record and channels, its members and its tabs:
// Graph asks for TeamMember.* and TeamsTab.* application permissions
// there, Group.Read.All is not enough.
var (
	permTeamRead       = permission{"Team.ReadBasic.All", "TeamSettings.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}
	permTeamMemberRead = permission{"TeamMember.Read.All", "TeamMember.ReadWrite.All"}
	permTabRead        = permission{"TeamsTab.Read.All", "TeamsTab.ReadWrite.All"}
)

// team resolves {gid} to a team.
func (q *request) team() (*group, *graphError) {
	g, gerr := q.group()
	if gerr != nil {
		return nil, gerr
	}
	if !g.isTeam() {
		return nil, errf(http.StatusNotFound, "NotFound", "No team found with Group Id "+g.id)
	}
	return g, nil
}

func handleGetTeam(q *request) *graphError {
	return readOf(q, q.team, func(g *group) (any, *graphError) {
		return project(teamJSON(g), selectFields(q.r)), nil
	})
}

func handleTeamMembers(q *request) *graphError {
	return readOf(q, q.team, func(g *group) (any, *graphError) {
		all := []map[string]any{}
		seen := map[*user]bool{}
		for _, u := range append(slices.Clone(g.owners), g.members...) {
			if seen[u] || u.deleted {
				continue
			}
			seen[u] = true
			roles := []any{}
			if slices.Contains(g.owners, u) {
				roles = append(roles, "owner")
			}
			all = append(all, map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "id": shortHash(g.id+u.id, 2),
				"roles": roles, "displayName": u.displayName, "userId": u.id, "email": u.mail})
		}
		return q.listPage("teams('"+g.id+"')/members", all, 100, 999)
	})
}

func handleGroupOwners(q *request) *graphError {
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		all := []map[string]any{}
		for _, u := range g.owners {
			if u.deleted {
				continue
			}
			m := project(userJSON(u), defaultUserFields)
			m["@odata.type"] = "#microsoft.graph.user"
			all = append(all, m)
		}
		return q.listPage("directoryObjects", all, 100, 999)
	})
}

func handleGetChannel(q *request) *graphError {
	return readPair(q, q.channel, func(g *group, ch *channel) (any, *graphError) {
		return channelJSON(g, ch), nil
	})
}

func handleChannelTabs(q *request) *graphError {
	return readPair(q, q.channel, func(_ *group, ch *channel) (any, *graphError) {
		all := []map[string]any{}
		for _, t := range ch.tabs {
			all = append(all, map[string]any{"id": t.id, "displayName": t.displayName, "webUrl": "https://teams.microsoft.com/l/entity/" + t.appID + "/" + t.id,
				"configuration": map[string]any{"contentUrl": t.url, "websiteUrl": t.url},
				"teamsApp":      map[string]any{"id": t.appID, "externalId": nil, "displayName": t.displayName, "distributionMethod": "store"}})
		}
		return q.listPage("teams('"+ch.id+"')/tabs", all, 100, 999)
	})
}

// membershipFilter reads $filter=membershipType eq 'x' of a channel
// listing: "" for none, or an error for a filter it cannot serve.
func membershipFilter(r *http.Request) (string, *graphError) {
	f := strings.TrimSpace(r.URL.Query().Get("$filter"))
	if f == "" {
		return "", nil
	}
	kind, ok := strings.CutPrefix(f, "membershipType eq ")
	kind = strings.Trim(kind, "'")
	if !ok || !slices.Contains([]string{"standard", "private", "shared"}, kind) {
		return "", errf(http.StatusBadRequest, "BadRequest", "Unsupported $filter on channels: only membershipType eq 'standard'|'private'|'shared'.")
	}
	return kind, nil
}
