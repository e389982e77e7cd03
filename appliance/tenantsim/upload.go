package tenantsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Upload session limits, as Graph documents them.
const (
	// driveChunkMultiple: every OneDrive chunk but the last must be a
	// multiple of 320 KiB.
	driveChunkMultiple = 320 << 10
	driveChunkMax      = 60 << 20
	// attachmentChunkMax: Outlook attachment chunks are at most 4 MiB.
	attachmentChunkMax = 4 << 20
	// attachmentMax: an upload session takes attachments of up to 150 MB.
	attachmentMax = 150 << 20
)

// uploadSession is an upload in progress. Its URL, under /_upload/, is
// pre-authenticated like Graph's: it carries no bearer token.
type uploadSession struct {
	mu   sync.Mutex
	id   string
	size int
	buf  []byte
	// received counts the bytes taken; a drive upload over
	// keptUploadMax goes into hash instead of buf.
	received int
	hash     *streamHash
	expires  time.Time
	// Drive upload.
	drive    *drive
	parentID string
	name     string
	by       *identity
	conflict string // conflictBehavior: fail, replace or rename
	// Attachment upload.
	user        *user
	messageID   string
	contentType string
	inline      bool
	contentID   string
}

func (s *Sim) newUpload(us *uploadSession) map[string]any {
	s.uploadsMu.Lock()
	us.id = shortHash(s.tenantID, int(s.uploadSeq.Add(1))) + fmt.Sprint(s.uploadSeq.Load())
	if s.uploads == nil {
		s.uploads = map[string]*uploadSession{}
	}
	us.expires = s.cfg.Now().Add(uploadLifetime)
	s.uploads[us.id] = us
	s.uploadsMu.Unlock()
	return map[string]any{
		"uploadUrl":          s.authority + "_upload/" + us.id,
		"expirationDateTime": ts(us.expires),
		"nextExpectedRanges": []any{"0-"},
	}
}

// uploadLifetime is how long an upload session accepts chunks.
const uploadLifetime = 24 * time.Hour

// status is an upload session's state as Graph reports it between
// chunks and on GET of its URL. The caller holds us.mu.
func (us *uploadSession) status() map[string]any {
	return map[string]any{
		"expirationDateTime": ts(us.expires),
		"nextExpectedRanges": []any{strconv.Itoa(us.received) + "-"},
	}
}

// conflictBehaviors are the values of @microsoft.graph.conflictBehavior.
var conflictBehaviors = []string{"fail", "replace", "rename"}

// conflictBehavior reads @microsoft.graph.conflictBehavior (or the older
// @name.conflictBehavior) from a simple upload's query, def when absent.
func (q *request) conflictBehavior(def string) (string, *graphError) {
	v := q.r.URL.Query()
	b := firstNonEmpty(v.Get("@microsoft.graph.conflictBehavior"), v.Get("@name.conflictBehavior"))
	return checkConflictBehavior(b, def)
}

func checkConflictBehavior(b, def string) (string, *graphError) {
	if b == "" {
		return def, nil
	}
	b = strings.ToLower(b)
	if !slices.Contains(conflictBehaviors, b) {
		return "", errf(http.StatusBadRequest, "invalidRequest", "@microsoft.graph.conflictBehavior must be fail, replace or rename.")
	}
	return b, nil
}

var errNameExists = errf(http.StatusConflict, "nameAlreadyExists", "An item with the same name already exists under the parent.")

// childNamed returns parent's child called name, case-insensitively, or
// nil.
func (d *drive) childNamed(parent *driveItem, name string) *driveItem {
	for _, c := range parent.children {
		if ci := d.items[c]; ci != nil && strings.EqualFold(ci.name, name) {
			return ci
		}
	}
	return nil
}

// freeName is name, or the first of "stem 1.ext", "stem 2.ext", ... that
// no child of parent has, as OneDrive renames on conflict.
func (d *drive) freeName(parent *driveItem, name string) string {
	if d.childNamed(parent, name) == nil {
		return name
	}
	stem, ext := name, ""
	if i := strings.LastIndex(name, "."); i > 0 {
		stem, ext = name[:i], name[i:]
	}
	for n := 1; ; n++ {
		if c := fmt.Sprintf("%s %d%s", stem, n, ext); d.childNamed(parent, c) == nil {
			return c
		}
	}
}

// uploadPath reads the {pid}: and {name}: segments of an upload path,
// each of which must end in a colon.
func (q *request) uploadPath() (pid, name string, gerr *graphError) {
	pid, ok1 := strings.CutSuffix(q.param("pid"), ":")
	name, ok2 := strings.CutSuffix(q.param("name"), ":")
	if !ok1 || !ok2 || name == "" {
		return "", "", errNoRoute
	}
	return pid, name, nil
}

// uploadParent resolves, under the read lock, the drive and the folder
// pid that an upload lands in.
func (q *request) uploadParent(pid string) (*drive, *driveItem, *graphError) {
	q.params["iid"] = pid
	q.sim.mu.RLock()
	d, parent, gerr := q.driveAndItem()
	q.sim.mu.RUnlock()
	if gerr != nil {
		return nil, nil, gerr
	}
	if !parent.folder {
		return nil, nil, errf(http.StatusBadRequest, "invalidRequest", "The parent is not a folder.")
	}
	return d, parent, nil
}

// handleCreateUploadSession: POST /drives/{id}/items/{parent}:/{name}:/createUploadSession
// with an optional body {"item":{"@microsoft.graph.conflictBehavior":...}},
// fail by default as Graph documents it: then an existing name answers
// 409 at once. The behaviour is applied again when the last chunk lands.
func handleCreateUploadSession(q *request) *graphError {
	pid, name, gerr := q.uploadPath()
	if gerr != nil {
		return gerr
	}
	var in struct {
		Item struct {
			Conflict string `json:"@microsoft.graph.conflictBehavior"`
		} `json:"item"`
	}
	if b, err := io.ReadAll(q.r.Body); err != nil {
		return errf(http.StatusBadRequest, "BadRequest", "Unable to read the request body.")
	} else if len(bytes.TrimSpace(b)) > 0 && json.Unmarshal(b, &in) != nil {
		return errBadJSON
	}
	conflict, gerr := checkConflictBehavior(in.Item.Conflict, "fail")
	if gerr != nil {
		return gerr
	}
	d, parent, gerr := q.uploadParent(pid)
	if gerr != nil {
		return gerr
	}
	q.sim.mu.RLock()
	exists := d.childNamed(parent, name) != nil
	q.sim.mu.RUnlock()
	if exists && conflict == "fail" {
		return errNameExists
	}
	writeJSON(q.w, http.StatusOK, q.sim.newUpload(&uploadSession{drive: d, parentID: parent.id, name: name, size: -1, by: q.appIdentity(), conflict: conflict}))
	return nil
}

// handleCreateAttachmentUpload: POST .../messages/{id}/attachments/createUploadSession
// with {"AttachmentItem":{"attachmentType":"file","name":...,"size":...,
// "contentType":...,"isInline":...,"contentId":...}}.
func handleCreateAttachmentUpload(q *request) *graphError {
	var in struct {
		AttachmentItem struct {
			AttachmentType string `json:"attachmentType"`
			Name           string `json:"name"`
			Size           int    `json:"size"`
			ContentType    string `json:"contentType"`
			IsInline       bool   `json:"isInline"`
			ContentID      string `json:"contentId"`
		} `json:"AttachmentItem"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	a := in.AttachmentItem
	if a.AttachmentType != "" && !strings.EqualFold(a.AttachmentType, "file") {
		return errf(http.StatusBadRequest, "ErrorInvalidRequest", "Only file attachments can be uploaded in a session.")
	}
	if a.Name == "" || a.Size <= 0 || a.Size > attachmentMax {
		return errf(http.StatusBadRequest, "ErrorInvalidRequest", "AttachmentItem needs a name and a size between 1 byte and 150 MB.")
	}
	q.sim.mu.RLock()
	u, it, gerr := q.mailboxMessage()
	q.sim.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	writeJSON(q.w, http.StatusOK, q.sim.newUpload(&uploadSession{user: u, messageID: it.id, name: a.Name, size: a.Size, contentType: ct,
		inline: a.IsInline, contentID: a.ContentID}))
	return nil
}

// serveUpload receives one chunk: PUT /_upload/{id} with Content-Range
// "bytes first-last/total". Chunks must arrive in order; a drive chunk
// that is not the last must be a multiple of 320 KiB.
func (s *Sim) serveUpload(w http.ResponseWriter, r *http.Request, id string) {
	s.uploadsMu.Lock()
	us := s.uploads[id]
	s.uploadsMu.Unlock()
	if us != nil && !s.cfg.Now().Before(us.expires) {
		s.uploadsMu.Lock()
		delete(s.uploads, id)
		s.uploadsMu.Unlock()
		us = nil
	}
	if us == nil {
		writeError(w, r, errf(http.StatusNotFound, "itemNotFound", "The upload session was not found or has expired."))
		return
	}
	if r.Method == http.MethodGet {
		us.mu.Lock()
		st := us.status()
		us.mu.Unlock()
		writeJSON(w, http.StatusOK, st)
		return
	}
	if r.Method == http.MethodDelete {
		s.uploadsMu.Lock()
		delete(s.uploads, id)
		s.uploadsMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPut {
		writeError(w, r, errf(http.StatusMethodNotAllowed, "invalidRequest", "Upload sessions accept GET, PUT and DELETE."))
		return
	}
	badRange := func(msg string) {
		writeError(w, r, errf(http.StatusRequestedRangeNotSatisfiable, "invalidRange", msg))
	}
	var first, last, total int
	if _, err := fmt.Sscanf(r.Header.Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &total); err != nil || last < first || total <= last {
		badRange("Content-Range must be 'bytes first-last/total'.")
		return
	}
	n := last - first + 1
	chunk, err := io.ReadAll(io.LimitReader(r.Body, int64(n)+1))
	if err != nil || len(chunk) != n {
		badRange("The body length does not match Content-Range.")
		return
	}
	us.mu.Lock()
	defer us.mu.Unlock()
	switch {
	case us.size >= 0 && total != us.size:
		badRange(fmt.Sprintf("The total size %d differs from the session's %d.", total, us.size))
		return
	case first != us.received:
		badRange(fmt.Sprintf("Expected the range starting at %d.", us.received))
		return
	case us.drive != nil && (n > driveChunkMax || (last+1 < total && n%driveChunkMultiple != 0)):
		badRange("Chunks must be a multiple of 320 KiB (327,680 bytes) and at most 60 MiB, except the last.")
		return
	case us.user != nil && n > attachmentChunkMax:
		badRange("Attachment chunks must be at most 4 MiB.")
		return
	}
	us.size = total
	us.received += n
	if us.drive != nil && total > keptUploadMax {
		if us.hash == nil {
			us.hash = newStreamHash()
		}
		us.hash.Write(chunk)
	} else {
		us.buf = append(us.buf, chunk...)
	}
	if us.received < total {
		writeJSON(w, http.StatusAccepted, us.status())
		return
	}
	s.finishUpload(w, r, id, us)
}

// finishUpload commits a session whose last chunk landed: a drive file
// (the session outlives a failed commit) or a message attachment. The
// caller holds us.mu.
func (s *Sim) finishUpload(w http.ResponseWriter, r *http.Request, id string, us *uploadSession) {
	if us.drive != nil {
		proto := &fileVersion{size: len(us.buf), data: us.buf}
		if us.hash != nil {
			s.mu.RLock()
			proto = s.largeVersion(us.hash)
			s.mu.RUnlock()
		}
		status, body, gerr := s.commitVersion(us.drive, us.parentID, us.name, proto, "application/octet-stream", us.by, us.conflict)
		if gerr != nil {
			// The session outlives a failed commit (a name taken in the
			// meantime), as Graph keeps it until it expires.
			writeError(w, r, gerr)
			return
		}
		s.uploadsMu.Lock()
		delete(s.uploads, id)
		s.uploadsMu.Unlock()
		writeJSON(w, status, body)
		return
	}
	s.uploadsMu.Lock()
	delete(s.uploads, id)
	s.uploadsMu.Unlock()
	aid, gerr := s.commitAttachment(us)
	if gerr != nil {
		writeError(w, r, gerr)
		return
	}
	w.Header().Set("Location", s.baseURL+"/users('"+us.user.id+"')/messages('"+us.messageID+"')/attachments('"+aid+"')")
	w.WriteHeader(http.StatusCreated)
}

// commitFile stores data as name under parent according to conflict:
// a new file when the name is free; when a file has it, a new version of
// that file (replace), a new file under a free name (rename) or 409
// (fail). A folder of that name is always a conflict unless renaming.
func (s *Sim) commitFile(d *drive, parentID, name string, data []byte, ct string, by *identity, conflict string) (int, map[string]any, *graphError) {
	return s.commitVersion(d, parentID, name, &fileVersion{size: len(data), data: data}, ct, by, conflict)
}

// commitVersion is commitFile of a version whose content (data, sparse
// or dropped, with its size) is set; the rest is filled in here.
func (s *Sim) commitVersion(d *drive, parentID, name string, v *fileVersion, ct string, by *identity, conflict string) (int, map[string]any, *graphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := d.items[parentID]
	if d.deleted || parent == nil {
		return 0, nil, errDriveItemNotFound
	}
	if ci := d.childNamed(parent, name); ci != nil {
		switch {
		case conflict == "rename":
			name = d.freeName(parent, name)
		case conflict == "fail" || ci.folder:
			return 0, nil, errNameExists
		default:
			seq := s.nextSeq()
			v.id, v.ct, v.modified, v.by, v.seq = fmt.Sprintf("%d.0", len(ci.versions)+1), ct, s.logicalNow(seq), by, seq
			ci.versions = append(ci.versions, v)
			s.logTouch(d.log, ci.id)
			return http.StatusOK, s.driveItemJSON(d, ci), nil
		}
	}
	seq := s.nextSeq()
	v.id, v.ct, v.modified, v.by, v.seq = "1.0", ct, s.logicalNow(seq), by, seq
	it := &driveItem{id: itemID("01NEW", d.id, seq), name: name, created: v.modified, versions: []*fileVersion{v}, createdBy: by}
	s.addDriveItem(d, parent, it)
	return http.StatusCreated, s.driveItemJSON(d, it), nil
}

// commitAttachment adds an uploaded attachment to its message. A message
// created from MIME carries it as a new last part of its MIME from then
// on (withAttachment); a generated one renders it with its other parts.
func (s *Sim) commitAttachment(us *uploadSession) (string, *graphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, gerr := us.user.itemOf(us.messageID, kindMessage)
	if gerr != nil {
		return "", gerr
	}
	m := it.msg
	a := &attachment{id: itemID("AAMkAtt", it.id, len(m.attachments), "upload"), name: us.name, contentType: us.contentType,
		size: len(us.buf), data: us.buf, inline: us.inline, contentID: strings.Trim(us.contentID, "<>")}
	if m.raw != nil {
		raw, err := withAttachment(m.raw, a)
		if err != nil {
			return "", errf(http.StatusBadRequest, "ErrorMimeContentInvalid", "The message's MIME cannot take the attachment: "+err.Error())
		}
		m.raw = raw
	}
	m.attachments = append(m.attachments, a)
	it.version++
	s.logTouch(it.coll, it.id)
	return a.id, nil
}
