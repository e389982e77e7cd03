package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/storage/vault"
)

// message restores one message into its destination folder, deciding a
// collision by Internet Message-ID.
func (r *restorer) message(ctx context.Context, it vault.Item) (string, error) {
	base, rel := r.placement(it)
	elems := append(splitPath(base), splitPath(rel)...)
	if len(elems) == 0 {
		return "", fmt.Errorf("the stored message names no folder: restore it with --target-folder")
	}
	// In place, the folder it was in is found by its immutable id while it
	// exists (renamed or moved since, or named in another language), and
	// by its path when it is gone.
	fid := ""
	if base == "" && r.own(it) {
		fid = r.mailFolderByID(ctx, it.Meta[catalog.MetaFolderID])
	}
	if fid == "" {
		var err error
		if fid, err = r.mail.resolve(ctx, r.o.TargetUserID, elems); err != nil {
			return "", err
		}
	}
	mid := it.Meta[catalog.MetaMessageID]
	var old []string
	if mid != "" && r.o.Collision != CollisionCopy {
		have, err := r.messageIDs(ctx, fid)
		if err != nil {
			return "", err
		}
		if ids := have[mid]; len(ids) > 0 {
			if r.o.Collision == CollisionSkip {
				return outcomeSkipped, nil
			}
			old = slices.Clone(ids)
		}
	}
	folder := r.userPath() + "/mailFolders/" + url.PathEscape(fid)
	body, err := r.createMessage(ctx, folder, it)
	if err != nil {
		return "", err
	}
	var created struct {
		ID                string `json:"id"`
		InternetMessageID string `json:"internetMessageId"`
	}
	_ = json.Unmarshal(body, &created)
	have := r.existing[fid]
	outcome := outcomeRestored
	if len(old) > 0 {
		outcome = outcomeReplaced
		kept, err := r.replaceOld(ctx, old, func(ctx context.Context, id string) error {
			return r.deletePath(ctx, r.userPath()+"/messages/"+url.PathEscape(id))
		})
		if have != nil {
			have[mid] = kept
		}
		if err != nil {
			if have != nil && created.ID != "" {
				have[mid] = append(have[mid], created.ID)
			}
			return "", err
		}
	}
	if have != nil && created.InternetMessageID != "" {
		have[created.InternetMessageID] = append(have[created.InternetMessageID], created.ID)
	}
	return outcome, nil
}

// messageIDs lists the Internet Message-IDs already in a folder.
func (r *restorer) messageIDs(ctx context.Context, fid string) (map[string][]string, error) {
	if have, ok := r.existing[fid]; ok {
		return have, nil
	}
	ri, err := r.c.Request(r.userPath()+"/mailFolders/"+url.PathEscape(fid)+"/messages",
		url.Values{"$select": {"id,internetMessageId"}, "$top": {"1000"}})
	if err != nil {
		return nil, err
	}
	have := map[string][]string{}
	if _, err := graph.Each(ctx, r.c, ri, func(m struct{ ID, InternetMessageID string }) error {
		have[m.InternetMessageID] = append(have[m.InternetMessageID], m.ID)
		return nil
	}); err != nil {
		return nil, err
	}
	r.existing[fid] = have
	return have, nil
}

// mailFolderByID returns id when the target mailbox still has that mail
// folder, "" when it does not or the answer says nothing (the caller then
// goes by path). Answers are remembered for the restore.
func (r *restorer) mailFolderByID(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	if found, ok := r.byID[id]; ok {
		return found
	}
	var f struct {
		ID string `json:"id"`
	}
	body, err := r.c.Get(ctx, r.userPath()+"/mailFolders/"+url.PathEscape(id), url.Values{"$select": {"id"}})
	if err == nil && json.Unmarshal(body, &f) == nil && f.ID != "" {
		r.byID[id] = f.ID
		return f.ID
	}
	r.byID[id] = ""
	return ""
}
