package tenantsim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// SiteDump is a site's content as the tenant holds it, by name rather
// than by id, so that a site restored into new libraries, lists and pages
// compares equal to the one backed up.
type SiteDump struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Libraries maps each library's name to its files' current content
	// by path.
	Libraries map[string]map[string][]byte `json:"libraries"`
	// LibraryAccess maps each library's name to the people granted
	// access on its root, as "email:role", sorted.
	LibraryAccess map[string][]string `json:"library_access"`
	Lists         []ListDump          `json:"lists"`
	Pages         []PageDump          `json:"pages"`
	// AppPermissions are the applications' permissions on the site as
	// "appId:displayName:roles" (roles comma-separated), sorted.
	AppPermissions []string `json:"app_permissions"`
}

// ListDump is a list: its writable columns and its items' fields (ids
// left out), in order.
type ListDump struct {
	DisplayName string           `json:"display_name"`
	Columns     []string         `json:"columns"`
	Items       []map[string]any `json:"items"`
}

// PageDump is a site page: its name, title, layout and, per section,
// its layout and the HTML of its text web parts.
type PageDump struct {
	Name     string   `json:"name"`
	Title    string   `json:"title"`
	Layout   string   `json:"layout"`
	Sections []string `json:"sections"`
}

// DumpSite returns the site key (id, name or display name), sorted by
// names.
func (s *Sim) DumpSite(key string) (SiteDump, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.findSite(key)
	if st == nil {
		return SiteDump{}, fmt.Errorf("dump site: no site %q", key)
	}
	d := SiteDump{ID: st.id, Name: st.name, Libraries: map[string]map[string][]byte{}, LibraryAccess: map[string][]string{}}
	for _, lib := range st.drives {
		if lib.deleted {
			continue
		}
		files := map[string][]byte{}
		for _, it := range lib.items {
			if !it.folder {
				files[strings.TrimPrefix(lib.itemPath(it), "/")] = it.current().content()
			}
		}
		d.Libraries[lib.name] = files
		var access []string
		for _, g := range lib.items[lib.rootID].grants {
			access = append(access, strings.ToLower(g.email)+":"+g.role)
		}
		sort.Strings(access)
		d.LibraryAccess[lib.name] = access
	}
	for _, l := range st.lists {
		d.Lists = append(d.Lists, dumpList(l))
	}
	sort.Slice(d.Lists, func(i, j int) bool { return d.Lists[i].DisplayName < d.Lists[j].DisplayName })
	for _, pg := range st.pages {
		d.Pages = append(d.Pages, dumpPage(pg))
	}
	sort.Slice(d.Pages, func(i, j int) bool { return d.Pages[i].Name < d.Pages[j].Name })
	for _, a := range st.appGrants {
		d.AppPermissions = append(d.AppPermissions, a.appID+":"+a.appName+":"+strings.Join(a.roles, ","))
	}
	sort.Strings(d.AppPermissions)
	return d, nil
}

func dumpList(l *spList) ListDump {
	ld := ListDump{DisplayName: l.displayName}
	for _, c := range l.columns {
		if ro, _ := c["readOnly"].(bool); !ro {
			name, _ := c["name"].(string)
			ld.Columns = append(ld.Columns, firstNonEmpty(name, fmt.Sprint(c["displayName"])))
		}
	}
	sort.Strings(ld.Columns)
	for _, f := range l.items {
		m := map[string]any{}
		for k, v := range f {
			if k != "id" {
				m[k] = fmt.Sprint(v)
			}
		}
		ld.Items = append(ld.Items, m)
	}
	return ld
}

func dumpPage(pg *sitePage) PageDump {
	pd := PageDump{Name: pg.name, Title: pg.title, Layout: pg.layout}
	for _, sec := range pg.sections {
		var b strings.Builder
		b.WriteString(sec.layout)
		for _, col := range sec.columns {
			fmt.Fprintf(&b, "|%d:", col.width)
			for _, p := range col.parts {
				b.WriteString(p.html)
			}
		}
		pd.Sections = append(pd.Sections, b.String())
	}
	return pd
}

// findSite is the site named key: its id, name or display name (case
// ignored). The caller holds s.mu.
func (s *Sim) findSite(key string) *site {
	for _, st := range s.sites {
		if st.id == key || strings.EqualFold(st.name, key) || strings.EqualFold(st.displayName, key) {
			return st
		}
	}
	return nil
}

// deleteSiteContent is the scenario delete-site-content: every library,
// list and page of the site sc.Site goes, and so do the applications'
// permissions on it, as an attacker with the site's control would leave
// it. The caller holds s.mu.
func (s *Sim) deleteSiteContent(sc Scenario, res *ScenarioResult) error {
	st := s.findSite(sc.Site)
	if st == nil || sc.Site == "" {
		return fmt.Errorf("scenario %s: no site %q", sc.Name, sc.Site)
	}
	s.nextSeq()
	for _, d := range st.drives {
		if !d.deleted {
			d.deleted = true
			res.ItemsDeleted += len(d.items) - 1
			res.IDs = append(res.IDs, d.id)
		}
	}
	for _, l := range st.lists {
		res.ItemsDeleted += len(l.items)
		res.IDs = append(res.IDs, l.id)
	}
	for _, pg := range st.pages {
		res.IDs = append(res.IDs, pg.id)
	}
	res.ItemsDeleted += len(st.pages)
	st.lists, st.pages, st.appGrants = nil, nil, slices.Delete(st.appGrants, 0, len(st.appGrants))
	return nil
}
