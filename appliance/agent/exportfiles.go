package agent

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

// manifestName is the file of a files export that describes every file.
const manifestName = "manifest.json"

// ManifestEntry describes one exported file in manifest.json.
type ManifestEntry struct {
	// Path is where the file is in the archive or below the destination.
	Path string `json:"path"`
	Size int64  `json:"size"`
	// QuickXorHash is the hash Graph reported at backup time; SHA256 is
	// computed over the bytes written by the export.
	QuickXorHash string `json:"quickXorHash,omitempty"`
	SHA256       string `json:"sha256"`
	Modified     string `json:"modified,omitempty"`
	ItemID       string `json:"item_id"`
	// Versions are the ids of the file's earlier versions the snapshot
	// holds, oldest first.
	Versions []string `json:"versions"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Snapshot string          `json:"snapshot"`
	Files    []ManifestEntry `json:"files"`
}

// fileSink is where a files export writes: a tar archive or a tree.
type fileSink interface {
	// write stores the content of it at rel (a "/"-separated path) and
	// returns the SHA-256 of what it wrote.
	write(rel string, it vault.Item, mtime time.Time) (string, error)
	// manifest stores manifest.json and finishes.
	manifest(data []byte) error
}

// files writes drive or library files with their manifest, as one tar
// archive (format tar) or as a tree below the destination (format files).
func (x *exporter) files(ctx context.Context, snap vault.Snapshot, user string, items []vault.Item) error {
	versions, err := x.versionsOf(snap)
	if err != nil {
		return err
	}
	sort.Slice(items, func(i, j int) bool { return displayPath(items[i]) < displayPath(items[j]) })
	var sink fileSink
	if x.format == "tar" {
		name := safeName(user) + "-" + shortID(snap.ID) + ".tar"
		f, err := x.root.Create(name)
		if err != nil {
			return err
		}
		defer f.Close()
		sink = &tarSink{x: x, tw: tar.NewWriter(f), close: f.Close}
		x.rep.Files = append(x.rep.Files, filepath.Join(x.dest, name))
	} else {
		sink = &treeSink{x: x}
	}
	man := Manifest{Snapshot: snap.ID, Files: []ManifestEntry{}}
	used := map[string]bool{manifestName: true}
	for _, it := range items {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel := freePath(used, displayPath(it), it.Meta[catalog.MetaItemID])
		mtime, _ := time.Parse(time.RFC3339, it.Meta[catalog.MetaDate])
		sum, err := sink.write(rel, it, mtime)
		if err != nil {
			return fmt.Errorf("export %s: %w", rel, err)
		}
		man.Files = append(man.Files, ManifestEntry{Path: rel, Size: it.Size, QuickXorHash: it.Meta[onedrive.MetaQuickXor], SHA256: sum,
			Modified: it.Meta[catalog.MetaDate], ItemID: it.Meta[catalog.MetaItemID], Versions: versionIDs(versions[versionKey(it)])})
		x.rep.Items++
		x.rep.Bytes += it.Size
	}
	data, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	return sink.manifest(append(data, '\n'))
}

// versionKey identifies a file across its current item and its versions.
func versionKey(it vault.Item) string {
	return it.Meta[onedrive.MetaDriveID] + "\x00" + it.Meta[catalog.MetaItemID]
}

// versionsOf collects the earlier file versions a snapshot holds, by file.
func (x *exporter) versionsOf(snap vault.Snapshot) (map[string][]vault.Item, error) {
	out := map[string][]vault.Item{}
	err := x.a.v.EachItem(snap, func(it vault.Item) error {
		if it.Meta[catalog.MetaKind] == catalog.KindFileVersion {
			k := versionKey(it)
			out[k] = append(out[k], it)
		}
		return nil
	})
	return out, err
}

// versionIDs are the ids of versions, oldest first.
func versionIDs(vs []vault.Item) []string {
	sort.Slice(vs, func(i, j int) bool {
		if a, b := vs[i].Meta[catalog.MetaDate], vs[j].Meta[catalog.MetaDate]; a != b {
			return a < b
		}
		return vs[i].Meta[catalog.MetaVersion] < vs[j].Meta[catalog.MetaVersion]
	})
	ids := make([]string, 0, len(vs))
	for _, v := range vs {
		ids = append(ids, v.Meta[catalog.MetaVersion])
	}
	return ids
}

// displayPath is where a file goes in an export: its library (for a
// SharePoint file), folders and name, each made safe as a file name.
func displayPath(it vault.Item) string {
	var parts []string
	if l := it.Meta[catalog.MetaLibrary]; l != "" {
		parts = append(parts, safeName(l))
	}
	for _, p := range strings.Split(strings.Trim(it.Meta[catalog.MetaFolder], "/"), "/") {
		if p != "" {
			parts = append(parts, safeName(p))
		}
	}
	return path.Join(append(parts, safeName(it.Meta[catalog.MetaName]))...)
}

// freePath returns rel, or rel with " [id]" before its extension when
// another file took it already (names that differ only in case included),
// and marks the result used.
func freePath(used map[string]bool, rel, id string) string {
	out := rel
	for n := 0; used[strings.ToLower(out)]; n++ {
		ext := path.Ext(rel)
		tag := safeName(shortID(id))
		if n > 0 {
			tag += fmt.Sprintf(" %d", n)
		}
		out = strings.TrimSuffix(rel, ext) + " [" + tag + "]" + ext
	}
	used[strings.ToLower(out)] = true
	return out
}

// tarSink writes files into one tar archive, the manifest last.
type tarSink struct {
	x     *exporter
	tw    *tar.Writer
	close func() error
}

func (s *tarSink) write(rel string, it vault.Item, mtime time.Time) (string, error) {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: rel, Size: it.Size, Mode: 0o644, ModTime: mtime}
	if err := s.tw.WriteHeader(hdr); err != nil {
		return "", err
	}
	h := sha256.New()
	if err := s.x.src.WriteItem(io.MultiWriter(s.tw, h), it); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *tarSink) manifest(data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: manifestName, Size: int64(len(data)), Mode: 0o644, ModTime: s.x.a.now().UTC()}
	if err := s.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := s.tw.Write(data); err != nil {
		return err
	}
	if err := s.tw.Close(); err != nil {
		return err
	}
	return s.close()
}

// treeSink writes files below the export's root, never through a link.
type treeSink struct{ x *exporter }

func (s *treeSink) write(rel string, it vault.Item, mtime time.Time) (string, error) {
	local := filepath.FromSlash(rel)
	if err := s.x.root.MkdirAll(filepath.Dir(local), 0o750); err != nil {
		return "", err
	}
	f, err := s.x.root.Create(local)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = s.x.src.WriteItem(io.MultiWriter(f, h), it)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !mtime.IsZero() {
		err = s.x.root.Chtimes(local, mtime, mtime)
	}
	if err != nil {
		return "", err
	}
	s.x.rep.Files = append(s.x.rep.Files, filepath.Join(s.x.dest, local))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *treeSink) manifest(data []byte) error {
	if err := s.x.root.WriteFile(manifestName, data, 0o640); err != nil {
		return err
	}
	s.x.rep.Files = append(s.x.rep.Files, filepath.Join(s.x.dest, manifestName))
	return nil
}
