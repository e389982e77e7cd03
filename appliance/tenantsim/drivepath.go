package tenantsim

import (
	"net/http"
	"strings"
)

var errNoMySite = errf(http.StatusNotFound, "ResourceNotFound", "User's mysite not found.")

// rewriteDrivePath maps the other ways Graph addresses a drive and its
// items onto the drives/{id}/items/{id} routes:
//
//   - users/{id}/drive/... and sites/{id}/drive/... name a user's
//     OneDrive and a site's default library;
//   - drives/{id}/root:/a/b.txt: and drives/{id}/items/{id}:/a/b.txt:
//     name an item by its path under the root or another item, with or
//     without the closing colon when nothing follows, and may go on
//     (":/content", ":/children", ...).
//
// An upload (PUT :/content or POST :/createUploadSession) names an item
// that may not exist yet: it becomes drives/{id}/items/{parent}:/{name}:/...,
// the route the upload handlers take. Paths compare case-insensitively,
// as OneDrive's names do. A drive or item that cannot be resolved is a
// 404 to be answered once the caller is authenticated.
func (s *Sim) rewriteDrivePath(method string, segs []string) ([]string, *graphError) {
	if len(segs) < 3 {
		return segs, nil
	}
	switch {
	case len(segs) > 3 && strings.EqualFold(segs[0], "users") && strings.EqualFold(segs[2], "drive"):
		s.mu.RLock()
		u, gerr := s.lookupUser(segs[1])
		var did string
		if gerr == nil && u.drive == nil {
			gerr = errNoMySite
		} else if gerr == nil {
			did = u.drive.id
		}
		s.mu.RUnlock()
		if gerr != nil {
			return segs, gerr
		}
		segs = append([]string{"drives", did}, segs[3:]...)
	case len(segs) > 3 && strings.EqualFold(segs[0], "sites") && strings.EqualFold(segs[2], "drive"):
		s.mu.RLock()
		var did string
		for _, st := range s.sites {
			if st.id != segs[1] {
				continue
			}
			for _, d := range st.drives {
				if !d.deleted && did == "" {
					did = d.id
				}
			}
		}
		s.mu.RUnlock()
		if did == "" {
			return segs, errDriveItemNotFound
		}
		segs = append([]string{"drives", did}, segs[3:]...)
	case !strings.EqualFold(segs[0], "drives"):
		return segs, nil
	}
	return s.rewriteItemPath(method, segs)
}

// rewriteItemPath resolves path addressing in drives/{id}/... segments.
func (s *Sim) rewriteItemPath(method string, segs []string) ([]string, *graphError) {
	var base string
	var start int
	switch {
	case strings.EqualFold(segs[2], "root:"):
		base, start = "root", 3
	case len(segs) > 3 && strings.EqualFold(segs[2], "items") && strings.HasSuffix(segs[3], ":"):
		base, start = strings.TrimSuffix(segs[3], ":"), 4
	default:
		return segs, nil
	}
	var path []string
	i := start
	for ; i < len(segs); i++ {
		name, closed := strings.CutSuffix(segs[i], ":")
		if name != "" {
			path = append(path, name)
		}
		if closed {
			i++
			break
		}
	}
	rest := segs[i:]
	upload := len(rest) == 1 && ((method == http.MethodPut && strings.EqualFold(rest[0], "content")) ||
		(method == http.MethodPost && strings.EqualFold(rest[0], "createUploadSession")))
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.drives[segs[1]]
	if d == nil {
		return segs, nil // the handler answers for the drive
	}
	if upload && len(path) > 0 {
		parent := d.resolve(base, path[:len(path)-1])
		if parent == nil || !parent.folder {
			return segs, errDriveItemNotFound
		}
		return append([]string{"drives", d.id, "items", parent.id + ":", path[len(path)-1] + ":"}, rest...), nil
	}
	it := d.resolve(base, path)
	if it == nil {
		return segs, errDriveItemNotFound
	}
	return append([]string{"drives", d.id, "items", it.id}, rest...), nil
}

// resolve finds the item at path (names, case-insensitively) under the
// item with id base ("root" for the root), or nil.
func (d *drive) resolve(base string, path []string) *driveItem {
	if strings.EqualFold(base, "root") {
		base = d.rootID
	}
	it := d.items[base]
	for _, name := range path {
		if it == nil || !it.folder {
			return nil
		}
		var next *driveItem
		for _, c := range it.children {
			if ci := d.items[c]; ci != nil && strings.EqualFold(ci.name, name) {
				next = ci
				break
			}
		}
		it = next
	}
	return it
}
