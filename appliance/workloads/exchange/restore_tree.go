package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/strongroom/strongroom/appliance/graph"
)

// folderRef is a folder or calendar of the target mailbox: its id and
// display name.
type folderRef struct{ id, name string }

// tree is a folder hierarchy of the target mailbox, the mail folders or
// the contact folders, listed as far as a restore needs it. The top ("")
// is the root of mail folders, or the default contacts folder.
type tree struct {
	what string // "folder", "contact folder": for messages
	// list lists the children of parent ("" the top); create makes one.
	list   func(ctx context.Context, parent string) ([]folderRef, error)
	create func(ctx context.Context, parent, name string) (string, error)
	// children caches the listed children of a folder; paths maps a
	// "/"-joined path to its folder id.
	children map[string][]folderRef
	paths    map[string]string
}

// resolve returns the id of the folder at path elems below the top,
// creating what is missing. A failure at the first level means the
// target mailbox itself is unusable and is fatal to the restore.
func (t *tree) resolve(ctx context.Context, user string, elems []string) (string, error) {
	parent, p := "", ""
	for i, name := range elems {
		if i > 0 {
			p += "/"
		}
		p += name
		if id, ok := t.paths[strings.ToLower(p)]; ok {
			parent = id
			continue
		}
		id, err := t.child(ctx, parent, name)
		if err != nil {
			err = fmt.Errorf("%s %q: %w", t.what, p, err)
			if i == 0 {
				return "", &fatalRestoreError{fmt.Errorf("restore into %s: %w", user, err)}
			}
			return "", err
		}
		t.paths[strings.ToLower(p)] = id
		parent = id
	}
	return parent, nil
}

// child finds the folder name under parent or creates it.
func (t *tree) child(ctx context.Context, parent, name string) (string, error) {
	kids, ok := t.children[parent]
	if !ok {
		var err error
		if kids, err = t.list(ctx, parent); err != nil {
			return "", err
		}
		t.children[parent] = kids
	}
	for _, k := range kids {
		if strings.EqualFold(k.name, name) {
			return k.id, nil
		}
	}
	id, err := t.create(ctx, parent, name)
	if err != nil {
		return "", err
	}
	t.children[parent] = append(kids, folderRef{id, name})
	t.children[id] = nil // new: no children to list
	return id, nil
}

// listFolders lists the folders a GET of path returns (displayName).
func (r *restorer) listFolders(ctx context.Context, path string) ([]folderRef, error) {
	ri, err := r.c.Request(path, url.Values{"$top": {"999"}})
	if err != nil {
		return nil, err
	}
	var out []folderRef
	_, err = graph.Each(ctx, r.c, ri, func(f struct{ ID, DisplayName string }) error {
		out = append(out, folderRef{f.ID, f.DisplayName})
		return nil
	})
	return out, err
}

// createFolder POSTs a folder named name to path and returns its id.
func (r *restorer) createFolder(ctx context.Context, path, name string) (string, error) {
	b, _ := json.Marshal(map[string]string{"displayName": name})
	id, err := r.postJSON(ctx, path, b)
	if err == nil && id == "" {
		err = fmt.Errorf("create %q: the answer has no id", name)
	}
	return id, err
}

// mailTree is the target's mail folders below the root.
func (r *restorer) mailTree() *tree {
	return r.folderTree("folder", "mailFolders", func(id string) { r.existing[id] = map[string][]string{} })
}

// contactTree is the target's contact folders below the default one.
func (r *restorer) contactTree() *tree {
	return r.folderTree("contact folder", "contactFolders", func(id string) { r.pim[contactsKind.name+":"+id] = newHoldings() })
}

// folderTree is the target's folders of one collection (the path segment
// below the user: "mailFolders", "contactFolders"), called what in
// errors; made is told of each folder created.
func (r *restorer) folderTree(what, segment string, made func(id string)) *tree {
	at := func(parent string) string {
		if parent == "" {
			return r.userPath() + "/" + segment
		}
		return r.userPath() + "/" + segment + "/" + url.PathEscape(parent) + "/childFolders"
	}
	return &tree{what: what, children: map[string][]folderRef{}, paths: map[string]string{},
		list: func(ctx context.Context, parent string) ([]folderRef, error) { return r.listFolders(ctx, at(parent)) },
		create: func(ctx context.Context, parent, name string) (string, error) {
			id, err := r.createFolder(ctx, at(parent), name)
			if err == nil {
				made(id)
			}
			return id, err
		},
	}
}
