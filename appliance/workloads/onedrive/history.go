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

// applySharing gives the restored file id the stored sharing of it with
// Reshare. What cannot be re-applied is counted as failed with the
// reason.
func (r *restorer) applySharing(ctx context.Context, id string, it vault.Item, where string, res *workloads.RestoreResult) {
	stored, ok := r.perms[itemKey(it.Meta)]
	if !ok {
		return
	}
	var buf bytes.Buffer
	var list struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := r.src.WriteItem(&buf, stored); err != nil || json.Unmarshal(buf.Bytes(), &list) != nil {
		res.Failed++
		res.Errors = append(res.Errors, fmt.Sprintf("%s: sharing: the stored permissions are not readable (%v)", where, err))
		return
	}
	_, problems := Reshare(ctx, r.c, r.itemPath(id), list.Value)
	for _, p := range problems {
		res.Failed++
		res.Errors = append(res.Errors, where+": sharing: "+p)
	}
}

// SharingKey names what a stored permission grants, so that the same
// grant on another item compares equal: "link:<type>:<scope>",
// "person:<email or id>:<role>", or "" for owners, inherited permissions
// and SharePoint site groups (which Reshare leaves alone).
func SharingKey(raw json.RawMessage) string {
	var p permission
	if json.Unmarshal(raw, &p) != nil || p.InheritedFrom != nil || containsString(p.Roles, "owner") {
		return ""
	}
	if p.Link != nil {
		return "link:" + p.Link.Type + ":" + p.Link.Scope
	}
	if who := p.recipient(); who != nil && len(p.Roles) > 0 {
		for _, v := range who {
			return "person:" + strings.ToLower(fmt.Sprint(v)) + ":" + p.Roles[0]
		}
	}
	return ""
}

// Reshare gives the drive item at itemPath (a Graph path,
// "/drives/{id}/items/{id}" or "/drives/{id}/root") the stored
// permissions perms (Graph permission objects): each link again with
// createLink (a new URL: the old one stays dead), each person again with
// invite (no mail sent). Owners, inherited permissions and SharePoint
// site groups are left to the drive: they come with it. It returns how
// many were re-applied and, for each that was not, the reason.
func Reshare(ctx context.Context, c *graph.Caller, itemPath string, perms []json.RawMessage) (applied int, problems []string) {
	for _, raw := range perms {
		var p permission
		if json.Unmarshal(raw, &p) != nil || p.InheritedFrom != nil || containsString(p.Roles, "owner") {
			continue
		}
		var err error
		switch {
		case p.Link != nil && p.HasPassword:
			problems = append(problems, fmt.Sprintf("a %s link with a password is not made again: its password cannot be read back; share the file anew", p.Link.Scope))
			continue
		case p.Link != nil:
			body := map[string]any{"type": p.Link.Type, "scope": p.Link.Scope}
			if p.Expiration != "" {
				body["expirationDateTime"] = p.Expiration
			}
			_, err = c.WriteJSON(ctx, abstractions.POST, itemPath+"/createLink", body)
		case p.recipient() != nil && len(p.Roles) > 0:
			_, err = c.WriteJSON(ctx, abstractions.POST, itemPath+"/invite", map[string]any{
				"recipients": []any{p.recipient()}, "roles": p.Roles[:1], "requireSignIn": true, "sendInvitation": false})
		default:
			continue
		}
		if err != nil {
			problems = append(problems, graph.Describe(err))
			continue
		}
		applied++
	}
	return applied, problems
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
