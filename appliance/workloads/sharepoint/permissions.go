package sharepoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

// A site's permissions as Graph v1.0 serves them, kept as one record
// (sharepoint/<site>/permissions.json):
//
//   - the applications' permissions on the site (/sites/{id}/permissions,
//     what Sites.Selected consents to). Graph lists them without their
//     roles, so each is read by id. Graph requires Sites.FullControl.All
//     to read them; a backup app without it keeps the rest and says so
//     in the record (AppSkipped).
//   - who has access to each document library: its root's permissions
//     (/drives/{id}/root/permissions): the site's own groups, people
//     given access, links.
//
// Every one of these calls costs 5 resource units; the record is read
// again each run (Graph has no delta for it) and stored again at no cost
// in space when it did not change.

// sitePermissions is the stored record.
type sitePermissions struct {
	App        []json.RawMessage    `json:"app"`
	AppSkipped string               `json:"app_skipped,omitempty"`
	Libraries  []libraryPermissions `json:"libraries"`
}

// libraryPermissions is who had access to a library's root.
type libraryPermissions struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Permissions []json.RawMessage `json:"permissions"`
}

// appPermission is the part of an application's permission on a site a
// backup and a restore read.
type appPermission struct {
	ID         string   `json:"id"`
	Roles      []string `json:"roles"`
	Identities []struct {
		Application *struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"application"`
	} `json:"grantedToIdentitiesV2"`
}

// app is the application the permission is granted to (nil for none).
func (p appPermission) app() map[string]any {
	for _, id := range p.Identities {
		if id.Application != nil && id.Application.ID != "" {
			return map[string]any{"id": id.Application.ID, "displayName": id.Application.DisplayName}
		}
	}
	return nil
}

func permissionsPath(siteID string) string { return PathPrefix(siteID) + "permissions.json" }

// permissions stores the site's permissions; when a part cannot be read
// the failure is counted and the previous record is kept instead.
func (b *backup) permissions(ctx context.Context, libs []library) {
	if libs == nil {
		b.carry(permissionsPath(b.u.ID)) // the libraries could not be listed
		return
	}
	var rec sitePermissions
	var err error
	rec.App, err = b.appPermissions(ctx)
	if st, _ := graph.ErrorOf(err); st == http.StatusForbidden || st == http.StatusUnauthorized {
		rec.AppSkipped = "Graph requires Sites.FullControl.All to read a site's application permissions; grant it to the backup app to keep them (" + graph.Describe(err) + ")"
		err = nil
	}
	for _, l := range libs {
		if err != nil {
			break
		}
		var perms []json.RawMessage
		perms, err = b.c.All(ctx, "/drives/"+url.PathEscape(l.ID)+"/root/permissions", nil)
		rec.Libraries = append(rec.Libraries, libraryPermissions{ID: l.ID, Name: l.Name, Permissions: perms})
	}
	if err != nil {
		b.fail("site permissions: %s", graph.Describe(err))
		b.carry(permissionsPath(b.u.ID))
		return
	}
	body, _ := json.Marshal(rec)
	b.put(permissionsPath(b.u.ID), b.meta(catalog.KindSitePermissions, "Site permissions"), body)
}

// appPermissions reads the applications' permissions on the site, each
// by id when the list leaves its roles out.
func (b *backup) appPermissions(ctx context.Context) ([]json.RawMessage, error) {
	base := "/sites/" + url.PathEscape(b.u.ID) + "/permissions"
	raws, err := b.c.All(ctx, base, nil)
	if err != nil {
		return nil, err
	}
	for i, raw := range raws {
		var p appPermission
		if json.Unmarshal(raw, &p) != nil || len(p.Roles) > 0 || p.ID == "" {
			continue
		}
		one, err := b.c.Get(ctx, base+"/"+url.PathEscape(p.ID), nil)
		if err != nil {
			return nil, err
		}
		raws[i] = one
	}
	return raws, nil
}

// RestorePermissions re-applies stored site permissions (items of kind
// site-permissions) to the site each came from or to o.TargetUserID,
// only when o.Permissions asks for it (old permissions can re-open what
// was closed on purpose). An application's permission is granted again;
// one the application holds already is kept (skip, copy) or given the
// stored roles (replace). Each library's people and links are re-applied
// to the library of the same name (restore its files first when it is
// gone); the site's own groups come with the site.
func RestorePermissions(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	if !o.Permissions {
		return res, errors.New("site permissions are re-applied only when asked: add --permissions (old permissions can re-open access that was closed on purpose)")
	}
	c := &graph.Caller{G: g, PageSize: 200}
	for _, it := range items {
		if it.Meta[catalog.MetaKind] != catalog.KindSitePermissions {
			continue
		}
		var buf bytes.Buffer
		var rec sitePermissions
		if err := src.WriteItem(&buf, it); err != nil || json.Unmarshal(buf.Bytes(), &rec) != nil {
			res.Failed++
			res.Errors = append(res.Errors, fmt.Sprintf("permissions of %s: the stored copy is not readable (%v); run 'strongroom vault scrub --repair'", it.Meta[catalog.MetaUser], err))
			continue
		}
		target := o.TargetUserID
		if target == "" {
			target = it.Meta[catalog.MetaUserID]
		}
		siteID, err := findSite(ctx, c, target)
		if err != nil {
			return res, err
		}
		regrantApps(ctx, c, siteID, rec.App, o.Collision, &res)
		for _, l := range rec.Libraries {
			reshareLibrary(ctx, c, siteID, l, &res)
		}
	}
	return res, nil
}

// regrantApps grants each stored application permission on the site.
func regrantApps(ctx context.Context, c *graph.Caller, siteID string, stored []json.RawMessage, collision string, res *workloads.RestoreResult) {
	if len(stored) == 0 {
		return
	}
	failf := func(what string, err error) {
		res.Failed++
		res.Errors = append(res.Errors, fmt.Sprintf("%s on site %s: %s%s", what, siteID, graph.Describe(err), permissionRemedy(err)))
	}
	base := "/sites/" + url.PathEscape(siteID) + "/permissions"
	raws, err := c.All(ctx, base, nil)
	if err != nil {
		failf("the applications' permissions", err)
		return
	}
	have := map[string]string{} // application id → permission id
	for _, raw := range raws {
		var p appPermission
		if json.Unmarshal(raw, &p) == nil && p.app() != nil {
			have[p.app()["id"].(string)] = p.ID
		}
	}
	for _, raw := range stored {
		var p appPermission
		if json.Unmarshal(raw, &p) != nil || p.app() == nil || len(p.Roles) == 0 {
			continue
		}
		existing, ok := have[p.app()["id"].(string)]
		var err error
		switch {
		case ok && collision != workloads.CollisionReplace:
			res.Skipped++
		case ok:
			if _, err = c.WriteJSON(ctx, abstractions.PATCH, base+"/"+url.PathEscape(existing), map[string]any{"roles": p.Roles}); err == nil {
				res.Replaced++
			}
		default:
			body := map[string]any{"roles": p.Roles, "grantedToIdentities": []any{map[string]any{"application": p.app()}}}
			if _, err = c.WriteJSON(ctx, abstractions.POST, base, body); err == nil {
				res.Restored++
			}
		}
		if err != nil {
			failf(fmt.Sprintf("permission of application %v", p.app()["displayName"]), err)
		}
	}
}

// permissionRemedy says what to do when a site permission is refused.
func permissionRemedy(err error) string {
	if st, _ := graph.ErrorOf(err); st == http.StatusForbidden || st == http.StatusUnauthorized {
		return "; grant the restore app Sites.FullControl.All, which Graph requires to write a site's permissions"
	}
	return ""
}

// reshareLibrary re-applies the people and links of a library's root
// that it lacks; what it grants already is skipped.
func reshareLibrary(ctx context.Context, c *graph.Caller, siteID string, l libraryPermissions, res *workloads.RestoreResult) {
	driveID, err := findLibrary(ctx, c, siteID, l.Name)
	if err != nil {
		res.Failed++
		res.Errors = append(res.Errors, fmt.Sprintf("access to library %s: %v; restore the library's files first (it is created again), then its permissions", l.Name, err))
		return
	}
	root := "/drives/" + url.PathEscape(driveID) + "/root"
	current, err := c.All(ctx, root+"/permissions", nil)
	if err != nil {
		res.Failed++
		res.Errors = append(res.Errors, fmt.Sprintf("access to library %s: %s", l.Name, graph.Describe(err)))
		return
	}
	has := map[string]bool{}
	for _, raw := range current {
		has[onedrive.SharingKey(raw)] = true
	}
	var missing []json.RawMessage
	for _, raw := range l.Permissions {
		switch k := onedrive.SharingKey(raw); {
		case k == "":
		case has[k]:
			res.Skipped++ // the library grants it already
		default:
			missing = append(missing, raw)
		}
	}
	applied, problems := onedrive.Reshare(ctx, c, root, missing)
	res.Restored += applied
	for _, p := range problems {
		res.Failed++
		res.Errors = append(res.Errors, "access to library "+l.Name+": "+strings.TrimSpace(p))
	}
}
