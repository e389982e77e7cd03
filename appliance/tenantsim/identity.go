package tenantsim

// identity is who made a change, as a drive item's createdBy and
// lastModifiedBy report it: a user, or an application acting alone (an
// app-only upload, which SharePoint attributes to the app and to its
// "SharePoint App" user).
type identity struct {
	user           *user
	appID, appName string
}

func (id *identity) json() map[string]any {
	if id.user != nil {
		return map[string]any{"user": map[string]any{"id": id.user.id, "displayName": id.user.displayName, "email": id.user.mail}}
	}
	return map[string]any{
		"application": map[string]any{"id": id.appID, "displayName": id.appName},
		"user":        map[string]any{"displayName": "SharePoint App"},
	}
}

func userIdentity(u *user) *identity { return &identity{user: u} }

// appIdentity is the identity of the application a request came from.
func (q *request) appIdentity() *identity {
	id := &identity{appID: q.caller.AppID, appName: q.caller.AppID}
	for _, a := range []App{q.sim.backup, q.sim.restore} {
		if a.ClientID == q.caller.AppID {
			id.appName = a.Name
		}
	}
	return id
}

// author is who wrote version v of it: the identity recorded with the
// version, else the drive's owner, else a member of the site's group
// chosen by the item and version ids (generated library content), else
// nobody.
func (d *drive) author(it *driveItem, v *fileVersion) *identity {
	if v != nil && v.by != nil {
		return v.by
	}
	if d.owner != nil {
		return userIdentity(d.owner)
	}
	if d.site != nil && d.site.group != nil && len(d.site.group.members) > 0 {
		vid := ""
		if v != nil {
			vid = v.id
		}
		m := d.site.group.members
		return userIdentity(m[seedOf(it.id, vid)%uint64(len(m))])
	}
	return nil
}

// creator is who created it: recorded at creation, else the author of
// its first version (a file) or of the folder itself.
func (d *drive) creator(it *driveItem) *identity {
	if it.createdBy != nil {
		return it.createdBy
	}
	if len(it.versions) > 0 {
		return d.author(it, it.versions[0])
	}
	return d.author(it, nil)
}
