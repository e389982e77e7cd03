package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/storage/vault"
)

// holdings is what one contact folder or calendar of the target holds:
// item ids by content key, and every id. An item of the target collides
// with one restored item at most: claimed marks those matched already and
// those this restore created, so that two equal items restored together
// are both restored, and restored again both skipped or replaced.
type holdings struct {
	byKey   map[string][]string
	ids     map[string]bool
	claimed map[string]bool
}

func newHoldings() *holdings {
	return &holdings{byKey: map[string][]string{}, ids: map[string]bool{}, claimed: map[string]bool{}}
}

func (h *holdings) add(id, key string) {
	h.ids[id] = true
	if key != "" {
		h.byKey[key] = append(h.byKey[key], id)
	}
}

// match claims the item of the target that restoring an item with this
// immutable id (when restored into its own mailbox) and content key
// collides with, "" when none is left. Items whose own immutable id is
// being restored (ownIDs) are left to that item.
func (h *holdings) match(id, key string, ownIDs map[string]bool) string {
	if id != "" && h.ids[id] && !h.claimed[id] {
		h.claimed[id] = true
		return id
	}
	for _, other := range h.byKey[key] {
		if !h.claimed[other] && !ownIDs[other] {
			h.claimed[other] = true
			return other
		}
	}
	return ""
}

func (h *holdings) remove(id string) {
	delete(h.ids, id)
	for k, ids := range h.byKey {
		if i := slices.Index(ids, id); i >= 0 {
			h.byKey[k] = slices.Delete(ids, i, i+1)
		}
	}
}

// pimKind says how contacts or events are listed, keyed and deleted.
type pimKind struct {
	name   string   // "contacts", "calendar": prefixes container keys
	fields []string // selected when listing, enough for key
	// key is the content key of an item's JSON, "" when it has none.
	key func(raw []byte) string
	// item is the Graph path of one item of the target user.
	item func(r *restorer, id string) string
}

var contactsKind = pimKind{name: "contacts", fields: []string{"id", "displayName", "givenName", "surname", "companyName",
	"mobilePhone", "emailAddresses", "businessPhones", "homePhones"}, key: contactKey,
	item: func(r *restorer, id string) string { return r.userPath() + "/contacts/" + url.PathEscape(id) }}

var eventsKind = pimKind{name: "calendar", fields: []string{"id", "subject", "start", "end"}, key: eventKey,
	item: func(r *restorer, id string) string { return r.userPath() + "/events/" + url.PathEscape(id) }}

// contactKey is a contact's names, company, e-mail addresses and phone
// numbers, without case: what tells two contacts of one person apart.
func contactKey(raw []byte) string {
	var c struct {
		DisplayName, GivenName, Surname, CompanyName, MobilePhone string
		EmailAddresses                                            []emailAddress
		BusinessPhones, HomePhones                                []string
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	var mails []string
	for _, a := range c.EmailAddresses {
		mails = append(mails, strings.TrimSpace(a.Address))
	}
	slices.Sort(mails)
	parts := []string{c.DisplayName, c.GivenName, c.Surname, c.CompanyName, c.MobilePhone, strings.Join(mails, ","),
		strings.Join(c.BusinessPhones, ","), strings.Join(c.HomePhones, ",")}
	k := strings.ToLower(strings.Join(parts, "\x00"))
	if strings.Trim(k, "\x00") == "" {
		return ""
	}
	return k
}

// eventKey is an event's subject, start and end (in UTC).
func eventKey(raw []byte) string {
	var e struct {
		Subject string      `json:"subject"`
		Start   *dateTimeTZ `json:"start"`
		End     *dateTimeTZ `json:"end"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	k := e.Subject + "\x00" + eventTime(e.Start) + "\x00" + eventTime(e.End)
	if k == "\x00\x00" {
		return ""
	}
	return k
}

// contact restores one contact into its contact folder, below the
// default contacts folder or below the target folder.
func (r *restorer) contact(ctx context.Context, it vault.Item) (string, error) {
	base, rel := r.placement(it)
	elems := splitPath(rel)
	if rel == it.Meta[catalog.MetaFolder] && len(elems) > 0 {
		// The path starts at the default contacts folder, whose place the
		// target folder takes.
		elems = elems[1:]
	}
	elems = append(splitPath(base), elems...)
	fid, err := r.contacts.resolve(ctx, r.o.TargetUserID, elems)
	if err != nil {
		return "", err
	}
	coll := r.userPath() + "/contacts"
	if fid != "" {
		coll = r.userPath() + "/contactFolders/" + url.PathEscape(fid) + "/contacts"
	}
	return r.restorePIM(ctx, it, contactsKind, fid, coll)
}

// event restores one event into its calendar, or with a base folder into
// the calendar "<base> - <calendar>".
func (r *restorer) event(ctx context.Context, it vault.Item) (string, error) {
	base, name := r.placement(it)
	if base != "" {
		name = base + " - " + name
	}
	calID, err := r.calendar(ctx, it, base == "", name)
	if err != nil {
		return "", err
	}
	return r.restorePIM(ctx, it, eventsKind, calID, r.userPath()+"/calendars/"+url.PathEscape(calID)+"/events")
}

// calendar finds the target's calendar for it: in place its own calendar
// by immutable ID, else the calendar called name, created when missing.
func (r *restorer) calendar(ctx context.Context, it vault.Item, inPlace bool, name string) (string, error) {
	if r.calendars == nil {
		ri, err := r.c.Request(r.userPath()+"/calendars", url.Values{"$select": {"id,name"}, "$top": {"999"}})
		if err == nil {
			r.calendars = []folderRef{}
			_, err = graph.Each(ctx, r.c, ri, func(c struct{ ID, Name string }) error {
				r.calendars = append(r.calendars, folderRef{c.ID, c.Name})
				return nil
			})
		}
		if err != nil {
			r.calendars = nil
			return "", &fatalRestoreError{err: fmt.Errorf("restore into %s: list calendars: %w", r.o.TargetUserID, err)}
		}
	}
	if id := it.Meta[catalog.MetaFolderID]; inPlace && r.own(it) && id != "" {
		for _, c := range r.calendars {
			if c.id == id {
				return c.id, nil
			}
		}
	}
	for _, c := range r.calendars {
		if strings.EqualFold(c.name, name) {
			return c.id, nil
		}
	}
	b, _ := json.Marshal(map[string]string{"name": name})
	id, err := r.postJSON(ctx, r.userPath()+"/calendars", b)
	if err == nil && id == "" {
		err = fmt.Errorf("the answer has no id")
	}
	if err != nil {
		return "", fmt.Errorf("create calendar %q: %w", name, err)
	}
	r.calendars = append(r.calendars, folderRef{id, name})
	r.pim[eventsKind.name+":"+id] = newHoldings()
	return id, nil
}

// holdingsOf lists what the container (contact folder or calendar) holds
// whose items are listed at coll, once per restore.
func (r *restorer) holdingsOf(ctx context.Context, k pimKind, container, coll string) (*holdings, error) {
	if h, ok := r.pim[k.name+":"+container]; ok {
		return h, nil
	}
	ri, err := r.c.Request(coll, url.Values{"$select": {strings.Join(k.fields, ",")}, "$top": {"1000"}})
	if err != nil {
		return nil, err
	}
	h := newHoldings()
	if _, err := r.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var v struct{ ID string }
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		h.add(v.ID, k.key(raw))
		return nil
	}); err != nil {
		return nil, err
	}
	r.pim[k.name+":"+container] = h
	return h, nil
}

// restorePIM creates a contact or event from its stored JSON in the
// container whose items are at coll, deciding a collision by immutable
// ID (in its own mailbox) or content key.
func (r *restorer) restorePIM(ctx context.Context, it vault.Item, k pimKind, container, coll string) (string, error) {
	h, err := r.holdingsOf(ctx, k, container, coll)
	if err != nil {
		return "", err
	}
	body, err := r.body(it)
	if err != nil {
		return "", err
	}
	key := k.key(body)
	old := ""
	if r.o.Collision != CollisionCopy {
		id := ""
		if r.own(it) {
			id = it.Meta[catalog.MetaItemID]
		}
		if old = h.match(id, key, r.ownIDs); old != "" && r.o.Collision == CollisionSkip {
			return outcomeSkipped, nil
		}
	}
	id, err := r.postJSON(ctx, coll, body)
	if err != nil {
		return "", err
	}
	if k.name == eventsKind.name && id != "" {
		raw, err := r.read(it)
		if err == nil {
			err = r.restoreSeries(ctx, id, raw)
		}
		if err != nil {
			return "", fmt.Errorf("series %s: %w", it.Meta[catalog.MetaItemID], err)
		}
	}
	if id != "" {
		h.add(id, key)
		h.claimed[id] = true
	}
	if old == "" {
		return outcomeRestored, nil
	}
	kept, err := r.replaceOld(ctx, []string{old}, func(ctx context.Context, id string) error {
		return r.deletePath(ctx, k.item(r, id))
	})
	if len(kept) == 0 {
		h.remove(old)
	}
	if err != nil {
		return "", err
	}
	return outcomeReplaced, nil
}
