package tenantsim_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKSitePermissions guards the site permission routes through the
// SDK's typed models: the backup app (read-only) is refused, as Graph
// refuses an app without Sites.FullControl.All; the list leaves the roles
// out and GET by id has them; a create for another application is listed
// and in the site's dump; a create for an application already granted
// changes its roles; a role Graph does not know is refused; a library's
// root lists the site's groups.
func TestSimSDKSitePermissions(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	ctx := context.Background()
	c := sdkClient(t, s, s.RestoreApp())
	all, err := c.Sites().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	siteID := *all.GetValue()[0].GetId()
	var oerr *odataerrors.ODataError
	if _, err := sdkClient(t, s, s.BackupApp()).Sites().BySiteId(siteID).Permissions().Get(ctx, nil); !errors.As(err, &oerr) || oerr.ResponseStatusCode != 403 {
		t.Fatalf("the backup app read the site's permissions: %v", err)
	}
	pb := c.Sites().BySiteId(siteID).Permissions()
	list, err := pb.Get(ctx, nil)
	if err != nil || len(list.GetValue()) == 0 {
		t.Fatalf("list: %v", err)
	}
	first := list.GetValue()[0]
	if len(first.GetRoles()) != 0 || first.GetGrantedToIdentitiesV2()[0].GetApplication() == nil {
		t.Fatalf("listed permission: roles %v, identities %v", first.GetRoles(), first.GetGrantedToIdentitiesV2())
	}
	one, err := pb.ByPermissionId(*first.GetId()).Get(ctx, nil)
	if err != nil || len(one.GetRoles()) == 0 {
		t.Fatalf("get by id: %v, roles %v", err, one.GetRoles())
	}

	grant := func(appID string, roles ...string) (models.Permissionable, error) {
		p := models.NewPermission()
		p.SetRoles(roles)
		app := models.NewIdentity()
		app.SetId(&appID)
		app.SetDisplayName(ptr("Archiv-App"))
		who := models.NewIdentitySet()
		who.SetApplication(app)
		p.SetGrantedToIdentities([]models.IdentitySetable{who})
		return pb.Post(ctx, p, nil)
	}
	if _, err := grant("11111111-2222-3333-4444-555555555555", "write"); err != nil {
		t.Fatal(err)
	}
	d, err := s.DumpSite(siteID)
	if err != nil {
		t.Fatal(err)
	}
	n := len(d.AppPermissions)
	if _, err := grant("11111111-2222-3333-4444-555555555555", "read"); err != nil {
		t.Fatal(err)
	}
	if d, _ = s.DumpSite(siteID); len(d.AppPermissions) != n || !contains(d.AppPermissions, "11111111-2222-3333-4444-555555555555:Archiv-App:read") {
		t.Fatalf("after granting the same app again: %q", d.AppPermissions)
	}
	if _, err := grant("11111111-2222-3333-4444-555555555555", "owner"); !errors.As(err, &oerr) || oerr.ResponseStatusCode != 400 {
		t.Fatalf("role owner: %v, want 400", err)
	}

	drives, err := c.Sites().BySiteId(siteID).Drives().Get(ctx, nil)
	if err != nil || len(drives.GetValue()) == 0 {
		t.Fatalf("drives: %v", err)
	}
	perms, err := c.Drives().ByDriveId(*drives.GetValue()[0].GetId()).Items().ByDriveItemId("root").Permissions().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	groups := 0
	for _, p := range perms.GetValue() {
		if p.GetGrantedToV2() != nil && p.GetGrantedToV2().GetSiteGroup() != nil {
			groups++
		}
	}
	if groups != 3 {
		t.Errorf("the library root lists %d site groups, want Owners, Members, Visitors", groups)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
