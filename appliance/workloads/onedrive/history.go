package onedrive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// What a restore writes besides a file's content: with AllVersions its
// earlier versions first, oldest first, so the file's history is there
// again and the live file ends at the stored one; with Permissions its
// sharing (links made again with createLink, people granted again with
// invite). Both need the snapshot's version and permission items in the
// restore's items.

// itemKey names a drive item across kinds: its drive and item id.
func itemKey(m map[string]string) string { return m[MetaDriveID] + "/" + m[catalog.MetaItemID] }

// index files the version and permission items of the restore's items
// under their file.
func (r *restorer) index(items []vault.Item) {
	r.versions, r.perms = map[string][]vault.Item{}, map[string]vault.Item{}
	for _, it := range items {
		switch it.Meta[catalog.MetaKind] {
		case catalog.KindFileVersion:
			if r.o.AllVersions {
				r.versions[itemKey(it.Meta)] = append(r.versions[itemKey(it.Meta)], it)
			}
		case catalog.KindPermissions:
			r.perms[itemKey(it.Meta)] = it
		}
	}
	for _, vs := range r.versions {
		sort.SliceStable(vs, func(i, j int) bool { return olderVersion(vs[i].Meta, vs[j].Meta) })
	}
}

// olderVersion orders versions by modification time, then by their ids
// as numbers ("2.0" before "10.0").
func olderVersion(a, b map[string]string) bool {
	if a[catalog.MetaDate] != b[catalog.MetaDate] {
		return a[catalog.MetaDate] < b[catalog.MetaDate]
	}
	x, errX := strconv.ParseFloat(a[catalog.MetaVersion], 64)
	y, errY := strconv.ParseFloat(b[catalog.MetaVersion], 64)
	if errX == nil && errY == nil {
		return x < y
	}
	return a[catalog.MetaVersion] < b[catalog.MetaVersion]
}

// uploadHistory uploads the earlier versions of it (with AllVersions),
// oldest first, then it, as name in folder pid; each upload is a new
// version of the file. It returns the file's id and the bytes written.
func (r *restorer) uploadHistory(ctx context.Context, pid, name string, it vault.Item) (string, int64, error) {
	var written int64
	if it.Meta[catalog.MetaKind] == catalog.KindFile {
		for _, v := range r.versions[itemKey(it.Meta)] {
			v.Meta = maps.Clone(v.Meta)
			v.Meta[MetaMime] = it.Meta[MetaMime]
			if _, err := r.upload(ctx, pid, name, v); err != nil {
				return "", written, fmt.Errorf("version %s: %w", v.Meta[catalog.MetaVersion], err)
			}
			written += v.Size
		}
	}
	id, err := r.upload(ctx, pid, name, it)
	if err == nil {
		written += it.Size
	}
	return id, written, err
}

// permission is the part of a stored Graph permission a restore reads.
type permission struct {
	Roles []string `json:"roles"`
	Link  *struct {
		Type  string `json:"type"`
		Scope string `json:"scope"`
	} `json:"link"`
	Expiration    string          `json:"expirationDateTime"`
	HasPassword   bool            `json:"hasPassword"`
	InheritedFrom json.RawMessage `json:"inheritedFrom"`
	GrantedToV2   *grantee        `json:"grantedToV2"`
	GrantedTo     *grantee        `json:"grantedTo"`
	Invitation    *struct {
		Email string `json:"email"`
	} `json:"invitation"`
}

type grantee struct {
	User *struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
}

// recipient is whom a permission was granted to: an email or an object id.
func (p permission) recipient() map[string]any {
	for _, g := range []*grantee{p.GrantedToV2, p.GrantedTo} {
		if g != nil && g.User != nil && g.User.Email != "" {
			return map[string]any{"email": g.User.Email}
		}
	}
	if p.Invitation != nil && p.Invitation.Email != "" {
		return map[string]any{"email": p.Invitation.Email}
	}
	for _, g := range []*grantee{p.GrantedToV2, p.GrantedTo} {
		if g != nil && g.User != nil && g.User.ID != "" {
			return map[string]any{"objectId": g.User.ID}
		}
	}
	return nil
}

// applySharing gives the restored file id the stored sharing of it: each
// link again with createLink (a new URL: the old one stays dead), each
// person again with invite (no mail sent). The owner and inherited
// permissions are left to the drive. What cannot be re-applied is counted
// as failed with the reason.
func (r *restorer) applySharing(ctx context.Context, id string, it vault.Item, where string, res *workloads.RestoreResult) {
	stored, ok := r.perms[itemKey(it.Meta)]
	if !ok {
		return
	}
	failf := func(format string, args ...any) {
		res.Failed++
		res.Errors = append(res.Errors, where+": sharing: "+fmt.Sprintf(format, args...))
	}
	var buf bytes.Buffer
	var list struct {
		Value []permission `json:"value"`
	}
	if err := r.src.WriteItem(&buf, stored); err != nil || json.Unmarshal(buf.Bytes(), &list) != nil {
		failf("the stored permissions are not readable (%v)", err)
		return
	}
	for _, p := range list.Value {
		if p.InheritedFrom != nil || containsString(p.Roles, "owner") {
			continue
		}
		var err error
		switch {
		case p.Link != nil && p.HasPassword:
			failf("a %s link with a password is not made again: its password cannot be read back; share the file anew", p.Link.Scope)
			continue
		case p.Link != nil:
			body := map[string]any{"type": p.Link.Type, "scope": p.Link.Scope}
			if p.Expiration != "" {
				body["expirationDateTime"] = p.Expiration
			}
			_, err = r.c.WriteJSON(ctx, abstractions.POST, r.itemPath(id)+"/createLink", body)
		case p.recipient() != nil && len(p.Roles) > 0:
			_, err = r.c.WriteJSON(ctx, abstractions.POST, r.itemPath(id)+"/invite", map[string]any{
				"recipients": []any{p.recipient()}, "roles": p.Roles[:1], "requireSignIn": true, "sendInvitation": false})
		default:
			continue
		}
		if err != nil {
			failf("%s", graph.Describe(err))
		}
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
