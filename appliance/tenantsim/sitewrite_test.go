package tenantsim_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKListAndPageWrites guards the list and page writes a restore
// makes, through the SDK's typed requests: a list created with a column
// lists it beside the template's, takes an item, refuses a field no
// column defines and a read-only one, and changes fields with PATCH; a
// sitePage created with a canvas reads back with it, as a draft; a second
// page of that name answers 409.
func TestSimSDKListAndPageWrites(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.RestoreApp())
	ctx := context.Background()
	all, err := c.Sites().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	sb := c.Sites().BySiteId(*all.GetValue()[0].GetId())

	l := models.NewList()
	l.SetDisplayName(ptr("Books"))
	col := models.NewColumnDefinition()
	col.SetName(ptr("PageCount"))
	col.SetNumber(models.NewNumberColumn())
	l.SetColumns([]models.ColumnDefinitionable{col})
	info := models.NewListInfo()
	info.SetTemplate(ptr("genericList"))
	l.SetList(info)
	made, err := sb.Lists().Post(ctx, l, nil)
	if err != nil || made.GetId() == nil {
		t.Fatalf("create list: %v", err)
	}
	lb := sb.Lists().ByListId(*made.GetId())
	cols, err := lb.Columns().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range cols.GetValue() {
		names[*c.GetName()] = c.GetReadOnly() != nil && *c.GetReadOnly()
	}
	if ro, ok := names["PageCount"]; !ok || ro || names["Title"] || !names["Created"] {
		t.Fatalf("columns of the new list: %v", names)
	}

	item := func(fields map[string]any) (models.ListItemable, error) {
		it := models.NewListItem()
		fs := models.NewFieldValueSet()
		fs.SetAdditionalData(fields)
		it.SetFields(fs)
		return lb.Items().Post(ctx, it, nil)
	}
	for _, bad := range []map[string]any{{"Title": "x", "Pages": 3}, {"Title": "x", "Created": "2020-01-01T00:00:00Z"}} {
		var oe *odataerrors.ODataError
		if _, err := item(bad); !errors.As(err, &oe) || oe.ResponseStatusCode != 400 {
			t.Errorf("item with fields %v: %v, want 400", bad, err)
		}
	}
	it, err := item(map[string]any{"Title": "Dune", "PageCount": 412})
	if err != nil {
		t.Fatal(err)
	}
	fs := models.NewFieldValueSet()
	fs.SetAdditionalData(map[string]any{"PageCount": 896})
	got, err := lb.Items().ByListItemId(*it.GetId()).Fields().Patch(ctx, fs, nil)
	if err != nil || got.GetAdditionalData()["PageCount"] == nil || *got.GetAdditionalData()["PageCount"].(*float64) != 896 {
		t.Fatalf("patch fields: %v %v", err, got)
	}

	page := models.NewSitePage()
	page.SetName(ptr("Restored.aspx"))
	page.SetTitle(ptr("Restored"))
	wp := models.NewTextWebPart()
	wp.SetId(ptr("wp-1"))
	wp.SetInnerHtml(ptr("<p>back</p>"))
	column := models.NewHorizontalSectionColumn()
	column.SetWidth(ptr(int32(12)))
	column.SetWebparts([]models.WebPartable{wp})
	section := models.NewHorizontalSection()
	section.SetColumns([]models.HorizontalSectionColumnable{column})
	canvas := models.NewCanvasLayout()
	canvas.SetHorizontalSections([]models.HorizontalSectionable{section})
	page.SetCanvasLayout(canvas)
	created, err := sb.Pages().Post(ctx, page, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp, ok := created.(models.SitePageable)
	if !ok || sp.GetCanvasLayout() == nil || len(sp.GetCanvasLayout().GetHorizontalSections()) != 1 {
		t.Fatalf("created page: %T %v", created, ok)
	}
	parts := sp.GetCanvasLayout().GetHorizontalSections()[0].GetColumns()[0].GetWebparts()
	if tw, ok := parts[0].(models.TextWebPartable); !ok || *tw.GetInnerHtml() != "<p>back</p>" {
		t.Fatalf("web part read back as %T", parts[0])
	}
	if st := sp.GetPublishingState(); st == nil || *st.GetLevel() != "draft" {
		t.Errorf("a new page is not a draft")
	}
	var oe *odataerrors.ODataError
	if _, err := sb.Pages().Post(ctx, page, nil); !errors.As(err, &oe) || oe.ResponseStatusCode != 409 {
		t.Errorf("a second page of that name: %v, want 409", err)
	}
}
