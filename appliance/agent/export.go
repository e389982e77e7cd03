package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/export"
	"github.com/strongroom/strongroom/storage/safefs"
	"github.com/strongroom/strongroom/storage/vault"
)

// ExportRequest writes a selection as standard files.
type ExportRequest struct {
	Selection
	Format string `json:"format"` // eml, mbox, maildir, vcf, ics, pst, tar, files, csv, json, html
	Dest   string `json:"dest"`   // a directory; created if missing
	// SplitSize is the size in bytes at which a PST export starts its
	// next numbered file (0: DefaultPSTSplit).
	SplitSize int64 `json:"split_size,omitempty"`
}

// ExportReport lists what an export wrote.
type ExportReport struct {
	Snapshot string   `json:"snapshot"`
	Format   string   `json:"format"`
	Items    int      `json:"items"`
	Bytes    int64    `json:"bytes"`
	Files    []string `json:"files"`
}

// Export writes the selected items below req.Dest: messages as EML files,
// one mbox file per folder, or a Maildir++ tree; contacts as one VCF per
// contact folder; events as one ICS per calendar; mailboxes (User may name
// several, comma-separated, or none for all) as one Outlook PST each, in
// numbered parts of at most SplitSize; drive and library files
// as one tar archive or a tree of files, with a manifest; SharePoint lists
// as one CSV or JSON file each, a site's permissions (--kind permissions)
// as one JSON file; Teams channels as HTML transcripts with
// their threads as JSON; group conversations as one mbox per group. No
// symbolic link below req.Dest is
// followed: one in the way stops the export with an error naming it.
func (a *Agent) Export(ctx context.Context, req ExportRequest) (*ExportReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	kind, err := exportKind(req)
	if err != nil {
		return nil, err
	}
	req.Kind = kind
	var snap vault.Snapshot
	var items []vault.Item
	if req.Format == "pst" {
		snap, items, err = a.resolveMailboxes(req.Selection)
	} else {
		snap, items, err = a.resolveKinds(req.Selection, a.exportKinds())
	}
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(req.Dest, 0o750); err != nil {
		return nil, fmt.Errorf("export destination: %w", err)
	}
	// Below the destination nothing is trusted: a symbolic link there is
	// an error, never followed.
	root, err := safefs.OpenRoot(req.Dest)
	if err != nil {
		return nil, fmt.Errorf("export destination: %w", err)
	}
	defer root.Close()
	job := itemsJob("export", "exporting", "items", fmt.Sprintf("exporting %d items as %s", len(items), req.Format), a.now(), items)
	defer a.startJob(job)()
	x := &exporter{a: a, src: jobSource{next: a.v, a: a, job: job}, root: root, dest: req.Dest, format: req.Format,
		rep: &ExportReport{Snapshot: snap.ID, Format: req.Format}}
	switch req.Format {
	case "tar", "files":
		return x.rep, x.files(ctx, snap, req.User, items)
	case "csv", "json":
		return x.rep, x.lists(ctx, items)
	case "pst":
		return x.rep, x.pst(ctx, snap, items, req.SplitSize)
	case "html":
		return x.rep, x.channels(ctx, snap, items)
	}
	if req.Kind == "conversations" {
		return x.rep, x.conversations(ctx, items)
	}
	folders, byFolder := groupByFolder(items)
	for _, folder := range folders {
		if ctx.Err() != nil {
			return x.rep, ctx.Err()
		}
		if err := x.folder(folder, byFolder[folder]); err != nil {
			return x.rep, err
		}
	}
	return x.rep, nil
}

// exportKind checks an export request's format, destination and kind and
// returns the kind of item the format exports.
func exportKind(req ExportRequest) (string, error) {
	if req.Format == "pst" {
		if req.Dest == "" {
			return "", fmt.Errorf("name the export destination directory (--dest)")
		}
		return req.Kind, nil
	}
	want := map[string]string{"eml": "mail", "mbox": "mail", "maildir": "mail", "vcf": "contacts", "ics": "calendar",
		"tar": "files", "files": "files", "csv": "lists", "json": "lists", "html": "channels"}[req.Format]
	if want == "" {
		return "", fmt.Errorf("export format %q: use eml, mbox, maildir (mail), vcf (contacts), ics (calendars), pst (mailboxes), tar or files (files), csv or json (lists), json with --kind permissions (site permissions), html (Teams channels), mbox with --kind conversations (group conversations)", req.Format)
	}
	if req.Format == "mbox" && req.Kind == "conversations" {
		want = "conversations"
	}
	if req.Format == "json" && req.Kind == "permissions" {
		want = "permissions" // a site's permissions, as stored
	}
	if req.Dest == "" {
		return "", invalid("dest", "name the directory to export into")
	}
	if req.Kind != "" && req.Kind != want {
		return "", fmt.Errorf("format %s exports %s, not %s", req.Format, want, req.Kind)
	}
	return want, nil
}

// exportKinds maps the kinds an export selects by name to catalog kinds:
// the restorable ones and SharePoint lists.
func (a *Agent) exportKinds() map[string]string {
	kinds := a.restoreKinds()
	kinds["lists"] = catalog.KindList
	kinds["channels"] = catalog.KindChannelMessage
	kinds["conversations"] = catalog.KindGroupThread
	return kinds
}

// groupByFolder groups items by their display folder ("Unfiled" when they
// name none) and returns the folders in sorted order.
func groupByFolder(items []vault.Item) ([]string, map[string][]vault.Item) {
	byFolder := map[string][]vault.Item{}
	for _, it := range items {
		f := it.Meta[catalog.MetaFolder]
		if f == "" {
			f = "Unfiled"
		}
		byFolder[f] = append(byFolder[f], it)
	}
	folders := make([]string, 0, len(byFolder))
	for f := range byFolder {
		folders = append(folders, f)
	}
	sort.Strings(folders)
	return folders, byFolder
}

// itemDate is an item's recorded date, or the zero time if it has none.
func itemDate(it vault.Item) time.Time {
	t, _ := time.Parse(time.RFC3339, it.Meta[catalog.MetaDate])
	return t
}

// exporter writes the folders of one export below its root and keeps its
// report.
type exporter struct {
	a *Agent
	// src reads item content from the vault, counting it into the job.
	src    jobSource
	root   *safefs.Dir
	dest   string
	format string
	rep    *ExportReport
}

// read returns an item's content from the vault.
func (x *exporter) read(it vault.Item) ([]byte, error) {
	var buf bytes.Buffer
	err := x.src.WriteItem(&buf, it)
	return buf.Bytes(), err
}

// count adds one item of the given content to the report.
func (x *exporter) count(data []byte) {
	x.rep.Items++
	x.rep.Bytes += int64(len(data))
}

// folder writes one folder's items in the export's format.
func (x *exporter) folder(folder string, group []vault.Item) error {
	switch x.format {
	case "eml":
		return x.eml(folder, group)
	case "mbox":
		return x.mbox(folder, group)
	case "maildir":
		return x.maildir(folder, group)
	case "vcf", "ics":
		return x.document(folder, group)
	}
	return nil
}

// eml writes each message of a folder as its own EML file in a directory
// named after the folder.
func (x *exporter) eml(folder string, group []vault.Item) error {
	dir := safePath(folder)
	if err := x.root.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for _, it := range group {
		data, err := x.read(it)
		if err != nil {
			return err
		}
		rel := filepath.Join(dir, safeName(it.Meta[catalog.MetaSubject])+" ["+safeName(shortID(it.Meta[catalog.MetaItemID]))+"].eml")
		f, err := x.root.Create(rel)
		if err != nil {
			return err
		}
		err = export.WriteEML(f, data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		x.rep.Files = append(x.rep.Files, filepath.Join(x.dest, rel))
		x.count(data)
	}
	return nil
}

// mbox writes a folder's messages as one mbox file named after the folder.
func (x *exporter) mbox(folder string, group []vault.Item) error {
	rel := safePath(folder) + ".mbox"
	if err := x.root.MkdirAll(filepath.Dir(rel), 0o750); err != nil {
		return err
	}
	f, err := x.root.Create(rel)
	if err != nil {
		return err
	}
	mb := export.NewMbox(f)
	for _, it := range group {
		data, err := x.read(it)
		if err == nil {
			err = mb.Add(data, it.Meta[catalog.MetaFrom], itemDate(it))
		}
		if err != nil {
			f.Close()
			return err
		}
		x.count(data)
	}
	if err := mb.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	x.rep.Files = append(x.rep.Files, filepath.Join(x.dest, rel))
	return nil
}

// maildir writes a folder's messages into a Maildir++ folder, marked seen.
func (x *exporter) maildir(folder string, group []vault.Item) error {
	md, err := export.NewMaildir(x.root, export.FolderDir(".", folder))
	if err != nil {
		return err
	}
	for _, it := range group {
		data, err := x.read(it)
		if err == nil {
			err = md.Add(data, "S", itemDate(it))
		}
		if err != nil {
			return err
		}
		x.count(data)
	}
	x.rep.Files = append(x.rep.Files, md.Dir())
	return nil
}

// document writes a folder's contacts as one VCF file, or its events as one
// ICS calendar, named after the folder.
func (x *exporter) document(folder string, group []vault.Item) error {
	var docs [][]byte
	for _, it := range group {
		data, err := x.read(it)
		if err != nil {
			return err
		}
		docs = append(docs, data)
		x.count(data)
	}
	rel := safePath(folder) + "." + x.format
	if err := x.root.MkdirAll(filepath.Dir(rel), 0o750); err != nil {
		return err
	}
	var out bytes.Buffer
	if x.format == "vcf" {
		if err := export.WriteVCF(&out, docs); err != nil {
			return err
		}
	} else {
		ics, err := export.EventsToICS(docs, folder, x.a.now())
		if err != nil {
			return err
		}
		out.Write(ics)
	}
	if err := x.root.WriteFile(rel, out.Bytes(), 0o640); err != nil {
		return err
	}
	x.rep.Files = append(x.rep.Files, filepath.Join(x.dest, rel))
	return nil
}

// safeName makes a display string usable as one file name.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', 0, ':', '*', '?', '"', '<', '>', '|':
			return '_'
		}
		if r < 32 {
			return '_'
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" || s == "." || s == ".." {
		s = "untitled"
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// safePath maps a "/"-separated display folder path to a relative path.
func safePath(folder string) string {
	parts := strings.Split(strings.Trim(folder, "/"), "/")
	for i, p := range parts {
		parts[i] = safeName(p)
	}
	return filepath.Join(parts...)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[len(id)-12:]
	}
	return id
}
