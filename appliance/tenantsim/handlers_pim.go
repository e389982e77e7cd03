package tenantsim

import (
	"net/http"
	"strings"
	"time"
)

// handleListContactFolders lists the folders under the default contacts
// folder, or with {cfid} the child folders of that folder.
func handleListContactFolders(q *request) *graphError {
	return readOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		ids, ctx := u.contactFolderIDs, "users('"+u.id+"')/contactFolders"
		if q.param("cfid") != "" {
			parent, gerr := q.contactFolder(u)
			if gerr != nil {
				return nil, gerr
			}
			ids, ctx = parent.children, ctx+"('"+parent.id+"')/childFolders"
		}
		var all []map[string]any
		for _, id := range ids {
			all = append(all, project(contactFolderJSON(u.colls[id]), selectFields(q.r)))
		}
		return q.listPage(ctx, all, 10, 999)
	})
}

func contactFolderJSON(c *collection) map[string]any {
	return map[string]any{"id": c.id, "displayName": c.name, "parentFolderId": c.parentID}
}

// handleCreateContactFolder creates a folder under the default contacts
// folder, or with {cfid} a child folder of that folder.
func handleCreateContactFolder(q *request) *graphError {
	name, gerr := q.readFolderName()
	if gerr != nil {
		return gerr
	}
	return writePair(q, q.collectionIn(q.contactFolder), func(u *user, parent *collection) (any, *graphError) {
		c := &collection{id: itemID("AAMkF", q.sim.cfg.Seed, u.id, "newcf", q.sim.nextSeq()), parentID: parent.id, name: name, kind: kindContact}
		q.sim.addCollection(u, c)
		if parent == u.contactsRoot {
			u.contactFolderIDs = append(u.contactFolderIDs, c.id)
		}
		return contactFolderJSON(c), nil
	})
}

// contactFolder resolves {cfid}, or the default contacts folder when the
// path has none.
func (q *request) contactFolder(u *user) (*collection, *graphError) {
	return q.collectionOr(u, "cfid", kindContact, u.contactsRoot)
}

func handleListContacts(q *request) *graphError {
	return q.listCollection(q.contactFolder, "contacts", contactJSON)
}

// listCollection lists the items of the folder coll resolves, as
// users('{uid}')/name, rendered with render.
func (q *request) listCollection(coll func(*user) (*collection, *graphError), name string, render func(*item) map[string]any) *graphError {
	return readPair(q, q.collectionIn(coll), func(u *user, c *collection) (any, *graphError) {
		return q.listPage("users('"+u.id+"')/"+name, listItems(c, render, selectFields(q.r)), 10, 1000)
	})
}

// collectionDelta serves delta on the items of the folder coll resolves,
// rendered with render.
func (q *request) collectionDelta(coll func(*user) (*collection, *graphError), odataType string, render func(*item) map[string]any) *graphError {
	return readPair(q, q.collectionIn(coll), func(_ *user, c *collection) (any, *graphError) {
		return q.serveDelta(c, odataType, memberOf(c, render))
	})
}

// getItem serves the item of the mailbox named by the path parameter
// param, which must be of kind, rendered with render.
func (q *request) getItem(param string, kind itemKind, render func(*item) map[string]any) *graphError {
	return q.read(func() (any, *graphError) {
		_, it, gerr := q.mailboxItem(param, kind)
		if gerr != nil {
			return nil, gerr
		}
		return project(render(it), selectFields(q.r)), nil
	})
}

func listItems(c *collection, render func(*item) map[string]any, sel map[string]bool) []map[string]any {
	all := make([]map[string]any, 0, len(c.order))
	for _, m := range c.order {
		all = append(all, project(render(c.user.items[m.id]), sel))
	}
	return all
}

func handleGetContact(q *request) *graphError {
	return q.getItem("cid", kindContact, contactJSON)
}

func handleContactsDelta(q *request) *graphError {
	return q.collectionDelta(q.contactFolder, "#microsoft.graph.contact", contactJSON)
}

// readProps reads a contact or event body: any JSON object, kept as given
// minus the server-owned properties.
func (q *request) readProps() (map[string]any, *graphError) {
	var props map[string]any
	if gerr := q.decodeJSON(&props); gerr != nil {
		return nil, gerr
	}
	if props == nil {
		return nil, errBadJSON
	}
	for _, k := range []string{"id", "@odata.etag", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId", "@odata.context"} {
		delete(props, k)
	}
	return props, nil
}

func (q *request) createProps(kind itemKind, coll func(*user) (*collection, *graphError), render func(*item) map[string]any) *graphError {
	props, gerr := q.readProps()
	if gerr != nil {
		return gerr
	}
	if kind == kindEvent {
		// Exchange types an event by its recurrence.
		props["type"] = "singleInstance"
		if rec, _ := props["recurrence"].(map[string]any); rec != nil {
			props["type"] = "seriesMaster"
		}
	}
	return writePair(q, q.collectionIn(coll), func(u *user, c *collection) (any, *graphError) {
		seq := q.sim.nextSeq()
		it := &item{id: itemID("AAMkNew", q.sim.cfg.Seed, u.id, kind, seq), kind: kind, props: props}
		it.created, it.modified = q.sim.logicalNow(seq), q.sim.logicalNow(seq)
		q.sim.addItem(c, it)
		return render(it), nil
	})
}

func handleCreateContact(q *request) *graphError {
	return q.createProps(kindContact, q.contactFolder, contactJSON)
}

func handleListCalendars(q *request) *graphError {
	return readOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		var all []map[string]any
		for _, id := range u.calendarIDs {
			all = append(all, project(calendarJSON(u, u.colls[id]), selectFields(q.r)))
		}
		return q.listPage("users('"+u.id+"')/calendars", all, 10, 999)
	})
}

func calendarJSON(u *user, c *collection) map[string]any {
	return map[string]any{
		"id": c.id, "name": c.name, "canEdit": true, "canShare": true,
		"isDefaultCalendar": c == u.calendar, "isRemovable": c != u.calendar,
		"owner": map[string]any{"name": u.displayName, "address": u.mail},
	}
}

// handleCreateCalendar creates a calendar; like Exchange, it refuses a
// second calendar of the same name (409).
func handleCreateCalendar(q *request) *graphError {
	var in struct {
		Name string `json:"name"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if strings.TrimSpace(in.Name) == "" {
		return errf(http.StatusBadRequest, "ErrorInvalidRequest", "The calendar name must not be empty.")
	}
	return writeOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		for _, id := range u.calendarIDs {
			if strings.EqualFold(u.colls[id].name, in.Name) {
				return nil, errf(http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
			}
		}
		c := &collection{id: itemID("AAMkF", q.sim.cfg.Seed, u.id, "newcal", q.sim.nextSeq()), name: in.Name, kind: kindEvent}
		q.sim.addCollection(u, c)
		u.calendarIDs = append(u.calendarIDs, c.id)
		return calendarJSON(u, c), nil
	})
}

// deleteItem removes the item of the mailbox named by the path parameter
// param, which must be of kind (DELETE on a contact or an event).
func (q *request) deleteItem(param string, kind itemKind) *graphError {
	return q.write(func() (any, *graphError) {
		_, it, gerr := q.mailboxItem(param, kind)
		if gerr != nil {
			return nil, gerr
		}
		q.sim.removeItem(it)
		return nil, nil
	})
}

func handleDeleteContact(q *request) *graphError { return q.deleteItem("cid", kindContact) }

// handleDeleteEvent deletes an event; an occurrence's deletion cancels
// that occurrence of its series.
func handleDeleteEvent(q *request) *graphError {
	return writeOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		if master, key, ok := occurrence(u, q.param("eid")); ok {
			s := q.touchSeries(master)
			s.cancelled[key] = true
			delete(s.exceptions, key)
			return nil, nil
		}
		it, gerr := u.itemOf(q.param("eid"), kindEvent)
		if gerr != nil {
			return nil, gerr
		}
		q.sim.removeItem(it)
		return nil, nil
	})
}

// calendar resolves {calid}, or the default calendar when the path has
// none.
func (q *request) calendar(u *user) (*collection, *graphError) {
	return q.collectionOr(u, "calid", kindEvent, u.calendar)
}

func handleListEvents(q *request) *graphError {
	return q.listCollection(q.calendar, "events", eventJSON)
}

// handleGetEvent serves an event, or an occurrence of a series.
func handleGetEvent(q *request) *graphError {
	return readOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		if master, key, ok := occurrence(u, q.param("eid")); ok {
			t, _ := time.Parse(occKeyLayout, key)
			return project(instanceJSON(master, t), selectFields(q.r)), nil
		}
		it, gerr := u.itemOf(q.param("eid"), kindEvent)
		if gerr != nil {
			return nil, gerr
		}
		return project(eventJSON(it), selectFields(q.r)), nil
	})
}

// handleEventsDelta serves events/delta on the default calendar and
// calendars/{id}/events/delta: series masters and single events, as
// Graph's beta serves it (v1.0 documents delta on calendarView only,
// handleCalendarViewDelta).
func handleEventsDelta(q *request) *graphError {
	return q.collectionDelta(q.calendar, "#microsoft.graph.event", eventJSON)
}

func handleCreateEvent(q *request) *graphError {
	return q.createProps(kindEvent, q.calendar, eventJSON)
}
