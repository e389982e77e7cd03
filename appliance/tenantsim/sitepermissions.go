package tenantsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Site permissions as Graph v1.0 serves them. /sites/{id}/permissions
// holds the permissions granted to applications on the site (what
// Sites.Selected consents to); reading and writing them takes
// Sites.FullControl.All. The site's own groups (Owners, Members,
// Visitors) and the people given access to a library appear on the
// library's root, /drives/{id}/root/permissions, as grantedToV2.siteGroup
// and grantedToV2.user permissions.

var permSitesFullControl = permission{"Sites.FullControl.All"}

// appGrant is a permission of an application on a site.
type appGrant struct {
	id, appID, appName string
	roles              []string
}

// siteRoles are the roles an application may hold on a site.
var siteRoles = []string{"read", "write", "manage", "fullcontrol"}

func (s *Sim) sitePermissionRoutes() {
	rt := &s.routes
	rt.add(http.MethodGet, "sites/{sid}/permissions", "sites", permSitesFullControl, handleListSitePermissions)
	rt.add(http.MethodPost, "sites/{sid}/permissions", "sites", permSitesFullControl, handleCreateSitePermission)
	rt.add(http.MethodGet, "sites/{sid}/permissions/{pmid}", "sites", permSitesFullControl, handleGetSitePermission)
	rt.add(http.MethodPatch, "sites/{sid}/permissions/{pmid}", "sites", permSitesFullControl, handlePatchSitePermission)
	rt.add(http.MethodDelete, "sites/{sid}/permissions/{pmid}", "sites", permSitesFullControl, handleDeleteSitePermission)
}

// generateSitePermissions grants every site one application ("write")
// and the first a second one ("read"), and gives a member of the site's
// group write access to each of its libraries. It draws nothing random
// and takes no sequence number, so what was generated before stays.
func (s *Sim) generateSitePermissions() {
	apps := []appGrant{{appID: guid(s.cfg.Seed, "app", "timesheets"), appName: "Contoso Zeiterfassung – Ü", roles: []string{"write"}},
		{appID: guid(s.cfg.Seed, "app", "payroll"), appName: "Payroll Export", roles: []string{"read"}}}
	for i, st := range s.sites {
		for _, a := range apps[:2-i%2] {
			a.id = appGrantID(st, a.appID)
			a.roles = slices.Clone(a.roles)
			st.appGrants = append(st.appGrants, &a)
		}
		if st.group == nil || len(st.group.members) == 0 {
			continue
		}
		u := st.group.members[len(st.group.members)-1]
		for _, d := range st.drives {
			root := d.items[d.rootID]
			root.grants = append(root.grants, &grant{id: "grant-" + shortHash(root.id, 5), email: u.mail, role: "write", u: u})
		}
	}
}

// appGrantID is the id of app's permission on st (opaque, as Graph's).
func appGrantID(st *site, app string) string {
	return "aTowaS50fG1zLnNwLmV4dHw" + shortHash(st.id+app, 10)
}

// json is the permission as GET .../permissions/{id} serves it; the list
// leaves out the roles, as Graph does (read each to learn them).
func (a *appGrant) json(withRoles bool) map[string]any {
	who := []any{map[string]any{"application": map[string]any{"id": a.appID, "displayName": a.appName}}}
	j := map[string]any{"id": a.id, "grantedToIdentitiesV2": who, "grantedToIdentities": who}
	if withRoles {
		j["roles"] = slices.Clone(a.roles)
	} else {
		j["roles"] = []any{}
	}
	return j
}

// siteGroupPermissions are the site's own groups as a library's root
// lists them.
func siteGroupPermissions(st *site) []map[string]any {
	var out []map[string]any
	for _, g := range []struct{ name, role string }{{"Owners", "owner"}, {"Members", "write"}, {"Visitors", "read"}} {
		name := st.displayName + " " + g.name
		out = append(out, map[string]any{"id": shortHash(st.id+g.name, 8), "roles": []any{g.role},
			"grantedToV2": map[string]any{"siteGroup": map[string]any{"id": shortHash(st.id+g.name, 3), "displayName": name, "loginName": name}}})
	}
	return out
}

func (q *request) appGrant() (*site, int, *graphError) {
	st, gerr := q.site()
	if gerr != nil {
		return nil, 0, gerr
	}
	i := slices.IndexFunc(st.appGrants, func(a *appGrant) bool { return a.id == q.param("pmid") })
	if i < 0 {
		return nil, 0, errf(http.StatusNotFound, "itemNotFound", "The requested permission could not be found.")
	}
	return st, i, nil
}

func handleListSitePermissions(q *request) *graphError {
	return readOf(q, q.site, func(st *site) (any, *graphError) {
		all := []map[string]any{}
		for _, a := range st.appGrants {
			all = append(all, a.json(false))
		}
		return q.listPage("permissions", all, 100, 200)
	})
}

func handleGetSitePermission(q *request) *graphError {
	return readPair(q, q.appGrant, func(st *site, i int) (any, *graphError) {
		return st.appGrants[i].json(true), nil
	})
}

// sitePermissionIn is the body of a create or update.
type sitePermissionIn struct {
	Roles        []string      `json:"roles"`
	Identities   []appIdentity `json:"grantedToIdentities"`
	IdentitiesV2 []appIdentity `json:"grantedToIdentitiesV2"`
}

type appIdentity struct {
	Application *struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	} `json:"application"`
}

func checkSiteRoles(roles []string) *graphError {
	if len(roles) == 0 {
		return errf(http.StatusBadRequest, "invalidRequest", "roles is required: read, write, manage or fullcontrol.")
	}
	for _, r := range roles {
		if !slices.Contains(siteRoles, strings.ToLower(r)) {
			return errf(http.StatusBadRequest, "invalidRequest", fmt.Sprintf("Role %q is not one of read, write, manage, fullcontrol.", r))
		}
	}
	return nil
}

// handleCreateSitePermission grants an application roles on the site;
// an application already granted gets the roles asked instead.
func handleCreateSitePermission(q *request) *graphError {
	var in sitePermissionIn
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	var appID, name string
	for _, id := range append(in.Identities, in.IdentitiesV2...) {
		if id.Application != nil {
			appID, name = id.Application.ID, id.Application.DisplayName
		}
	}
	if appID == "" {
		return errf(http.StatusBadRequest, "invalidRequest", "grantedToIdentities must name one application; only application permissions can be created on a site.")
	}
	if gerr := checkSiteRoles(in.Roles); gerr != nil {
		return gerr
	}
	return writeOf(q, q.site, func(st *site) (any, *graphError) {
		q.sim.nextSeq()
		if i := slices.IndexFunc(st.appGrants, func(a *appGrant) bool { return a.appID == appID }); i >= 0 {
			st.appGrants[i].roles = slices.Clone(in.Roles)
			return st.appGrants[i].json(true), nil
		}
		a := &appGrant{id: appGrantID(st, appID), appID: appID, appName: name, roles: slices.Clone(in.Roles)}
		st.appGrants = append(st.appGrants, a)
		return a.json(true), nil
	})
}

func handlePatchSitePermission(q *request) *graphError {
	var in sitePermissionIn
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if gerr := checkSiteRoles(in.Roles); gerr != nil {
		return gerr
	}
	return updatePair(q, q.appGrant, func(st *site, i int) (any, *graphError) {
		st.appGrants[i].roles = slices.Clone(in.Roles)
		out := st.appGrants[i].json(true)
		q.sim.nextSeq()
		return out, nil
	})
}

func handleDeleteSitePermission(q *request) *graphError {
	return writePair(q, q.appGrant, func(st *site, i int) (any, *graphError) {
		st.appGrants = slices.Delete(st.appGrants, i, i+1)
		q.sim.nextSeq()
		return nil, nil
	})
}
