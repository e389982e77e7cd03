package tenantsim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
)

// generateGroupExtras gives the first post of every group's first thread
// a file attachment. It draws from a stream of its own.
func (s *Sim) generateGroupExtras() {
	for gi, g := range s.groups {
		if len(g.members) == 0 || len(g.conversations) == 0 {
			continue
		}
		r := rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "group-extras"), uint64(gi)))
		p := g.conversations[0].threads[0].posts[0]
		k := fileKinds[r.IntN(len(fileKinds))]
		p.attachments = append(p.attachments, &attachment{id: itemID("AAMkAGatt", s.cfg.Seed, p.id), name: fmt.Sprintf("%s.%s", fileStems[r.IntN(len(fileStems))], k.ext),
			contentType: k.ct, size: 2_000 + r.IntN(30_000), seed: seedOf(s.cfg.Seed, "group-attachment", p.id)})
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
	return readPair(q, q.thread, func(g *group, th *convThread) (any, *graphError) {
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

// handleGroupEvents answers as Graph does an application asking for a
// group's calendar: group calendars are served to signed-in users only
// (delegated permissions), never to an application.
func handleGroupEvents(q *request) *graphError {
	return errf(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Group calendars are not available to applications; only a signed-in user (delegated Group.Read.All) can read them.")
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
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		return project(groupJSON(g), selectFields(q.r)), nil
	})
}
