package tenantsim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// teamsScenarios are the scenarios that change teams and groups. Site
// names the team or group (display name, mail or id; default the first
// team), Folder the channel (default the first), Count how many messages.
var teamsScenarios = []string{"edit-channel-messages", "delete-channel-messages", "reply-channel-messages", "delete-channel", "delete-team", "create-team", "post-to-group"}

// applyTeams runs a Teams or groups scenario; the caller holds s.mu.
func (s *Sim) applyTeams(sc Scenario, res *ScenarioResult) error {
	count := max(sc.Count, 1)
	if sc.Name == "create-team" {
		return s.createTeam(sc.Site, res)
	}
	g := s.liveGroup(sc.Site, sc.Name != "post-to-group")
	if g == nil {
		return fmt.Errorf("scenario %s: no team or group %q", sc.Name, sc.Site)
	}
	if sc.Name == "delete-team" {
		g.deleted = true
		res.IDs = append(res.IDs, g.id)
		return nil
	}
	if sc.Name == "post-to-group" {
		return s.postToGroup(g, count, res)
	}
	ch := findChannel(g, sc.Folder)
	if ch == nil {
		return fmt.Errorf("scenario %s: team %s has no channel %q", sc.Name, g.displayName, sc.Folder)
	}
	if sc.Name == "delete-channel" {
		g.channels = slices.DeleteFunc(g.channels, func(c *channel) bool { return c == ch })
		res.IDs = append(res.IDs, ch.id)
		res.ItemsDeleted = len(ch.messages)
		return nil
	}
	for _, m := range ch.messages {
		if count == 0 {
			break
		}
		if !m.deletedAt.IsZero() {
			continue
		}
		count--
		seq := s.seq + 1
		now := s.logicalNow(seq)
		switch sc.Name {
		case "edit-channel-messages":
			m.body += " (bearbeitet)"
			m.edited, m.modified = now, now
			res.ItemsModified++
		case "delete-channel-messages":
			m.deletedAt, m.modified = now, now
			res.ItemsDeleted++
		case "reply-channel-messages":
			r := s.newRand(seq)
			m.replies = append(m.replies, &chatMessage{id: fmt.Sprint(1950000000000 + seq), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: now})
			m.modified = now
			res.ItemsCreated++
		}
		s.logTouch(ch.log, m.id)
		res.IDs = append(res.IDs, m.id)
	}
	return nil
}

// findChannel is g's channel named name (case-insensitive), or its first
// one for "".
func findChannel(g *group, name string) *channel {
	for _, c := range g.channels {
		if name == "" || strings.EqualFold(c.displayName, name) || c.id == name {
			return c
		}
	}
	return nil
}

// createTeam makes a new team named name (default "Neues Team") with a
// General channel holding a few messages, as a user creating a team and
// starting to chat would.
func (s *Sim) createTeam(name string, res *ScenarioResult) error {
	if name == "" {
		name = "Neues Team"
	}
	if s.liveGroup(name, false) != nil {
		return fmt.Errorf("scenario create-team: a group named %q exists", name)
	}
	var live []*user
	for _, u := range s.users {
		if u.licensed && !u.deleted {
			live = append(live, u)
		}
	}
	if len(live) == 0 {
		return fmt.Errorf("scenario create-team: no licensed user to own the team")
	}
	seq := s.nextSeq()
	nick := strings.ToLower(strings.Join(strings.Fields(name), ""))
	g := &group{id: guid(s.cfg.Seed, "group", "created", seq), displayName: name, mail: nick + "@" + tenantDomain,
		members: live[:min(4, len(live))], owners: live[:1]}
	g.team = &teamInfo{description: name, created: s.logicalNow(seq), allowDeleteMessages: true}
	ch := s.newChannel(g, "General", "standard", s.logicalNow(seq))
	s.fillChannel(s.newRand(seq), g, ch, 2)
	s.groups = append(s.groups, g)
	res.IDs = append(res.IDs, g.id)
	res.ItemsCreated = len(ch.messages)
	return nil
}

// postToGroup posts count replies into g's first conversation thread.
func (s *Sim) postToGroup(g *group, count int, res *ScenarioResult) error {
	if len(g.conversations) == 0 || len(g.members) == 0 {
		return fmt.Errorf("scenario post-to-group: group %s has no conversation", g.displayName)
	}
	th := g.conversations[0].threads[0]
	for range count {
		seq := s.nextSeq()
		r := s.newRand(seq)
		p := &groupPost{id: itemID("AAMkAGpost", s.cfg.Seed, th.id, "new", seq), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: s.logicalNow(seq)}
		th.posts = append(th.posts, p)
		res.ItemsCreated++
		res.IDs = append(res.IDs, p.id)
	}
	return nil
}

// ChannelMessageDump is a channel message as the tenant holds it, for
// checking backups and restores.
type ChannelMessageDump struct {
	ID      string               `json:"id"`
	From    string               `json:"from"` // the author's user principal name
	Created time.Time            `json:"created"`
	Body    string               `json:"body"` // the text, as posted or last edited
	Deleted bool                 `json:"deleted,omitempty"`
	Replies []ChannelMessageDump `json:"replies,omitempty"`
}

// ChannelDump is a channel with its messages in order.
type ChannelDump struct {
	ID             string               `json:"id"`
	Name           string               `json:"name"`
	MembershipType string               `json:"membership_type"`
	Messages       []ChannelMessageDump `json:"messages"`
}

// DumpChannel returns the messages of the channel name (id or display
// name) of the team key (id, mail or display name).
func (s *Sim) DumpChannel(key, name string) (ChannelDump, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.liveGroup(key, true)
	if g == nil {
		return ChannelDump{}, fmt.Errorf("dump channel: no team %q", key)
	}
	ch := findChannel(g, name)
	if ch == nil || name == "" {
		return ChannelDump{}, fmt.Errorf("dump channel: team %s has no channel %q", g.displayName, name)
	}
	d := ChannelDump{ID: ch.id, Name: ch.displayName, MembershipType: channelJSON(g, ch)["membershipType"].(string)}
	for _, m := range ch.messages {
		md := dumpMessage(m)
		for _, rp := range m.replies {
			md.Replies = append(md.Replies, dumpMessage(rp))
		}
		d.Messages = append(d.Messages, md)
	}
	return d, nil
}

func dumpMessage(m *chatMessage) ChannelMessageDump {
	return ChannelMessageDump{ID: m.id, From: m.from.upn, Created: m.created, Body: m.body, Deleted: !m.deletedAt.IsZero()}
}

// TeamInfo names a team or group of the tenant and its channels.
type TeamInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Mail     string   `json:"mail"`
	Team     bool     `json:"team"`
	Archived bool     `json:"archived,omitempty"`
	Channels []string `json:"channels,omitempty"`
	// Posts counts the posts of the group's conversation threads.
	Posts int `json:"posts"`
}

// Teams lists the tenant's groups that are not deleted, teams or not.
func (s *Sim) Teams() []TeamInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []TeamInfo
	for _, g := range s.groups {
		if g.deleted {
			continue
		}
		t := TeamInfo{ID: g.id, Name: g.displayName, Mail: g.mail, Team: g.isTeam(), Archived: g.team != nil && g.team.archived}
		for _, ch := range g.channels {
			t.Channels = append(t.Channels, ch.displayName)
		}
		for _, c := range g.conversations {
			for _, th := range c.threads {
				t.Posts += len(th.posts)
			}
		}
		out = append(out, t)
	}
	return out
}

// GroupThreadDump is a group conversation thread as the tenant holds it.
type GroupThreadDump struct {
	Topic string          `json:"topic"`
	Posts []GroupPostDump `json:"posts"`
}

// GroupPostDump is a post of a group thread: its author's user principal
// name, its HTML body and the names of its attachments.
type GroupPostDump struct {
	From        string   `json:"from"`
	Body        string   `json:"body"`
	Attachments []string `json:"attachments,omitempty"`
}

// DumpGroupThreads returns the conversation threads of the group key
// (id, mail or display name).
func (s *Sim) DumpGroupThreads(key string) ([]GroupThreadDump, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.liveGroup(key, false)
	if g == nil || key == "" {
		return nil, fmt.Errorf("dump group threads: no group %q", key)
	}
	var out []GroupThreadDump
	for _, c := range g.conversations {
		for _, th := range c.threads {
			d := GroupThreadDump{Topic: th.topic}
			for _, p := range th.posts {
				pd := GroupPostDump{From: p.from.upn, Body: p.body}
				for _, a := range p.attachments {
					pd.Attachments = append(pd.Attachments, a.name)
				}
				d.Posts = append(d.Posts, pd)
			}
			out = append(out, d)
		}
	}
	return out, nil
}
