package tenantsim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/sites"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKSitePages guards the site pages shapes through the SDK: the
// pages list parses as sitePage objects with title, name and webUrl, the
// cast listing agrees, and a page's canvas ($expand=canvasLayout, the
// canvasLayout path and webParts) parses into text web parts.
func TestSimSDKSitePages(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	all, err := c.Sites().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, site := range all.GetValue() {
		sb := c.Sites().BySiteId(*site.GetId())
		pages, err := sb.Pages().Get(ctx, nil)
		if err != nil {
			t.Fatalf("pages of %s: %v", *site.GetName(), err)
		}
		if len(pages.GetValue()) < 3 {
			t.Fatalf("site %s has %d pages, want at least 3", *site.GetName(), len(pages.GetValue()))
		}
		home := false
		for _, p := range pages.GetValue() {
			sp, ok := p.(models.SitePageable)
			if !ok {
				t.Fatalf("page parsed as %T, want a site page", p)
			}
			if sp.GetTitle() == nil || sp.GetName() == nil || !strings.HasSuffix(*sp.GetName(), ".aspx") || sp.GetWebUrl() == nil || !strings.Contains(*sp.GetWebUrl(), "/SitePages/") {
				t.Errorf("page %s lacks title, name or webUrl", *sp.GetId())
			}
			if sp.GetCanvasLayout() != nil {
				t.Errorf("page %s has a canvas without $expand", *sp.GetId())
			}
			if *sp.GetName() == "Home.aspx" && sp.GetPageLayout() != nil && *sp.GetPageLayout() == models.HOME_PAGELAYOUTTYPE {
				home = true
			}
		}
		if !home {
			t.Errorf("site %s has no home page", *site.GetName())
		}
		cast, err := sb.Pages().GraphSitePage().Get(ctx, nil)
		if err != nil || len(cast.GetValue()) != len(pages.GetValue()) {
			t.Fatalf("pages/microsoft.graph.sitePage: %v", err)
		}
		pid := *pages.GetValue()[1].GetId()
		pg, err := sb.Pages().ByBaseSitePageId(pid).GraphSitePage().Get(ctx, &sites.ItemPagesItemGraphSitePageRequestBuilderGetRequestConfiguration{
			QueryParameters: &sites.ItemPagesItemGraphSitePageRequestBuilderGetQueryParameters{Expand: []string{"canvasLayout"}},
		})
		if err != nil {
			t.Fatalf("page %s: %v", pid, err)
		}
		if pg.GetTitleArea() == nil || pg.GetTitleArea().GetLayout() == nil {
			t.Errorf("page %s has no title area", pid)
		}
		cl := pg.GetCanvasLayout()
		if cl == nil || len(cl.GetHorizontalSections()) == 0 {
			t.Fatalf("page %s: no canvas with $expand=canvasLayout", pid)
		}
		parts := 0
		for _, sec := range cl.GetHorizontalSections() {
			if sec.GetLayout() == nil || len(sec.GetColumns()) == 0 {
				t.Errorf("section %s lacks layout or columns", *sec.GetId())
			}
			for _, col := range sec.GetColumns() {
				for _, wp := range col.GetWebparts() {
					tw, ok := wp.(models.TextWebPartable)
					if !ok || tw.GetInnerHtml() == nil || !strings.HasPrefix(*tw.GetInnerHtml(), "<p>") {
						t.Errorf("web part %s parsed as %T without inner HTML", *wp.GetId(), wp)
					}
					parts++
				}
			}
		}
		wps, err := sb.Pages().ByBaseSitePageId(pid).GraphSitePage().WebParts().Get(ctx, nil)
		if err != nil || len(wps.GetValue()) != parts {
			t.Errorf("webParts: %v, %d parts, canvas has %d", err, len(wps.GetValue()), parts)
		}
		canvas, err := sb.Pages().ByBaseSitePageId(pid).GraphSitePage().CanvasLayout().Get(ctx, nil)
		if err != nil || len(canvas.GetHorizontalSections()) != len(cl.GetHorizontalSections()) {
			t.Errorf("canvasLayout path: %v", err)
		}
	}
}

// TestSimSDKCreateLink guards createLink: the restore app makes a
// sharing link (the backup app is refused), asking again for the same
// type and scope returns that link, and the item's permissions list it.
func TestSimSDKCreateLink(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	ctx := context.Background()
	u := firstMailbox(t, s)
	d, err := s.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var file string
	for _, it := range d.Items {
		if !it.Folder {
			file = it.ID
			break
		}
	}
	body := drives.NewItemItemsItemCreateLinkPostRequestBody()
	body.SetTypeEscaped(ptr("edit"))
	body.SetScope(ptr("organization"))
	bc := sdkClient(t, s, s.BackupApp())
	_, err = bc.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(file).CreateLink().Post(ctx, body, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 403 {
		t.Fatalf("backup app createLink: err %v, want 403", err)
	}
	rc := sdkClient(t, s, s.RestoreApp())
	p, err := rc.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(file).CreateLink().Post(ctx, body, nil)
	if err != nil {
		t.Fatalf("createLink: %v", err)
	}
	if p.GetLink() == nil || *p.GetLink().GetTypeEscaped() != "edit" || *p.GetLink().GetScope() != "organization" || p.GetLink().GetWebUrl() == nil || len(p.GetRoles()) != 1 || p.GetRoles()[0] != "write" {
		t.Fatalf("createLink answered %+v", p)
	}
	again, err := rc.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(file).CreateLink().Post(ctx, body, nil)
	if err != nil || *again.GetId() != *p.GetId() {
		t.Errorf("second createLink of the same kind: %v, id %v want %s", err, again, *p.GetId())
	}
	view := drives.NewItemItemsItemCreateLinkPostRequestBody()
	view.SetTypeEscaped(ptr("view"))
	view.SetScope(ptr("anonymous"))
	v, err := rc.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(file).CreateLink().Post(ctx, view, nil)
	if err != nil || *v.GetId() == *p.GetId() {
		t.Fatalf("anonymous view link: %v", err)
	}
	perms, err := bc.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(file).Permissions().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, pm := range perms.GetValue() {
		found[*pm.GetId()] = true
	}
	if !found[*p.GetId()] || !found[*v.GetId()] {
		t.Errorf("permissions %v lack the created links %s and %s", found, *p.GetId(), *v.GetId())
	}
	it, err := bc.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(file).Get(ctx, nil)
	if err != nil || it.GetShared() == nil {
		t.Errorf("item after createLink: %v, shared facet %v", err, it.GetShared())
	}
}
