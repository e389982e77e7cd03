package tenantsim

import (
	"net/http"
	"slices"
	"strings"
)

// grant is a permission given to a person with POST .../invite.
type grant struct {
	id, email, role string
	u               *user // nil for someone outside the tenant
}

func (g *grant) json() map[string]any {
	who := map[string]any{"email": g.email, "displayName": g.email}
	if g.u != nil {
		who = map[string]any{"id": g.u.id, "displayName": g.u.displayName, "email": g.u.mail}
	}
	return map[string]any{"id": g.id, "roles": []any{g.role}, "grantedToV2": map[string]any{"user": who}, "grantedTo": map[string]any{"user": who},
		"invitation": map[string]any{"email": g.email, "signInRequired": true}}
}

// handleInvite serves POST .../invite: each recipient (by email or
// objectId) is granted the role asked (read or write) and the answer lists
// the new permissions. sendInvitation is accepted and nothing is sent.
func handleInvite(q *request) *graphError {
	var in struct {
		Recipients []struct {
			Email    string `json:"email"`
			ObjectID string `json:"objectId"`
		} `json:"recipients"`
		Roles         []string `json:"roles"`
		RequireSignIn bool     `json:"requireSignIn"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if len(in.Recipients) == 0 || len(in.Roles) != 1 || (in.Roles[0] != "read" && in.Roles[0] != "write") {
		return errf(http.StatusBadRequest, "invalidRequest", "Invalid request: recipients and one role, read or write, are required.")
	}
	var out []map[string]any
	q.sim.mu.Lock()
	_, it, gerr := q.driveAndItem()
	for _, r := range in.Recipients {
		if gerr != nil {
			break
		}
		g := &grant{email: r.Email, role: in.Roles[0]}
		for _, u := range q.sim.users {
			if !u.deleted && (u.id == r.ObjectID || (r.Email != "" && (strings.EqualFold(u.mail, r.Email) || strings.EqualFold(u.upn, r.Email)))) {
				g.u, g.email = u, u.mail
			}
		}
		if g.email == "" {
			gerr = errf(http.StatusBadRequest, "invalidRequest", "Invalid request: recipient "+r.ObjectID+" is not a user of this tenant.")
			break
		}
		g.id = "grant-" + shortHash(it.id, int(q.sim.nextSeq()))
		if i := slices.IndexFunc(it.grants, func(x *grant) bool { return strings.EqualFold(x.email, g.email) }); i >= 0 {
			g.id = it.grants[i].id
			it.grants[i] = g
		} else {
			it.grants = append(it.grants, g)
		}
		out = append(out, g.json())
	}
	q.sim.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"value": out})
	return nil
}
