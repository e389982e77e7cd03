package sharepoint_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/sharepoint"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

// siteEnv is a tenant whose sites are backed up once, with the first
// site's stored lists and pages.
type siteEnv struct {
	*workloadtest.Env
	site          workloads.Unit
	lists, pages  []vault.Item
	read, write   *graph.Caller
	ctx           context.Context
	w             sharepoint.Workload
	snapshot      vault.Snapshot
	siteBase      string
	otherSiteBase string
	other         workloads.Unit
}

func newSiteEnv(t *testing.T) *siteEnv {
	t.Helper()
	e := workloadtest.New(t, tenantsim.Config{Users: 3, Seed: 4})
	s := &siteEnv{Env: e, ctx: context.Background(), read: &graph.Caller{G: e.Backup}, write: &graph.Caller{G: e.Restore}}
	units, err := s.w.Discover(s.ctx, workloads.Tenant{Graph: e.Backup})
	if err != nil || len(units) < 2 {
		t.Fatalf("discover: %v, %d sites", err, len(units))
	}
	_, s.snapshot = e.Run(nil, func(ctx context.Context, sink workloads.Sink, p workloads.Previous) (workloads.Result, error) {
		var sum workloads.Result
		for _, u := range units {
			res, err := s.w.Backup(ctx, e.Backup, sink, p, u)
			if err != nil {
				return sum, err
			}
			sum.Add(res)
		}
		return sum, nil
	})
	s.site, s.other = units[0], units[1]
	s.siteBase, s.otherSiteBase = "/sites/"+url.PathEscape(s.site.ID), "/sites/"+url.PathEscape(s.other.ID)
	for _, it := range e.Items(&s.snapshot) {
		if it.Meta["user_id"] != s.site.ID {
			continue
		}
		switch it.Meta["kind"] {
		case "list":
			s.lists = append(s.lists, it)
		case "page":
			s.pages = append(s.pages, it)
		}
	}
	if len(s.lists) == 0 || len(s.pages) < 2 {
		t.Fatalf("site %s: %d lists, %d pages stored", s.site.Name, len(s.lists), len(s.pages))
	}
	return s
}

func (s *siteEnv) get(path string, q url.Values, v any) {
	s.T.Helper()
	b, err := s.read.Get(s.ctx, path, q)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		s.T.Fatalf("GET %s: %v", path, err)
	}
}

func (s *siteEnv) send(method abstractions.HttpMethod, path string, v any) []byte {
	s.T.Helper()
	var b []byte
	var err error
	if v == nil {
		b, err = s.write.Write(s.ctx, method, path, "application/json", nil)
	} else {
		b, err = s.write.WriteJSON(s.ctx, method, path, v)
	}
	if err != nil {
		s.T.Fatalf("%s %s: %v", method.String(), path, err)
	}
	return b
}

func (s *siteEnv) restore(items []vault.Item, o workloads.RestoreOptions) workloads.RestoreResult {
	s.T.Helper()
	res, err := s.w.Restore(s.ctx, s.Restore, s.V, items, o)
	if err != nil {
		s.T.Fatalf("restore: %v", err)
	}
	return res
}

// listState is a list as Graph shows it: its writable custom columns by
// name and type, and each item's fields (without id), sorted.
type listState struct {
	id      string
	columns []string
	items   []string
}

func (s *siteEnv) listNamed(base, name string) (listState, bool) {
	s.T.Helper()
	var lists struct {
		Value []struct{ ID, DisplayName string } `json:"value"`
	}
	s.get(base+"/lists", nil, &lists)
	for _, l := range lists.Value {
		if l.DisplayName != name {
			continue
		}
		st := listState{id: l.ID}
		var cols struct {
			Value []map[string]any `json:"value"`
		}
		s.get(base+"/lists/"+l.ID+"/columns", nil, &cols)
		for _, c := range cols.Value {
			typ := ""
			for _, f := range []string{"text", "number", "choice", "counter", "dateTime"} {
				if c[f] != nil {
					b, _ := json.Marshal(c[f])
					typ = f + string(b)
				}
			}
			st.columns = append(st.columns, c["name"].(string)+":"+typ)
		}
		var items struct {
			Value []struct {
				Fields map[string]any `json:"fields"`
			} `json:"value"`
		}
		s.get(base+"/lists/"+l.ID+"/items", url.Values{"$expand": {"fields"}}, &items)
		for _, it := range items.Value {
			delete(it.Fields, "id")
			b, _ := json.Marshal(it.Fields)
			st.items = append(st.items, string(b))
		}
		slices.Sort(st.columns)
		slices.Sort(st.items)
		return st, true
	}
	return listState{}, false
}

// TestRestoreLists deletes a site's list and recreates it from the backup
// with its columns and items; then, with the list there, changes and
// deletes items and restores with skip (only the deleted item comes
// back), replace (the changed item's fields come back) and copy (every
// item added again); then puts the list into another site.
func TestRestoreLists(t *testing.T) {
	s := newSiteEnv(t)
	name := s.lists[0].Meta["name"]
	before, ok := s.listNamed(s.siteBase, name)
	if !ok || len(before.items) < 3 {
		t.Fatalf("list %q: %v %+v", name, ok, before)
	}
	s.send(abstractions.DELETE, s.siteBase+"/lists/"+before.id, nil)
	if _, ok := s.listNamed(s.siteBase, name); ok {
		t.Fatal("the list is still there after DELETE")
	}
	res := s.restore(s.lists, workloads.RestoreOptions{})
	if res.Failed != 0 || res.Restored != len(before.items) {
		t.Fatalf("restore of the deleted list: %+v, want %d items", res, len(before.items))
	}
	now, ok := s.listNamed(s.siteBase, name)
	if !ok || !slices.Equal(now.columns, before.columns) || !slices.Equal(now.items, before.items) {
		t.Fatalf("recreated list differs:\n got %v\n%v\nwant %v\n%v", now.columns, now.items, before.columns, before.items)
	}

	// Change the first item, delete the second.
	var items struct {
		Value []struct {
			ID     string         `json:"id"`
			Fields map[string]any `json:"fields"`
		} `json:"value"`
	}
	s.get(s.siteBase+"/lists/"+now.id+"/items", url.Values{"$expand": {"fields"}}, &items)
	s.send(abstractions.PATCH, s.siteBase+"/lists/"+now.id+"/items/"+items.Value[0].ID+"/fields", map[string]any{"Amount": 1, "Status": "Expired"})
	s.send(abstractions.DELETE, s.siteBase+"/lists/"+now.id+"/items/"+items.Value[1].ID, nil)
	n := len(before.items)
	cases := []struct {
		name                        string
		collision                   string
		restored, skipped, replaced int
		wantSame                    bool
		wantItems                   int
	}{
		{"skip brings back the deleted item only", workloads.CollisionSkip, 1, n - 1, 0, false, n},
		{"replace writes the changed fields back", workloads.CollisionReplace, n, 0, n, true, n},
		{"copy adds every item again", workloads.CollisionCopy, n, 0, 0, false, 2 * n},
	}
	for _, tc := range cases {
		res := s.restore(s.lists, workloads.RestoreOptions{Collision: tc.collision})
		if res.Failed != 0 || res.Restored != tc.restored || res.Skipped != tc.skipped || res.Replaced != tc.replaced {
			t.Fatalf("%s: %+v", tc.name, res)
		}
		got, _ := s.listNamed(s.siteBase, name)
		if len(got.items) != tc.wantItems || slices.Equal(got.items, before.items) != tc.wantSame {
			t.Fatalf("%s: list holds %d items (same as before: %v)", tc.name, len(got.items), slices.Equal(got.items, before.items))
		}
	}

	// The other site has a list of that name: the items join it, matched
	// by Title.
	res = s.restore(s.lists, workloads.RestoreOptions{TargetUserID: s.other.Name})
	there, ok := s.listNamed(s.otherSiteBase, name)
	if res.Failed != 0 || !ok || res.Restored+res.Skipped != n {
		t.Fatalf("into another site: %+v, %v", res, ok)
	}
	for _, it := range before.items {
		if !slices.Contains(there.items, it) {
			t.Errorf("into another site: %s missing", it)
		}
	}
}

// pageState is what a restore must bring back of a page, as JSON.
func (s *siteEnv) pageState(base, name string) (id, state, level string) {
	s.T.Helper()
	var pages struct {
		Value []map[string]json.RawMessage `json:"value"`
	}
	s.get(base+"/pages/microsoft.graph.sitePage", url.Values{"$expand": {"canvasLayout"}}, &pages)
	for _, p := range pages.Value {
		var n string
		json.Unmarshal(p["name"], &n)
		if n != name {
			continue
		}
		json.Unmarshal(p["id"], &id)
		var ps struct{ Level string }
		json.Unmarshal(p["publishingState"], &ps)
		keep := map[string]json.RawMessage{}
		for _, k := range []string{"title", "pageLayout", "promotionKind", "showComments", "titleArea", "canvasLayout"} {
			keep[k] = p[k]
		}
		b, _ := json.Marshal(keep)
		return id, string(b), ps.Level
	}
	return "", "", ""
}

// TestRestorePages deletes one page of a site and rewrites another's
// title and canvas; a restore with skip recreates the deleted page with
// its canvas layout, published, and leaves the changed one; replace puts
// the changed one back; copy adds "NAME (restored).aspx" beside it.
func TestRestorePages(t *testing.T) {
	s := newSiteEnv(t)
	names := map[string]string{} // stored item path → page name
	for _, it := range s.pages {
		var p struct{ Name string }
		b, err := s.Read(it)
		if err != nil || json.Unmarshal(b, &p) != nil {
			t.Fatalf("stored page %s: %v", it.Path, err)
		}
		names[it.Path] = p.Name
	}
	gone, changed := names[s.pages[0].Path], names[s.pages[1].Path]
	goneID, goneBefore, _ := s.pageState(s.siteBase, gone)
	changedID, changedBefore, _ := s.pageState(s.siteBase, changed)
	if goneID == "" || changedID == "" {
		t.Fatalf("pages %q and %q not on the site", gone, changed)
	}
	s.send(abstractions.DELETE, s.siteBase+"/pages/"+goneID, nil)
	s.send(abstractions.PATCH, s.siteBase+"/pages/"+changedID+"/microsoft.graph.sitePage", map[string]any{"title": "defaced",
		"canvasLayout": map[string]any{"horizontalSections": []any{map[string]any{"layout": "oneColumn", "columns": []any{map[string]any{"width": 12, "webparts": []any{map[string]any{"id": "x", "innerHtml": "<p>pwned</p>"}}}}}}}})
	if _, got, _ := s.pageState(s.siteBase, changed); got == changedBefore {
		t.Fatal("the PATCH changed nothing")
	}

	res := s.restore(s.pages, workloads.RestoreOptions{})
	if res.Failed != 0 || res.Restored != 1 || res.Skipped != len(s.pages)-1 {
		t.Fatalf("skip: %+v", res)
	}
	if _, got, level := s.pageState(s.siteBase, gone); got != goneBefore || level != "published" {
		t.Fatalf("recreated page %s (%s):\n got %s\nwant %s", gone, level, got, goneBefore)
	}
	if _, got, _ := s.pageState(s.siteBase, changed); got == changedBefore {
		t.Fatal("skip restored the changed page")
	}

	res = s.restore(s.pages[1:2], workloads.RestoreOptions{Collision: workloads.CollisionReplace})
	if res.Failed != 0 || res.Replaced != 1 {
		t.Fatalf("replace: %+v", res)
	}
	if _, got, level := s.pageState(s.siteBase, changed); got != changedBefore || level != "published" {
		t.Fatalf("replaced page (%s):\n got %s\nwant %s", level, got, changedBefore)
	}

	res = s.restore(s.pages[1:2], workloads.RestoreOptions{Collision: workloads.CollisionCopy})
	copyName := changed[:len(changed)-len(".aspx")] + " (restored).aspx"
	if _, got, _ := s.pageState(s.siteBase, copyName); res.Restored != 1 || got != changedBefore {
		t.Fatalf("copy: %+v, %s holds %s", res, copyName, got)
	}
}
