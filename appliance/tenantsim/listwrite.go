package tenantsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lists as a restore writes them: Graph creates a list with its columns
// (POST /sites/{id}/lists, a document library when list.template is
// documentLibrary), adds items (POST .../items), changes an item's fields
// (PATCH .../items/{id}/fields) and deletes lists and items. Fields are
// checked against the list's columns as SharePoint does: a field no
// column defines, or a read-only one, is refused with 400.
//
// The simulator keeps document libraries out of /lists (Graph lists them
// there too, with list.template documentLibrary): a library created here
// shows in /sites/{id}/drives.

// systemColumns are the read-only columns every list has.
func systemColumns() []map[string]any {
	return []map[string]any{
		columnJSON("ID", "counter", true), columnJSON("Created", "dateTime", true), columnJSON("Modified", "dateTime", true),
	}
}

// columnJSON is a columnDefinition of name with an empty type facet.
func columnJSON(name, facet string, readOnly bool) map[string]any {
	group := "Custom Columns"
	if readOnly {
		group = "_Hidden"
	}
	return map[string]any{"id": guid("column", name), "name": name, "displayName": name, "columnGroup": group,
		"readOnly": readOnly, "required": false, "hidden": false, "indexed": false, "enforceUniqueValues": false, facet: map[string]any{}}
}

// genericColumns are the columns of the generated lists.
func genericColumns() []map[string]any {
	cols := append(systemColumns(), columnJSON("Title", "text", false), columnJSON("Amount", "number", false), columnJSON("Status", "choice", false))
	cols[len(cols)-1]["choice"] = map[string]any{"allowTextEntry": false, "choices": []any{"Entwurf", "Signed", "Expired"}, "displayAs": "dropDownMenu"}
	return cols
}

func listJSON(l *spList) map[string]any {
	return map[string]any{"id": l.id, "name": l.name, "displayName": l.displayName, "list": map[string]any{"template": firstNonEmpty(l.template, "genericList"), "hidden": false},
		"createdDateTime": ts(l.created)}
}

// checkFields refuses fields the list has no writable column for.
func (l *spList) checkFields(fields map[string]any) *graphError {
	for k := range fields {
		i := slices.IndexFunc(l.columns, func(c map[string]any) bool { return c["name"] == k })
		if i < 0 {
			return errf(http.StatusBadRequest, "invalidRequest", fmt.Sprintf("Field '%s' is not recognized", k))
		}
		if ro, _ := l.columns[i]["readOnly"].(bool); ro {
			return errf(http.StatusBadRequest, "invalidRequest", fmt.Sprintf("Field '%s' is read-only", k))
		}
	}
	return nil
}

func handleGetList(q *request) *graphError {
	return readOf(q, q.list, func(l *spList) (any, *graphError) {
		return listJSON(l), nil
	})
}

func handleListColumns(q *request) *graphError {
	return readOf(q, q.list, func(l *spList) (any, *graphError) {
		return q.listPage("columns", l.columns, 200, 999)
	})
}

// handleCreateList creates a generic list with the template's columns and
// the ones given, or a document library.
func handleCreateList(q *request) *graphError {
	var in struct {
		DisplayName string           `json:"displayName"`
		Columns     []map[string]any `json:"columns"`
		List        struct {
			Template string `json:"template"`
		} `json:"list"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		return errf(http.StatusBadRequest, "invalidRequest", "displayName is required.")
	}
	return writeOf(q, q.site, func(st *site) (any, *graphError) {
		for _, l := range st.lists {
			if strings.EqualFold(l.displayName, in.DisplayName) {
				return nil, errf(http.StatusConflict, "nameAlreadyExists", "A list, survey, discussion board, or document library with the specified title already exists in this Web site.")
			}
		}
		seq := q.sim.nextSeq()
		now := q.sim.logicalNow(seq)
		switch in.List.Template {
		case "documentLibrary":
			return q.sim.createLibrary(st, in.DisplayName, seq, now)
		case "", "genericList":
		default:
			return nil, errf(http.StatusBadRequest, "invalidRequest", "The simulator creates genericList lists and document libraries only.")
		}
		l := &spList{id: guid("list", st.id, seq), name: strings.ReplaceAll(in.DisplayName, " ", ""), displayName: in.DisplayName, created: now,
			columns: append(systemColumns(), columnJSON("Title", "text", false))}
		for _, c := range in.Columns {
			name, _ := c["name"].(string)
			if name == "" || slices.ContainsFunc(l.columns, func(have map[string]any) bool { return have["name"] == name }) {
				return nil, errf(http.StatusBadRequest, "invalidRequest", fmt.Sprintf("Column %q has no name or is defined twice.", name))
			}
			col := map[string]any{"id": guid("column", l.id, name), "displayName": name, "readOnly": false}
			for k, v := range c {
				col[k] = v
			}
			l.columns = append(l.columns, col)
		}
		st.lists = append(st.lists, l)
		return listJSON(l), nil
	})
}

// createLibrary adds a document library (a drive) named name to st,
// unless a library of that name is there. The caller holds the lock.
func (s *Sim) createLibrary(st *site, name string, seq uint64, now time.Time) (any, *graphError) {
	for _, d := range st.drives {
		if !d.deleted && strings.EqualFold(d.name, name) {
			return nil, errf(http.StatusConflict, "nameAlreadyExists", "A list, survey, discussion board, or document library with the specified title already exists in this Web site.")
		}
	}
	d := s.newDrive(driveID(s.cfg.Seed, "library", st.id, seq), name, "documentLibrary", now)
	d.site = st
	st.drives = append(st.drives, d)
	return map[string]any{"id": guid("library", d.id), "name": name, "displayName": name, "list": map[string]any{"template": "documentLibrary", "hidden": false},
		"createdDateTime": ts(now), "drive": driveJSON(d)}, nil
}

func handleDeleteList(q *request) *graphError {
	return writeOf(q, q.site, func(st *site) (any, *graphError) {
		l, gerr := q.list()
		if gerr != nil {
			return nil, gerr
		}
		st.lists = slices.DeleteFunc(st.lists, func(x *spList) bool { return x == l })
		q.sim.nextSeq()
		return nil, nil
	})
}

// listItem finds {iid} in the list.
func (q *request) listItem() (*spList, int, *graphError) {
	l, gerr := q.list()
	if gerr != nil {
		return nil, 0, gerr
	}
	i := slices.IndexFunc(l.items, func(f map[string]any) bool { return fmt.Sprint(f["id"]) == q.param("iid") })
	if i < 0 {
		return nil, 0, errf(http.StatusNotFound, "itemNotFound", "The list item could not be found.")
	}
	return l, i, nil
}

func handleDeleteListItem(q *request) *graphError {
	return writePair(q, q.listItem, func(l *spList, i int) (any, *graphError) {
		l.items = slices.Delete(l.items, i, i+1)
		q.sim.nextSeq()
		return nil, nil
	})
}

// handlePatchListItemFields changes some fields of an item and answers
// 200 with all of them.
func handlePatchListItemFields(q *request) *graphError {
	var in map[string]any
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	return updatePair(q, q.listItem, func(l *spList, i int) (any, *graphError) {
		if gerr := l.checkFields(in); gerr != nil {
			return nil, gerr
		}
		for k, v := range in {
			l.items[i][k] = v
		}
		q.sim.nextSeq()
		return l.items[i], nil
	})
}

// nextItemID is one more than the largest item id of the list.
func (l *spList) nextItemID() string {
	n := 0
	for _, f := range l.items {
		if v, err := strconv.Atoi(fmt.Sprint(f["id"])); err == nil && v > n {
			n = v
		}
	}
	return strconv.Itoa(n + 1)
}
