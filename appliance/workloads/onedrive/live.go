package onedrive

import (
	"context"
	"fmt"
	"path"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
)

// LiveFile is a file of a drive as Graph lists it now.
type LiveFile struct {
	ID       string
	Path     string // display path from the root, "Documents/a.docx"
	QuickXor string
	SHA256   string
	CTag     string
	Created  string // createdDateTime, RFC 3339
	Modified string
	Size     int64
}

// ListDrive lists every file of user's drive as it is now (one full delta
// enumeration), with display paths.
func ListDrive(ctx context.Context, g *graph.Client, user workloads.Unit) ([]LiveFile, error) {
	driveID, err := userDrive(ctx, &graph.Caller{G: g}, user.ID)
	if err != nil {
		return nil, err
	}
	return ListDriveID(ctx, g, driveID, "the OneDrive of "+user.Name)
}

// ListDriveID lists every file of the drive driveID (a OneDrive or a
// document library) as it is now; label names the drive in errors.
func ListDriveID(ctx context.Context, g *graph.Client, driveID, label string) ([]LiveFile, error) {
	b := &backup{c: &graph.Caller{G: g, PageSize: 500}, t: Target{Label: label}, tree: map[string]*node{}, paths: map[string]string{}, driveID: driveID}
	entries, _, _, err := b.enumerate(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list %s: %s", label, graph.Describe(err))
	}
	b.apply(entries, true)
	var out []LiveFile
	for _, n := range b.tree {
		if n.folder || n.item == nil {
			continue
		}
		f := LiveFile{ID: n.id, Path: strings.TrimPrefix(path.Join(b.folderPath(n.parentID), n.name), "/"), CTag: n.item.CTag,
			Created: n.item.Created, Modified: n.item.Modified, Size: n.item.Size}
		if n.item.File != nil {
			f.QuickXor, f.SHA256 = n.item.File.Hashes.QuickXor, n.item.File.Hashes.SHA256
		}
		out = append(out, f)
	}
	return out, nil
}

// Quarantine moves the files ids of user's drive into the folder at
// display path folder (created when missing); a name taken there gets a
// new one. It never deletes. It returns how many moved and why the others
// did not.
func Quarantine(ctx context.Context, g *graph.Client, userID, folder string, ids []string) (int, []string) {
	driveID, err := userDrive(ctx, &graph.Caller{G: g}, userID)
	if err != nil {
		return 0, []string{err.Error()}
	}
	return QuarantineInDrive(ctx, g, driveID, folder, ids)
}

// QuarantineInDrive is Quarantine in the drive driveID (a OneDrive or a
// document library).
func QuarantineInDrive(ctx context.Context, g *graph.Client, driveID, folder string, ids []string) (int, []string) {
	r := &restorer{c: &graph.Caller{G: g}, g: g, driveID: driveID, folders: map[string]string{}, children: map[string]map[string]child{}}
	if err := r.openRoot(ctx); err != nil {
		return 0, []string{err.Error()}
	}
	fid, err := r.folder(ctx, folder)
	if err != nil {
		return 0, []string{err.Error()}
	}
	moved := 0
	var errs []string
	for _, id := range ids {
		_, err := r.c.WriteJSON(ctx, abstractions.PATCH, r.itemPath(id)+"?@microsoft.graph.conflictBehavior=rename",
			map[string]any{"parentReference": map[string]any{"id": fid}})
		if err != nil {
			errs = append(errs, fmt.Sprintf("move %s into %s: %s", id, folder, graph.Describe(err)))
			continue
		}
		moved++
	}
	return moved, errs
}
