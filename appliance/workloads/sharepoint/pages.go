package sharepoint

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// pageFields are the properties of a stored sitePage a restore writes
// back: its name, title, layout, title area and canvas (sections, columns
// and web parts).
var pageFields = []string{"name", "title", "pageLayout", "promotionKind", "showComments", "showRecommendedPages", "titleArea", "canvasLayout"}

// RestorePages writes stored site pages back into the site
// o.TargetUserID (id or URL; "" the site each came from) and publishes
// them: a page whose name is free is created with its canvas layout; a
// page of that name is kept (skip), joined by a copy named
// "NAME (restored).aspx" (copy), or given the stored title, title area
// and canvas (replace). Items other than pages are ignored.
func RestorePages(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	o, err := o.WithCollision()
	if err != nil {
		return res, err
	}
	st := &sites{c: &graph.Caller{G: g, PageSize: 200}, ids: map[string]string{}}
	present := map[string]map[string]string{} // site id → lower-case page name → page id
	for _, it := range items {
		if it.Meta[catalog.MetaKind] != catalog.KindPage {
			continue
		}
		failf := func(format string, args ...any) {
			res.Failed++
			res.Errors = append(res.Errors, "page "+it.Meta[catalog.MetaName]+": "+fmt.Sprintf(format, args...))
		}
		var stored map[string]json.RawMessage
		if err := readJSON(src, it, &stored); err != nil {
			failf("%v", err)
			continue
		}
		siteID, err := st.id(ctx, targetSite(it, o))
		if err != nil {
			return res, err
		}
		if present[siteID] == nil {
			if present[siteID], err = sitePages(ctx, st.c, siteID); err != nil {
				return res, err
			}
		}
		if err := restorePage(ctx, st.c, siteID, stored, present[siteID], o, &res); err != nil {
			failf("%v", err)
		}
	}
	return res, nil
}

// sitePages maps the lower-case names of a site's pages to their ids.
func sitePages(ctx context.Context, c *graph.Caller, siteID string) (map[string]string, error) {
	raws, err := c.All(ctx, "/sites/"+url.PathEscape(siteID)+"/pages", url.Values{"$select": {"id,name"}})
	if err != nil {
		return nil, fmt.Errorf("list the pages of site %s: %s", siteID, graph.Describe(err))
	}
	out := map[string]string{}
	for _, raw := range raws {
		var p struct{ ID, Name string }
		if json.Unmarshal(raw, &p) == nil {
			out[strings.ToLower(p.Name)] = p.ID
		}
	}
	return out, nil
}

// restorePage creates, copies or replaces one page and publishes it.
func restorePage(ctx context.Context, c *graph.Caller, siteID string, stored map[string]json.RawMessage, present map[string]string, o workloads.RestoreOptions, res *workloads.RestoreResult) error {
	body := map[string]any{"@odata.type": "#microsoft.graph.sitePage"}
	for _, k := range pageFields {
		if v, ok := stored[k]; ok && string(v) != "null" {
			body[k] = v
		}
	}
	var name string
	if err := json.Unmarshal(stored["name"], &name); err != nil || name == "" {
		return fmt.Errorf("the stored page has no name")
	}
	pages := "/sites/" + url.PathEscape(siteID) + "/pages/"
	id, taken := present[strings.ToLower(name)]
	var err error
	switch {
	case taken && o.Collision == workloads.CollisionSkip:
		res.Skipped++
		return nil
	case taken && o.Collision == workloads.CollisionReplace:
		delete(body, "name")
		_, err = c.WriteJSON(ctx, abstractions.PATCH, pages+url.PathEscape(id)+"/microsoft.graph.sitePage", body)
	default:
		if taken {
			name = freePageName(present, name)
			body["name"] = name
		}
		var made []byte
		if made, err = c.WriteJSON(ctx, abstractions.POST, strings.TrimSuffix(pages, "/"), body); err == nil {
			id, err = idOf(made)
		}
	}
	if err != nil {
		return fmt.Errorf("write the page: %s (does the restore app have Sites.ReadWrite.All?)", describe(err))
	}
	present[strings.ToLower(name)] = id
	if _, err := c.Write(ctx, abstractions.POST, pages+url.PathEscape(id)+"/microsoft.graph.sitePage/publish", "application/json", nil); err != nil {
		return fmt.Errorf("publish the page (it is restored as a draft): %s", graph.Describe(err))
	}
	res.Restored++
	if taken && o.Collision == workloads.CollisionReplace {
		res.Replaced++
	}
	return nil
}

// freePageName is name with " (restored)" or " (restored N)" before .aspx,
// the first not taken.
func freePageName(present map[string]string, name string) string {
	base := strings.TrimSuffix(name, ".aspx")
	for n := 1; ; n++ {
		cand := base + " (restored).aspx"
		if n > 1 {
			cand = fmt.Sprintf("%s (restored %d).aspx", base, n)
		}
		if _, ok := present[strings.ToLower(cand)]; !ok {
			return cand
		}
	}
}
