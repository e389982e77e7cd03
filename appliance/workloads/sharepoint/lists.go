package sharepoint

import (
	"bytes"
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

// listRecord is a stored list: what lists() writes.
type listRecord struct {
	List struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		List        struct {
			Template string `json:"template"`
		} `json:"list"`
	} `json:"list"`
	Columns []map[string]any `json:"columns"`
	Items   []listItem       `json:"items"`
}

type listItem struct {
	ID     string         `json:"id"`
	Fields map[string]any `json:"fields"`
}

// sites resolves target sites (an id or URL) once per restore.
type sites struct {
	c   *graph.Caller
	ids map[string]string
}

func (s *sites) id(ctx context.Context, name string) (string, error) {
	if id, ok := s.ids[name]; ok {
		return id, nil
	}
	id, err := findSite(ctx, s.c, name)
	if err == nil {
		s.ids[name] = id
	}
	return id, err
}

// targetSite is the site an item goes to: o.TargetUserID, else its own.
func targetSite(it vault.Item, o workloads.RestoreOptions) string {
	if o.TargetUserID != "" {
		return o.TargetUserID
	}
	return it.Meta[catalog.MetaUserID]
}

// RestoreLists writes stored lists back into the site o.TargetUserID (id
// or URL; "" the site each came from): a list the site lacks is created
// with the columns it had, then every item goes in; into a list that is
// there, an item already present (the same item id in the same list,
// else the same Title) is skipped, added again (copy) or has its fields
// written over (replace). Only fields the target list has a writable
// column for are written. Items other than lists are ignored; a stored
// document library's list record is skipped (its files restore as files).
func RestoreLists(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	o, err := o.WithCollision()
	if err != nil {
		return res, err
	}
	st := &sites{c: &graph.Caller{G: g, PageSize: 200}, ids: map[string]string{}}
	for _, it := range items {
		if it.Meta[catalog.MetaKind] != catalog.KindList {
			continue
		}
		var rec listRecord
		if err := readJSON(src, it, &rec); err != nil {
			res.Failed++
			res.Errors = append(res.Errors, "list "+it.Meta[catalog.MetaName]+": "+err.Error())
			continue
		}
		if rec.List.List.Template == "documentLibrary" {
			res.Skipped++
			continue
		}
		siteID, err := st.id(ctx, targetSite(it, o))
		if err != nil {
			return res, err
		}
		lr := &listRestore{c: st.c, site: siteID, rec: &rec, o: o}
		r := lr.run(ctx)
		addResult(&res, r, "list "+rec.List.DisplayName+": ")
	}
	return res, nil
}

// readJSON decodes a stored item's content.
func readJSON(src workloads.Source, it vault.Item, v any) error {
	var buf bytes.Buffer
	if err := src.WriteItem(&buf, it); err != nil {
		return fmt.Errorf("read the backup: %w", err)
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return fmt.Errorf("the stored record is not readable: %w", err)
	}
	return nil
}

// listRestore writes one stored list into a site.
type listRestore struct {
	c    *graph.Caller
	site string
	rec  *listRecord
	o    workloads.RestoreOptions

	listID   string
	writable map[string]bool
	byID     map[string]string // existing item id → id
	byTitle  map[string]string // existing item Title → id
}

func (lr *listRestore) base() string {
	return "/sites/" + url.PathEscape(lr.site) + "/lists/" + url.PathEscape(lr.listID)
}

func (lr *listRestore) run(ctx context.Context) workloads.RestoreResult {
	var res workloads.RestoreResult
	fail := func(err error) workloads.RestoreResult {
		res.Failed += len(lr.rec.Items)
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	created, err := lr.open(ctx)
	if err != nil {
		return fail(err)
	}
	if err := lr.readColumns(ctx); err != nil {
		return fail(err)
	}
	if !created {
		if err := lr.readItems(ctx); err != nil {
			return fail(err)
		}
	}
	for _, item := range lr.rec.Items {
		lr.restoreItem(ctx, item, &res)
	}
	return res
}

// open finds the list in the target site by id or display name, or
// creates it with the stored columns; created says it is new.
func (lr *listRestore) open(ctx context.Context) (bool, error) {
	raws, err := lr.c.All(ctx, "/sites/"+url.PathEscape(lr.site)+"/lists", url.Values{"$select": {"id,name,displayName"}})
	if err != nil {
		return false, fmt.Errorf("list the lists of site %s: %s", lr.site, graph.Describe(err))
	}
	for _, raw := range raws {
		var l struct{ ID, DisplayName string }
		if json.Unmarshal(raw, &l) == nil && (l.ID == lr.rec.List.ID || strings.EqualFold(l.DisplayName, lr.rec.List.DisplayName)) {
			lr.listID = l.ID
			return false, nil
		}
	}
	body, err := lr.c.WriteJSON(ctx, abstractions.POST, "/sites/"+url.PathEscape(lr.site)+"/lists", map[string]any{
		"displayName": lr.rec.List.DisplayName, "columns": customColumns(lr.rec.Columns), "list": map[string]any{"template": "genericList"}})
	if err == nil {
		lr.listID, err = idOf(body)
	}
	if err != nil {
		return false, fmt.Errorf("create the list in site %s: %s (does the restore app have Sites.ReadWrite.All or Sites.Manage.All?)", lr.site, describe(err))
	}
	return true, nil
}

// customColumns are the stored column definitions a new generic list
// needs besides its template's: writable ones other than Title, without
// their ids.
func customColumns(cols []map[string]any) []map[string]any {
	out := []map[string]any{}
	for _, c := range cols {
		if ro, _ := c["readOnly"].(bool); ro || c["name"] == "Title" {
			continue
		}
		if sealed, _ := c["sealed"].(bool); sealed {
			continue
		}
		def := map[string]any{}
		for k, v := range c {
			if k != "id" && !strings.HasPrefix(k, "@odata.") {
				def[k] = v
			}
		}
		out = append(out, def)
	}
	return out
}

// readColumns learns which fields the target list can take.
func (lr *listRestore) readColumns(ctx context.Context) error {
	raws, err := lr.c.All(ctx, lr.base()+"/columns", nil)
	if err != nil {
		return fmt.Errorf("read the columns: %s", graph.Describe(err))
	}
	lr.writable = map[string]bool{}
	for _, raw := range raws {
		var c struct {
			Name     string `json:"name"`
			ReadOnly bool   `json:"readOnly"`
		}
		if json.Unmarshal(raw, &c) == nil && !c.ReadOnly {
			lr.writable[c.Name] = true
		}
	}
	return nil
}

// readItems indexes the items the list holds now.
func (lr *listRestore) readItems(ctx context.Context) error {
	raws, err := lr.c.All(ctx, lr.base()+"/items", url.Values{"$expand": {"fields"}})
	if err != nil {
		return fmt.Errorf("read the items: %s", graph.Describe(err))
	}
	lr.byID, lr.byTitle = map[string]string{}, map[string]string{}
	for _, raw := range raws {
		var it listItem
		if json.Unmarshal(raw, &it) != nil || it.ID == "" {
			continue
		}
		lr.byID[it.ID] = it.ID
		if t, _ := it.Fields["Title"].(string); t != "" {
			lr.byTitle[t] = it.ID
		}
	}
	return nil
}

// existing is the id of the item a stored one collides with, or "".
func (lr *listRestore) existing(item listItem) string {
	if lr.listID == lr.rec.List.ID {
		return lr.byID[item.ID]
	}
	if t, _ := item.Fields["Title"].(string); t != "" {
		return lr.byTitle[t]
	}
	return ""
}

func (lr *listRestore) restoreItem(ctx context.Context, item listItem, res *workloads.RestoreResult) {
	fields := map[string]any{}
	for k, v := range item.Fields {
		if lr.writable[k] {
			fields[k] = v
		}
	}
	id := lr.existing(item)
	var err error
	switch {
	case id != "" && lr.o.Collision == workloads.CollisionSkip:
		res.Skipped++
		return
	case id != "" && lr.o.Collision == workloads.CollisionReplace:
		_, err = lr.c.WriteJSON(ctx, abstractions.PATCH, lr.base()+"/items/"+url.PathEscape(id)+"/fields", fields)
		if err == nil {
			res.Replaced++
		}
	default:
		_, err = lr.c.WriteJSON(ctx, abstractions.POST, lr.base()+"/items", map[string]any{"fields": fields})
	}
	if err != nil {
		res.Failed++
		res.Errors = append(res.Errors, fmt.Sprintf("item %s: %s", item.ID, graph.Describe(err)))
		return
	}
	res.Restored++
}

func idOf(body []byte) (string, error) {
	return graph.IDOf(body, "the answer has no id")
}
