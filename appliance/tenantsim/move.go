package tenantsim

import (
	"net/http"
	"slices"
)

// handlePatchDriveItem: PATCH /drives/{id}/items/{id} with a new "name",
// a new "parentReference": {"id": ...}, or both: a rename or a move, as a
// user does in OneDrive. The item keeps its id and content; the drive's
// delta reports it (and nothing beneath a moved folder, as Graph does).
// With ?@microsoft.graph.conflictBehavior=rename a name taken in the
// target folder becomes "name 1.ext"; otherwise it answers 409.
func handlePatchDriveItem(q *request) *graphError {
	var in struct {
		Name   *string `json:"name"`
		Parent *struct {
			ID string `json:"id"`
		} `json:"parentReference"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	rename := q.r.URL.Query().Get("@microsoft.graph.conflictBehavior") == "rename"
	return writePair(q, q.driveAndItem, func(d *drive, it *driveItem) (any, *graphError) {
		if it.id == d.rootID {
			return nil, errf(http.StatusBadRequest, "invalidRequest", "The root cannot be renamed or moved.")
		}
		parent := d.items[it.parentID]
		if in.Parent != nil && in.Parent.ID != "" {
			parent = d.items[in.Parent.ID]
			if parent == nil || !parent.folder {
				return nil, errf(http.StatusBadRequest, "invalidRequest", "The target parent is not a folder of this drive.")
			}
			for p := parent; p != nil; p = d.items[p.parentID] {
				if p.id == it.id {
					return nil, errf(http.StatusBadRequest, "invalidRequest", "A folder cannot be moved into itself.")
				}
			}
		}
		name := it.name
		if in.Name != nil && *in.Name != "" {
			name = *in.Name
		}
		if c := d.childNamed(parent, name); c != nil && c != it {
			if !rename {
				return nil, errf(http.StatusConflict, "nameAlreadyExists", "An item with the same name already exists under the parent.")
			}
			name = d.freeName(parent, name)
		}
		if old := d.items[it.parentID]; old != nil && old != parent {
			old.children = slices.DeleteFunc(old.children, func(c string) bool { return c == it.id })
			parent.children = append(parent.children, it.id)
			it.parentID = parent.id
		}
		it.name = name
		q.sim.logTouch(d.log, it.id)
		return q.sim.driveItemJSON(d, it), nil
	})
}
