package tenantsim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// groupEvent is an event of a group's calendar.
type groupEvent struct {
	id, subject string
	start       time.Time
	organizer   *user
}

// generateGroupExtras gives the first post of every group's first thread
// a file attachment and every group with members two calendar events.
// It draws from a stream of its own.
func (s *Sim) generateGroupExtras() {
	for gi, g := range s.groups {
		if len(g.members) == 0 {
			continue
		}
		r := rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "group-extras"), uint64(gi)))
		if len(g.conversations) > 0 {
			p := g.conversations[0].threads[0].posts[0]
			k := fileKinds[r.IntN(len(fileKinds))]
			p.attachments = append(p.attachments, &attachment{id: itemID("AAMkAGatt", s.cfg.Seed, p.id), name: fmt.Sprintf("%s.%s", fileStems[r.IntN(len(fileStems))], k.ext),
				contentType: k.ct, size: 2_000 + r.IntN(30_000), seed: seedOf(s.cfg.Seed, "group-attachment", p.id)})
		}
		for e, subject := range []string{"Quartalsplanung", "Retrospektive – Sprint 12"} {
			g.events = append(g.events, &groupEvent{id: itemID("AAMkAGevent", s.cfg.Seed, g.id, e), subject: subject,
				start: genEpoch.Add(time.Duration(r.IntN(300*24)) * time.Hour), organizer: g.members[r.IntN(len(g.members))]})
		}
	}
}

func (s *Sim) registerGroupRoutes() {
	rt := &s.routes
	const get = http.MethodGet
	rt.add(get, "groups/{gid}/threads/{thid}/posts/{pid}/attachments", "groups", permGroupRead, handlePostAttachments)
	rt.add(get, "groups/{gid}/conversations/{cvid}/threads/{thid}/posts/{pid}/attachments", "groups", permGroupRead, handlePostAttachments)
	rt.add(get, "groups/{gid}", "groups", permGroupRead, handleGetGroup)
	rt.add(get, "groups/{gid}/events", "groups", permGroupRead, handleGroupEvents)
	rt.add(get, "groups/{gid}/calendar/events", "groups", permGroupRead, handleGroupEvents)
}

func handlePostAttachments(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		g, th, gerr := q.thread()
		if gerr != nil {
			return nil, gerr
		}
		for _, p := range th.posts {
			if p.id != q.param("pid") {
				continue
			}
			all := []map[string]any{}
			for _, a := range p.attachments {
				all = append(all, attachmentJSON(&item{modified: p.created}, a, true))
			}
			return q.listPage("groups('"+g.id+"')/threads('"+th.id+"')/posts('"+p.id+"')/attachments", all, 10, 999)
		}
		return nil, errf(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
	})
}

func handleGroupEvents(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		g, gerr := q.group()
		if gerr != nil {
			return nil, gerr
		}
		all := []map[string]any{}
		for _, e := range g.events {
			all = append(all, map[string]any{
				"id": e.id, "subject": e.subject, "isAllDay": false,
				"start":     map[string]any{"dateTime": e.start.UTC().Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
				"end":       map[string]any{"dateTime": e.start.Add(time.Hour).UTC().Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
				"organizer": emailOf(e.organizer),
				"body":      map[string]any{"contentType": "text", "content": e.subject},
			})
		}
		return q.listPage("groups('"+g.id+"')/events", all, 10, 999)
	})
}

func groupJSON(g *group) map[string]any {
	opts := []any{}
	if g.isTeam() {
		opts = append(opts, "Team")
	}
	return map[string]any{"id": g.id, "displayName": g.displayName, "mail": g.mail, "mailEnabled": true, "securityEnabled": false,
		"groupTypes": []any{"Unified"}, "resourceProvisioningOptions": opts, "visibility": "Private"}
}

func handleGetGroup(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		g, gerr := q.group()
		if gerr != nil {
			return nil, gerr
		}
		return project(groupJSON(g), selectFields(q.r)), nil
	})
}
