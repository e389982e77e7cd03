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
	Format string `json:"format"` // eml, mbox, maildir, vcf, ics
	Dest   string `json:"dest"`   // a directory; created if missing
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
// contact folder; events as one ICS per calendar. No symbolic link below
// req.Dest is followed: one in the way stops the export with an error
// naming it.
func (a *Agent) Export(ctx context.Context, req ExportRequest) (*ExportReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	want := map[string]string{"eml": "mail", "mbox": "mail", "maildir": "mail", "vcf": "contacts", "ics": "calendar"}[req.Format]
	if want == "" {
		return nil, fmt.Errorf("export format %q: use eml, mbox, maildir (mail), vcf (contacts) or ics (calendars)", req.Format)
	}
	if req.Dest == "" {
		return nil, fmt.Errorf("name the export destination directory (--dest)")
	}
	if req.Kind != "" && req.Kind != want {
		return nil, fmt.Errorf("format %s exports %s, not %s", req.Format, want, req.Kind)
	}
	req.Kind = want
	snap, items, err := a.resolve(req.Selection)
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
	rep := &ExportReport{Snapshot: snap.ID, Format: req.Format}
	read := func(it vault.Item) ([]byte, error) {
		var buf bytes.Buffer
		err := a.v.WriteItem(&buf, it)
		return buf.Bytes(), err
	}
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
	date := func(it vault.Item) time.Time {
		t, _ := time.Parse(time.RFC3339, it.Meta[catalog.MetaDate])
		return t
	}
	for _, folder := range folders {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		group := byFolder[folder]
		switch req.Format {
		case "eml":
			dir := safePath(folder)
			if err := root.MkdirAll(dir, 0o750); err != nil {
				return rep, err
			}
			for _, it := range group {
				data, err := read(it)
				if err != nil {
					return rep, err
				}
				rel := filepath.Join(dir, safeName(it.Meta[catalog.MetaSubject])+" ["+safeName(shortID(it.Meta[catalog.MetaItemID]))+"].eml")
				name := filepath.Join(req.Dest, rel)
				f, err := root.Create(rel)
				if err != nil {
					return rep, err
				}
				err = export.WriteEML(f, data)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return rep, err
				}
				rep.Files = append(rep.Files, name)
				rep.Items++
				rep.Bytes += int64(len(data))
			}
		case "mbox":
			rel := safePath(folder) + ".mbox"
			name := filepath.Join(req.Dest, rel)
			if err := root.MkdirAll(filepath.Dir(rel), 0o750); err != nil {
				return rep, err
			}
			f, err := root.Create(rel)
			if err != nil {
				return rep, err
			}
			mb := export.NewMbox(f)
			for _, it := range group {
				data, err := read(it)
				if err == nil {
					err = mb.Add(data, it.Meta[catalog.MetaFrom], date(it))
				}
				if err != nil {
					f.Close()
					return rep, err
				}
				rep.Items++
				rep.Bytes += int64(len(data))
			}
			if err := mb.Close(); err != nil {
				f.Close()
				return rep, err
			}
			if err := f.Close(); err != nil {
				return rep, err
			}
			rep.Files = append(rep.Files, name)
		case "maildir":
			md, err := export.NewMaildir(root, export.FolderDir(".", folder))
			if err != nil {
				return rep, err
			}
			for _, it := range group {
				data, err := read(it)
				if err == nil {
					err = md.Add(data, "S", date(it))
				}
				if err != nil {
					return rep, err
				}
				rep.Items++
				rep.Bytes += int64(len(data))
			}
			rep.Files = append(rep.Files, md.Dir())
		case "vcf", "ics":
			var docs [][]byte
			for _, it := range group {
				data, err := read(it)
				if err != nil {
					return rep, err
				}
				docs = append(docs, data)
				rep.Items++
				rep.Bytes += int64(len(data))
			}
			rel := safePath(folder) + "." + req.Format
			name := filepath.Join(req.Dest, rel)
			if err := root.MkdirAll(filepath.Dir(rel), 0o750); err != nil {
				return rep, err
			}
			var out bytes.Buffer
			if req.Format == "vcf" {
				if err := export.WriteVCF(&out, docs); err != nil {
					return rep, err
				}
			} else {
				ics, err := export.EventsToICS(docs, folder)
				if err != nil {
					return rep, err
				}
				out.Write(ics)
			}
			if err := root.WriteFile(rel, out.Bytes(), 0o640); err != nil {
				return rep, err
			}
			rep.Files = append(rep.Files, name)
		}
	}
	return rep, nil
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
