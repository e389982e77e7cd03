package onedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"net/url"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/graph/quickxor"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// writeFile records one file: carried when its content is unchanged (under
// its new name or place when it moved), downloaded otherwise, with its
// earlier versions and its sharing state.
func (b *backup) writeFile(ctx context.Context, g *graph.Client, n *node) {
	m := b.nodeMeta(n, catalog.KindFile)
	p := b.prefix + filesDir + workloads.EscapeID(n.id)
	unchanged := n.prev != nil && (n.item == nil || sameContent(n.prev.Meta, m))
	if unchanged {
		b.add(*n.prev, p, m)
		b.mu.Lock()
		b.res.Items++
		if n.prev.Meta[catalog.MetaFolder] != m[catalog.MetaFolder] || n.prev.Meta[catalog.MetaName] != m[catalog.MetaName] {
			b.res.MovedItems++
		} else {
			b.res.CarriedItems++
		}
		b.mu.Unlock()
		b.carryVersions(n, m)
		if n.item != nil {
			b.writePermissions(ctx, n, m)
		} else {
			b.carryPermissions(n)
		}
		return
	}
	size, err := b.download(ctx, g, vault.Item{Path: p, Meta: m}, n.item.Download, b.contentPath(n.id, ""), n.item.Size, m[MetaQuickXor])
	switch {
	case errors.Is(err, workloads.ErrStore):
		return
	case isGone(err):
		b.mu.Lock()
		b.res.Vanished = append(b.res.Vanished, m[catalog.MetaFolder]+"/"+n.name)
		b.mu.Unlock()
		return
	case err != nil:
		b.fail("%s/%s: %v", m[catalog.MetaFolder], n.name, err)
		if n.prev != nil {
			b.add(*n.prev, p, n.prev.Meta) // the previous version stays
			b.carryVersions(n, n.prev.Meta)
		}
		return
	}
	b.mu.Lock()
	b.res.Items++
	b.res.NewItems++
	b.res.Bytes += size
	b.mu.Unlock()
	if !b.o.NoVersions {
		b.writeVersions(ctx, g, n, m)
	}
	b.writePermissions(ctx, n, m)
}

// sameContent reports whether the listed file has the content the
// previous snapshot stored: same quickXorHash when Graph reports one (as
// OneDrive for Business does), else same SHA-256, else same content tag.
func sameContent(prev, now map[string]string) bool {
	if q := now[MetaQuickXor]; q != "" {
		return prev[MetaQuickXor] == q
	}
	if h := now[MetaSHA256]; h != "" {
		return prev[MetaSHA256] == h
	}
	return now[MetaCTag] != "" && prev[MetaCTag] == now[MetaCTag]
}

func (b *backup) contentPath(itemID, versionID string) string {
	p := "/drives/" + url.PathEscape(b.driveID) + "/items/" + url.PathEscape(itemID)
	if versionID != "" {
		p += "/versions/" + url.PathEscape(versionID)
	}
	return p + "/content"
}

// errContent is a download whose body was short, long, or did not match
// the hash Graph reported.
var errContent = errors.New("content does not match")

// download stores the content of one file or version, read from the
// pre-authenticated URL when there is one and through /content otherwise
// (and on every retry, for a fresh URL). It is checked while it streams:
// its length against size (when size ≥ 0) and its quickXorHash against
// qxh (when Graph reported one). A failed attempt is not recorded.
func (b *backup) download(ctx context.Context, g *graph.Client, it vault.Item, preauth, contentPath string, size int64, qxh string) (int64, error) {
	var last error
	for attempt := 0; attempt <= b.o.ItemRetries; attempt++ {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		var body *graph.Body
		var err error
		if preauth != "" && attempt == 0 {
			body, err = g.Fetch(ctx, preauth)
		} else {
			b.c.Count()
			body, err = g.Download(ctx, contentPath)
		}
		if err != nil {
			if isGone(err) {
				return 0, err
			}
			last = err
			continue
		}
		v := &verifier{r: body, want: size, qxh: qxh, h: quickxor.New()}
		_, err = b.sink.Put(it, v)
		body.Close()
		switch {
		case err == nil:
			b.mu.Lock()
			b.res.Written++
			b.mu.Unlock()
			return v.n, nil
		case v.err == nil:
			// The reader was fine: the vault failed.
			b.storeFailed(err)
			return 0, fmt.Errorf("%w: %w", workloads.ErrStore, err)
		}
		last = v.err
	}
	return 0, fmt.Errorf("download failed after %d attempts: %w", b.o.ItemRetries+1, last)
}

func isGone(err error) bool {
	st := graph.DownloadStatus(err)
	if st == 0 {
		st, _ = graph.ErrorOf(err)
	}
	return st == 404
}

// verifier passes a download through, counting and hashing it; at the end
// it fails instead of ending when the length or hash is wrong. err keeps
// the first failure of the download itself, telling it apart from a
// failure of the vault.
type verifier struct {
	r    io.Reader
	h    hash.Hash
	want int64
	qxh  string
	n    int64
	err  error
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	switch {
	case err == io.EOF:
		if v.want >= 0 && v.n != v.want {
			err = fmt.Errorf("%w: %d bytes arrived, Graph listed %d", errContent, v.n, v.want)
		} else if got := quickxor.Base64(v.h); v.qxh != "" && got != v.qxh {
			err = fmt.Errorf("%w: quickXorHash %s, Graph listed %s", errContent, got, v.qxh)
		}
	case v.want >= 0 && v.n > v.want:
		err = fmt.Errorf("%w: more than the %d bytes Graph listed", errContent, v.want)
	}
	if err != nil && err != io.EOF && v.err == nil {
		v.err = err
	}
	return n, err
}

// writeVersions stores the earlier versions of a changed file: those the
// previous snapshot holds are carried, the others downloaded.
func (b *backup) writeVersions(ctx context.Context, g *graph.Client, n *node, m map[string]string) {
	body, err := b.c.Get(ctx, "/drives/"+url.PathEscape(b.driveID)+"/items/"+url.PathEscape(n.id)+"/versions", nil)
	if err != nil {
		if !isGone(err) {
			b.fail("%s/%s: list versions: %s", m[catalog.MetaFolder], n.name, graph.Describe(err))
		}
		return
	}
	var list struct {
		Value []version `json:"value"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		b.fail("%s/%s: decode versions: %v", m[catalog.MetaFolder], n.name, err)
		return
	}
	// Graph lists versions newest first; the newest is the current
	// content, stored already.
	for i, v := range list.Value {
		if i == 0 || v.ID == "" {
			continue
		}
		vm := b.versionMeta(m, v)
		p := b.versionPath(n.id, v.ID)
		if it, ok := b.prev.Get(p); ok {
			b.add(it, p, vm)
			continue
		}
		size, err := b.download(ctx, g, vault.Item{Path: p, Meta: vm}, v.Download, b.contentPath(n.id, v.ID), v.Size, "")
		switch {
		case err == nil:
			b.mu.Lock()
			b.res.Bytes += size
			b.mu.Unlock()
		case !errors.Is(err, workloads.ErrStore) && !isGone(err):
			b.fail("%s/%s: version %s: %v", m[catalog.MetaFolder], n.name, v.ID, err)
		}
	}
}

func (b *backup) versionPath(itemID, versionID string) string {
	return b.prefix + versionsDir + workloads.EscapeID(itemID) + "/" + workloads.EscapeID(versionID)
}

func (b *backup) versionMeta(file map[string]string, v version) map[string]string {
	m := b.baseMeta(catalog.KindFileVersion)
	for _, k := range []string{catalog.MetaItemID, catalog.MetaName, catalog.MetaFolder, catalog.MetaParentID} {
		m[k] = file[k]
	}
	m[catalog.MetaVersion], m[catalog.MetaDate] = v.ID, v.Modified
	return m
}

// carryVersions records the previous snapshot's versions of a file again,
// with its current name and place.
func (b *backup) carryVersions(n *node, m map[string]string) {
	prefix := b.prefix + versionsDir + workloads.EscapeID(n.id) + "/"
	_ = b.prev.Each(prefix, func(it vault.Item) error {
		vm := maps.Clone(it.Meta)
		for _, k := range []string{catalog.MetaName, catalog.MetaFolder, catalog.MetaParentID} {
			vm[k] = m[k]
		}
		b.add(it, it.Path, vm)
		return nil
	})
}

// writePermissions records the permissions of a shared item (5 resource
// units a call: only items Graph marks as shared are asked, and only when
// their eTag changed).
func (b *backup) writePermissions(ctx context.Context, n *node, m map[string]string) {
	if n.item == nil || n.item.Shared == nil {
		return
	}
	p := b.prefix + permsDir + workloads.EscapeID(n.id) + ".json"
	if it, ok := b.prev.Get(p); ok && n.prev != nil && n.prev.Meta[MetaETag] == m[MetaETag] {
		b.add(it, p, it.Meta)
		return
	}
	body, err := b.c.Get(ctx, "/drives/"+url.PathEscape(b.driveID)+"/items/"+url.PathEscape(n.id)+"/permissions", nil)
	if err != nil {
		if !isGone(err) {
			b.fail("%s/%s: permissions: %s", m[catalog.MetaFolder], n.name, graph.Describe(err))
		}
		return
	}
	pm := b.baseMeta(catalog.KindPermissions)
	pm[catalog.MetaItemID], pm[catalog.MetaName], pm[catalog.MetaFolder] = n.id, n.name, m[catalog.MetaFolder]
	b.put(vault.Item{Path: p, Meta: pm}, body)
}

func (b *backup) carryPermissions(n *node) {
	p := b.prefix + permsDir + workloads.EscapeID(n.id) + ".json"
	if it, ok := b.prev.Get(p); ok {
		b.add(it, p, it.Meta)
	}
}
