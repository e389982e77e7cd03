package tenantsim

import "net/http"

// registerRoutes lists every Graph path the simulator answers, with its
// endpoint class (the counters' key) and the permission it needs. Delta
// routes come before the item routes they would otherwise shadow.
func (s *Sim) registerRoutes() {
	rt := &s.routes
	const get, post, del, patch = http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPatch
	rt.add(get, "users", "users", permUserRead, handleListUsers)
	rt.add(get, "users/{uid}", "users", permUserRead, handleGetUser)
	rt.add(get, "directory/deletedItems/microsoft.graph.user", "users", permUserRead, handleDeletedUsers)

	rt.add(get, "users/{uid}/mailFolders", "mail.folders", permMailRead, handleListFolders)
	rt.add(post, "users/{uid}/mailFolders", "mail.folders", permMailWrite, handleCreateFolder)
	rt.add(get, "users/{uid}/mailFolders/delta()", "mail.delta", permMailRead, handleFoldersDelta)
	rt.add(get, "users/{uid}/mailFolders/{fid}", "mail.folders", permMailRead, handleGetFolder)
	rt.add(del, "users/{uid}/mailFolders/{fid}", "mail.folders", permMailWrite, handleDeleteFolder)
	rt.add(patch, "users/{uid}/mailFolders/{fid}", "mail.folders", permMailWrite, handleRenameFolder)
	rt.add(get, "users/{uid}/mailFolders/{fid}/childFolders", "mail.folders", permMailRead, handleListFolders)
	rt.add(post, "users/{uid}/mailFolders/{fid}/childFolders", "mail.folders", permMailWrite, handleCreateFolder)

	rt.add(get, "users/{uid}/mailFolders/{fid}/messages/delta()", "mail.delta", permMailRead, handleMessagesDelta)
	rt.add(get, "users/{uid}/mailFolders/{fid}/messages", "mail.messages", permMailRead, handleListMessages)
	rt.add(post, "users/{uid}/mailFolders/{fid}/messages", "mail.messages", permMailWrite, handleCreateMessage)
	rt.add(get, "users/{uid}/messages", "mail.messages", permMailRead, handleListMessages)
	rt.add(post, "users/{uid}/messages", "mail.messages", permMailWrite, handleCreateMessage)
	for _, prefix := range []string{"users/{uid}/messages/{mid}", "users/{uid}/mailFolders/{fid}/messages/{mid}"} {
		rt.add(get, prefix, "mail.messages", permMailRead, handleGetMessage)
		rt.add(del, prefix, "mail.messages", permMailWrite, handleDeleteMessage)
		rt.add(get, prefix+"/$value", "mail.mime", permMailRead, handleMessageMIME)
		rt.add(post, prefix+"/move", "mail.messages", permMailWrite, handleMoveMessage)
		rt.add(get, prefix+"/attachments", "mail.attachments", permMailRead, handleListAttachments)
		rt.add(get, prefix+"/attachments/{aid}", "mail.attachments", permMailRead, handleGetAttachment)
		rt.add(get, prefix+"/attachments/{aid}/$value", "mail.attachments", permMailRead, handleAttachmentValue)
	}

	rt.add(get, "users/{uid}/contactFolders", "contacts", permContactsRead, handleListContactFolders)
	rt.add(post, "users/{uid}/contactFolders", "contacts", permContactsWrite, handleCreateContactFolder)
	rt.add(get, "users/{uid}/contactFolders/{cfid}/childFolders", "contacts", permContactsRead, handleListContactFolders)
	rt.add(post, "users/{uid}/contactFolders/{cfid}/childFolders", "contacts", permContactsWrite, handleCreateContactFolder)
	rt.add(get, "users/{uid}/contacts/delta()", "contacts.delta", permContactsRead, handleContactsDelta)
	rt.add(get, "users/{uid}/contactFolders/{cfid}/contacts/delta()", "contacts.delta", permContactsRead, handleContactsDelta)
	rt.add(get, "users/{uid}/contacts", "contacts", permContactsRead, handleListContacts)
	rt.add(post, "users/{uid}/contacts", "contacts", permContactsWrite, handleCreateContact)
	rt.add(get, "users/{uid}/contactFolders/{cfid}/contacts", "contacts", permContactsRead, handleListContacts)
	rt.add(post, "users/{uid}/contactFolders/{cfid}/contacts", "contacts", permContactsWrite, handleCreateContact)
	rt.add(get, "users/{uid}/contacts/{cid}", "contacts", permContactsRead, handleGetContact)
	rt.add(del, "users/{uid}/contacts/{cid}", "contacts", permContactsWrite, handleDeleteContact)

	rt.add(get, "users/{uid}/calendars", "events", permCalRead, handleListCalendars)
	rt.add(post, "users/{uid}/calendars", "events", permCalWrite, handleCreateCalendar)
	rt.add(get, "users/{uid}/calendarView/delta()", "events.delta", permCalRead, handleCalendarViewDelta)
	rt.add(get, "users/{uid}/calendars/{calid}/calendarView/delta()", "events.delta", permCalRead, handleCalendarViewDelta)
	rt.add(get, "users/{uid}/events/delta()", "events.delta", permCalRead, handleEventsDelta)
	rt.add(get, "users/{uid}/calendars/{calid}/events/delta()", "events.delta", permCalRead, handleEventsDelta)
	rt.add(get, "users/{uid}/events", "events", permCalRead, handleListEvents)
	rt.add(post, "users/{uid}/events", "events", permCalWrite, handleCreateEvent)
	rt.add(get, "users/{uid}/calendars/{calid}/events", "events", permCalRead, handleListEvents)
	rt.add(post, "users/{uid}/calendars/{calid}/events", "events", permCalWrite, handleCreateEvent)
	rt.add(get, "users/{uid}/events/{eid}", "events", permCalRead, handleGetEvent)
	rt.add(patch, "users/{uid}/events/{eid}", "events", permCalWrite, handleUpdateEvent)
	rt.add(get, "users/{uid}/events/{eid}/instances", "events", permCalRead, handleEventInstances)
	rt.add(get, "users/{uid}/calendarView", "events", permCalRead, handleCalendarView)
	rt.add(get, "users/{uid}/calendars/{calid}/calendarView", "events", permCalRead, handleCalendarView)
	rt.add(del, "users/{uid}/events/{eid}", "events", permCalWrite, handleDeleteEvent)
	s.registerFileRoutes()
}
