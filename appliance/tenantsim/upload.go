package tenantsim

import (
	"fmt"
	"io"
	"net/http"
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
)

// uploadSession is an upload in progress. Its URL, under /_upload/, is
// pre-authenticated like Graph's: it carries no bearer token.
type uploadSession struct {
	mu   sync.Mutex
	id   string
	size int
	buf  []byte
	// Drive upload.
	drive    *drive
	parentID string
	name     string
	by       *identity
	// Attachment upload.
	user        *user
	messageID   string
	contentType string
}

func (s *Sim) newUpload(us *uploadSession) map[string]any {
	s.uploadsMu.Lock()
	us.id = shortHash(s.tenantID, int(s.uploadSeq.Add(1))) + fmt.Sprint(s.uploadSeq.Load())
	if s.uploads == nil {
		s.uploads = map[string]*uploadSession{}
	}
	s.uploads[us.id] = us
	s.uploadsMu.Unlock()
	return map[string]any{
		"uploadUrl":          s.authority + "_upload/" + us.id,
		"expirationDateTime": ts(s.cfg.Now().Add(24 * time.Hour)),
		"nextExpectedRanges": []any{"0-"},
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

// handleCreateUploadSession: POST /drives/{id}/items/{parent}:/{name}:/createUploadSession.
func handleCreateUploadSession(q *request) *graphError {
	pid, name, gerr := q.uploadPath()
	if gerr != nil {
		return gerr
	}
	d, parent, gerr := q.uploadParent(pid)
	if gerr != nil {
		return gerr
	}
	writeJSON(q.w, http.StatusOK, q.sim.newUpload(&uploadSession{drive: d, parentID: parent.id, name: name, size: -1, by: q.appIdentity()}))
	return nil
}

// handleCreateAttachmentUpload: POST .../messages/{id}/attachments/createUploadSession
// with {"AttachmentItem":{"attachmentType":"file","name":...,"size":...}}.
func handleCreateAttachmentUpload(q *request) *graphError {
	var in struct {
		AttachmentItem struct {
			AttachmentType string `json:"attachmentType"`
			Name           string `json:"name"`
			Size           int    `json:"size"`
			ContentType    string `json:"contentType"`
		} `json:"AttachmentItem"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	a := in.AttachmentItem
	if a.Name == "" || a.Size <= 0 || a.Size > 150<<20 {
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
	writeJSON(q.w, http.StatusOK, q.sim.newUpload(&uploadSession{user: u, messageID: it.id, name: a.Name, size: a.Size, contentType: ct}))
	return nil
}

// serveUpload receives one chunk: PUT /_upload/{id} with Content-Range
// "bytes first-last/total". Chunks must arrive in order; a drive chunk
// that is not the last must be a multiple of 320 KiB.
func (s *Sim) serveUpload(w http.ResponseWriter, r *http.Request, id string) {
	s.uploadsMu.Lock()
	us := s.uploads[id]
	s.uploadsMu.Unlock()
	if us == nil {
		writeError(w, r, errf(http.StatusNotFound, "itemNotFound", "The upload session was not found or has expired."))
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
		writeError(w, r, errf(http.StatusMethodNotAllowed, "invalidRequest", "Upload sessions accept PUT and DELETE."))
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
	case first != len(us.buf):
		badRange(fmt.Sprintf("Expected the range starting at %d.", len(us.buf)))
		return
	case us.drive != nil && (n > driveChunkMax || (last+1 < total && n%driveChunkMultiple != 0)):
		badRange("Chunks must be a multiple of 320 KiB (327,680 bytes) and at most 60 MiB, except the last.")
		return
	case us.user != nil && n > attachmentChunkMax:
		badRange("Attachment chunks must be at most 4 MiB.")
		return
	}
	us.size = total
	us.buf = append(us.buf, chunk...)
	if len(us.buf) < total {
		writeJSON(w, http.StatusAccepted, map[string]any{
			"expirationDateTime": ts(s.cfg.Now().Add(24 * time.Hour)),
			"nextExpectedRanges": []any{strconv.Itoa(len(us.buf)) + "-"},
		})
		return
	}
	s.uploadsMu.Lock()
	delete(s.uploads, id)
	s.uploadsMu.Unlock()
	if us.drive != nil {
		status, body, gerr := s.commitFile(us.drive, us.parentID, us.name, us.buf, "application/octet-stream", us.by)
		if gerr != nil {
			writeError(w, r, gerr)
			return
		}
		writeJSON(w, status, body)
		return
	}
	if gerr := s.commitAttachment(us); gerr != nil {
		writeError(w, r, gerr)
		return
	}
	w.Header().Set("Location", s.baseURL+"/users/"+us.user.id+"/messages/"+us.messageID+"/attachments")
	w.WriteHeader(http.StatusCreated)
}

// commitFile stores data as name under parent: a new file, or a new
// version when a file of that name exists.
func (s *Sim) commitFile(d *drive, parentID, name string, data []byte, ct string, by *identity) (int, map[string]any, *graphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := d.items[parentID]
	if d.deleted || parent == nil {
		return 0, nil, errDriveItemNotFound
	}
	seq := s.nextSeq()
	v := &fileVersion{size: len(data), data: data, ct: ct, modified: s.logicalNow(seq), by: by}
	for _, c := range parent.children {
		if ci := d.items[c]; strings.EqualFold(ci.name, name) && !ci.folder {
			v.id = fmt.Sprintf("%d.0", len(ci.versions)+1)
			ci.versions = append(ci.versions, v)
			s.logTouch(d.log, ci.id)
			return http.StatusOK, s.driveItemJSON(d, ci), nil
		}
	}
	v.id = "1.0"
	it := &driveItem{id: itemID("01NEW", d.id, seq), name: name, created: v.modified, versions: []*fileVersion{v}, createdBy: by}
	s.addDriveItem(d, parent, it)
	return http.StatusCreated, s.driveItemJSON(d, it), nil
}

// commitAttachment adds an uploaded attachment to its message. A message
// created from MIME is re-rendered from its parts from then on, as
// Exchange re-renders a message whose attachments change.
func (s *Sim) commitAttachment(us *uploadSession) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := us.user.items[us.messageID]
	if it == nil || it.kind != kindMessage {
		return errItemNotFound
	}
	m := it.msg
	a := &attachment{id: itemID("AAMkAtt", it.id, len(m.attachments), "upload"), name: us.name, contentType: us.contentType, size: len(us.buf), data: us.buf}
	m.attachments = append(m.attachments, a)
	if m.raw != nil {
		m.raw = nil
		if m.messageID == "" {
			m.messageID = "<" + shortHash(it.id, 1) + "@" + tenantDomain + ">"
		}
	}
	it.version++
	s.logTouch(it.coll, it.id)
	return nil
}
