package tenantsim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/mail"
	"strings"
	"time"
)

func (q *request) folder(u *user) (*collection, *graphError) {
	c := u.collection(q.param("fid"), kindMessage)
	if c == nil {
		return nil, errItemNotFound
	}
	return c, nil
}

// parentFolder resolves {fid}, or the root of the mailbox when the path
// names no folder.
func (q *request) parentFolder(u *user) (*collection, *graphError) {
	return q.collectionOr(u, "fid", kindMessage, u.mailRoot)
}

// folderOrDrafts resolves {fid}, or Drafts when the path names no folder.
func (q *request) folderOrDrafts(u *user) (*collection, *graphError) {
	return q.collectionOr(u, "fid", kindMessage, u.wellKnown["drafts"])
}

// collectionOr resolves the folder of kind that the path parameter param
// names, or def when the path has none.
func (q *request) collectionOr(u *user, param string, kind itemKind, def *collection) (*collection, *graphError) {
	if q.param(param) == "" {
		return def, nil
	}
	c := u.collection(q.param(param), kind)
	if c == nil {
		return nil, errItemNotFound
	}
	return c, nil
}

// message resolves {mid}, and {fid} when the path names a folder.
func (q *request) message(u *user) (*item, *graphError) {
	it, gerr := u.itemOf(q.param("mid"), kindMessage)
	if gerr != nil {
		return nil, gerr
	}
	if fid := q.param("fid"); fid != "" {
		if c := u.collection(fid, kindMessage); c != it.coll {
			return nil, errItemNotFound
		}
	}
	return it, nil
}

// mailboxMessage resolves {uid}'s mailbox and then {mid}.
func (q *request) mailboxMessage() (*user, *item, *graphError) {
	return within(q.mailboxUser, q.message)
}

// mailboxItem resolves {uid}'s mailbox and then its item named by the
// path parameter param, which must be of kind.
func (q *request) mailboxItem(param string, kind itemKind) (*user, *item, *graphError) {
	return within(q.mailboxUser, func(u *user) (*item, *graphError) { return u.itemOf(q.param(param), kind) })
}

// itemOf returns u's item id, which must be of kind.
func (u *user) itemOf(id string, kind itemKind) (*item, *graphError) {
	it := u.items[id]
	if it == nil || it.kind != kind {
		return nil, errItemNotFound
	}
	return it, nil
}

// mailboxCollection resolves {uid}'s mailbox and then, with coll, one
// of its folders.
// collectionIn is mailboxCollection as a resolver, for readPair and
// writePair.
func (q *request) collectionIn(coll func(*user) (*collection, *graphError)) func() (*user, *collection, *graphError) {
	return func() (*user, *collection, *graphError) { return q.mailboxCollection(coll) }
}

func (q *request) mailboxCollection(coll func(*user) (*collection, *graphError)) (*user, *collection, *graphError) {
	return within(q.mailboxUser, coll)
}

func handleListFolders(q *request) *graphError {
	return readPair(q, q.collectionIn(q.parentFolder), func(u *user, parent *collection) (any, *graphError) {
		sel := selectFields(q.r)
		var all []map[string]any
		for _, id := range parent.children {
			all = append(all, project(folderJSON(u, u.colls[id]), sel))
		}
		return q.listPage("users('"+u.id+"')/mailFolders", all, 10, 999)
	})
}

func handleGetFolder(q *request) *graphError {
	return readPair(q, q.collectionIn(q.folder), func(u *user, c *collection) (any, *graphError) {
		return project(folderJSON(u, c), selectFields(q.r)), nil
	})
}

// decodeJSON reads the request body into v, answering Graph's error for
// malformed JSON.
func (q *request) decodeJSON(v any) *graphError {
	b, err := io.ReadAll(q.r.Body)
	if err != nil {
		return errf(http.StatusBadRequest, "BadRequest", "Unable to read the request body.")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errBadJSON
	}
	return nil
}

// readFolderName reads a new folder's body, {"displayName": ...}, whose
// name must not be blank.
func (q *request) readFolderName() (string, *graphError) {
	var in struct {
		DisplayName string `json:"displayName"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return "", gerr
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		return "", errf(http.StatusBadRequest, "ErrorInvalidRequest", "The folder displayName must not be empty.")
	}
	return in.DisplayName, nil
}

func handleCreateFolder(q *request) *graphError {
	name, gerr := q.readFolderName()
	if gerr != nil {
		return gerr
	}
	return writePair(q, q.collectionIn(q.parentFolder), func(u *user, parent *collection) (any, *graphError) {
		for _, id := range parent.children {
			if strings.EqualFold(u.colls[id].name, name) {
				return nil, errf(http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
			}
		}
		c := &collection{id: itemID("AAMkF", q.sim.cfg.Seed, u.id, "new", q.sim.nextSeq()), parentID: parent.id, name: name, kind: kindMessage}
		q.sim.addCollection(u, c)
		return folderJSON(u, c), nil
	})
}

// handleRenameFolder updates a mail folder's displayName and answers 200
// with the folder, as Graph does; distinguished folders keep their name
// and a sibling of that name already there is a conflict.
func handleRenameFolder(q *request) *graphError {
	name, gerr := q.readFolderName()
	if gerr != nil {
		return gerr
	}
	return q.update(func() (any, *graphError) { return q.renameFolder(name) })
}

// renameFolder renames the folder of the path; the caller holds the
// write lock.
func (q *request) renameFolder(name string) (map[string]any, *graphError) {
	u, c, gerr := q.mailboxCollection(q.folder)
	if gerr != nil {
		return nil, gerr
	}
	if c.wellKnown != "" || c == u.mailRoot {
		return nil, errf(http.StatusForbidden, "ErrorCannotRenameDistinguishedFolder", "Distinguished folders cannot be renamed.")
	}
	if p := u.colls[c.parentID]; p != nil {
		for _, id := range p.children {
			if id != c.id && strings.EqualFold(u.colls[id].name, name) {
				return nil, errf(http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
			}
		}
	}
	c.name = name
	q.sim.logTouch(u.folderLog, c.id)
	return folderJSON(u, c), nil
}

func handleDeleteFolder(q *request) *graphError {
	return writePair(q, q.collectionIn(q.folder), func(_ *user, c *collection) (any, *graphError) {
		if c.wellKnown != "" {
			return nil, errf(http.StatusForbidden, "ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted.")
		}
		q.sim.deleteCollection(c)
		return nil, nil
	})
}

func handleListMessages(q *request) *graphError {
	return readOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		var colls []*collection
		if q.param("fid") != "" {
			c, gerr := q.folder(u)
			if gerr != nil {
				return nil, gerr
			}
			colls = append(colls, c)
		} else {
			colls = u.mailCollections()
		}
		sel := selectFields(q.r)
		var all []map[string]any
		for _, c := range colls {
			for _, m := range c.order {
				all = append(all, project(messageJSON(u.items[m.id]), sel))
			}
		}
		return q.listPage("users('"+u.id+"')/messages", all, 10, 1000)
	})
}

// mailCollections lists the mail folders depth-first from the root.
func (u *user) mailCollections() []*collection {
	var out []*collection
	var walk func(c *collection)
	walk = func(c *collection) {
		out = append(out, c)
		for _, id := range c.children {
			walk(u.colls[id])
		}
	}
	walk(u.mailRoot)
	return out
}

func handleGetMessage(q *request) *graphError {
	return readPair(q, q.mailboxMessage, func(_ *user, it *item) (any, *graphError) {
		body := project(messageJSON(it), selectFields(q.r))
		if strings.Contains(q.r.URL.Query().Get("$expand"), "attachments") {
			var atts []any
			for _, a := range it.msg.attachments {
				atts = append(atts, attachmentJSON(it, a, true))
			}
			body["attachments"] = atts
		}
		return body, nil
	})
}

func handleMessageMIME(q *request) *graphError {
	q.sim.mu.RLock()
	_, it, gerr := q.mailboxMessage()
	var msg *message
	if gerr == nil {
		msg = it.msg
	}
	q.sim.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	// A message's parts never change after creation, so rendering outside
	// the lock is safe.
	writeRaw(q.w, http.StatusOK, "text/plain", msg.mimeBytes())
	return nil
}

func handleListAttachments(q *request) *graphError {
	return readPair(q, q.mailboxMessage, func(u *user, it *item) (any, *graphError) {
		sel := selectFields(q.r)
		all := []map[string]any{}
		for _, a := range it.msg.attachments {
			all = append(all, project(attachmentJSON(it, a, sel == nil || sel["contentbytes"]), sel))
		}
		return q.listPage("users('"+u.id+"')/messages('"+it.id+"')/attachments", all, 100, 1000)
	})
}

func (q *request) attachment() (*item, *attachment, *graphError) {
	_, it, gerr := q.mailboxMessage()
	if gerr != nil {
		return nil, nil, gerr
	}
	for _, a := range it.msg.attachments {
		if a.id == q.param("aid") {
			return it, a, nil
		}
	}
	return nil, nil, errItemNotFound
}

func handleGetAttachment(q *request) *graphError {
	return readPair(q, q.attachment, func(it *item, a *attachment) (any, *graphError) {
		return attachmentJSON(it, a, true), nil
	})
}

func handleAttachmentValue(q *request) *graphError {
	q.sim.mu.RLock()
	_, a, gerr := q.attachment()
	q.sim.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	writeRaw(q.w, http.StatusOK, a.contentType, a.content())
	return nil
}

// handleFoldersDelta serves mailFolders/delta: every folder below the
// root, flat, with removed folders as @removed entries.
func handleFoldersDelta(q *request) *graphError {
	return readOf(q, q.mailboxUser, func(u *user) (any, *graphError) {
		return q.serveDelta(u.folderLog, "#microsoft.graph.mailFolder", func(id string) map[string]any {
			if c := u.colls[id]; c != nil {
				return folderJSON(u, c)
			}
			return nil
		})
	})
}

func handleMessagesDelta(q *request) *graphError {
	return q.collectionDelta(q.folder, "#microsoft.graph.message", messageJSON)
}

func handleDeleteMessage(q *request) *graphError {
	return writePair(q, q.mailboxMessage, func(_ *user, it *item) (any, *graphError) {
		q.sim.removeItem(it)
		return nil, nil
	})
}

func handleMoveMessage(q *request) *graphError {
	var in struct {
		DestinationID string `json:"destinationId"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	return writePair(q, q.mailboxMessage, func(u *user, it *item) (any, *graphError) {
		to := u.collection(in.DestinationID, kindMessage)
		if to == nil {
			return nil, errf(http.StatusBadRequest, "ErrorInvalidIdMalformed", "The destination folder id is malformed or does not exist.")
		}
		q.sim.moveItem(it, to)
		return messageJSON(it), nil
	})
}

// handleCreateMessage stores a message. A text/plain body is base64 MIME,
// kept byte for byte (the restore path); a JSON body is a message
// resource, from which MIME is rendered. Without a folder in the path the
// message lands in Drafts, as in Graph.
func handleCreateMessage(q *request) *graphError {
	raw, err := io.ReadAll(q.r.Body)
	if err != nil {
		return errf(http.StatusRequestEntityTooLarge, "ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.")
	}
	var msg *message
	if strings.HasPrefix(strings.ToLower(q.r.Header.Get("Content-Type")), "text/plain") {
		mimeBytes, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil {
			return errf(http.StatusBadRequest, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
		}
		if msg, err = parseMIME(mimeBytes); err != nil {
			return errf(http.StatusBadRequest, "ErrorMimeContentInvalid", "The MIME content is invalid: "+err.Error())
		}
	} else {
		var in struct {
			Subject string `json:"subject"`
			Body    struct {
				Content string `json:"content"`
			} `json:"body"`
		}
		if json.Unmarshal(raw, &in) != nil {
			return errBadJSON
		}
		msg = &message{subject: in.Subject, body: in.Body.Content, importance: "normal", isDraft: true}
	}
	return writePair(q, q.collectionIn(q.folderOrDrafts), func(u *user, c *collection) (any, *graphError) {
		seq := q.sim.nextSeq()
		it := &item{id: itemID("AAMkAGI", q.sim.cfg.Seed, u.id, "new", seq), kind: kindMessage, msg: msg}
		it.created, it.modified = q.sim.logicalNow(seq), q.sim.logicalNow(seq)
		if msg.raw == nil {
			msg.from = mailAddress(u)
			msg.date = it.created
			msg.messageID = "<" + shortHash(it.id, 1) + "@" + tenantDomain + ">"
		}
		if msg.date.IsZero() {
			msg.date = it.created
		}
		for i, a := range msg.attachments {
			a.id = itemID("AAMkAtt", it.id, i)
		}
		q.sim.addItem(c, it)
		return messageJSON(it), nil
	})
}

// newRand gives mutations a generator derived from the seed and the
// change sequence, so the same operations give the same content.
func (s *Sim) newRand(seq uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(s.cfg.Seed), seq^0x9e3779b97f4a7c15))
}

func mailAddress(u *user) mail.Address { return mail.Address{Name: u.displayName, Address: u.mail} }

// logicalNow is the timestamp of the change with sequence number seq: a
// clock that advances one second per change after the generated content,
// so that mutations are as deterministic as generation.
func (s *Sim) logicalNow(seq uint64) time.Time {
	return genEpoch.Add(400*24*time.Hour + time.Duration(seq)*time.Second)
}
