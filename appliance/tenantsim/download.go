package tenantsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// File content is served as Graph serves it: GET .../content answers 302
// with a pre-authenticated URL on another host, and items carry the same
// kind of URL as @microsoft.graph.downloadUrl. That host is a second
// listener whose URLs name DownloadHost; it takes no bearer token and
// refuses any request that carries an Authorization header, so a client
// that leaks its Graph token to it fails loudly.

// downloadLifetime is how long a download URL works; Graph documents one
// hour.
const downloadLifetime = time.Hour

// downloadPath is the path of every download URL, SharePoint's.
const downloadPath = "/_layouts/15/download.aspx"

// downloadClaims is what a download URL's tempauth token signs: one
// version of one file, until Expires (Unix seconds).
type downloadClaims struct {
	Drive   string `json:"d"`
	Item    string `json:"i"`
	Version string `json:"v"`
	Expires int64  `json:"x"`
}

func (s *Sim) downloadMAC(payload string) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte("download:" + payload))
	return m.Sum(nil)[:16]
}

// downloadURL is a pre-authenticated URL for version v of item it, or ""
// before Start.
func (s *Sim) downloadURL(d *drive, it *driveItem, v *fileVersion) string {
	if s.downloadRoot == "" {
		return ""
	}
	b, _ := json.Marshal(downloadClaims{Drive: d.id, Item: it.id, Version: v.id, Expires: s.cfg.Now().Add(downloadLifetime).Unix()})
	p := base64.RawURLEncoding.EncodeToString(b)
	tok := p + "." + base64.RawURLEncoding.EncodeToString(s.downloadMAC(p))
	return s.downloadRoot + strings.TrimPrefix(downloadPath, "/") + "?" + url.Values{"UniqueId": {it.id}, "tempauth": {tok}, "ApiVersion": {"2.0"}}.Encode()
}

func (s *Sim) decodeDownloadToken(tok string) (downloadClaims, bool) {
	var c downloadClaims
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return c, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.downloadMAC(p)) {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

var (
	errDownloadAuthHeader = errf(http.StatusUnauthorized, "unauthenticated", "A pre-authenticated download URL takes no Authorization header; the request was refused.")
	errDownloadToken      = errf(http.StatusUnauthorized, "unauthenticated", "The download URL's token is missing or invalid.")
	errDownloadExpired    = errf(http.StatusUnauthorized, "unauthenticated", "The download URL has expired; request the item again for a fresh one.")
)

// serveDownload answers the download host: GET or HEAD of a download URL
// serves the version's bytes (with Range support), subject to the
// tenant's resource units and the injected faults, Graph's included, and
// to CorruptContent.
func (s *Sim) serveDownload(w http.ResponseWriter, r *http.Request) {
	s.stampHeaders(w, r)
	cw := &countingWriter{ResponseWriter: w}
	const class = "files.download"
	start := time.Now()
	defer func() {
		s.answered(r, class, cw, false, start)
	}()
	switch {
	case r.URL.Path != downloadPath:
		writeError(cw, r, errNoRoute)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		writeError(cw, r, errf(http.StatusMethodNotAllowed, "invalidRequest", "Download URLs accept GET and HEAD."))
		return
	case r.Header.Get("Authorization") != "":
		writeError(cw, r, errDownloadAuthHeader)
		return
	}
	c, ok := s.decodeDownloadToken(r.URL.Query().Get("tempauth"))
	if !ok {
		writeError(cw, r, errDownloadToken)
		return
	}
	if s.cfg.Now().Unix() >= c.Expires {
		writeError(cw, r, errDownloadExpired)
		return
	}
	if gerr := s.tenantBudget(r, class); gerr != nil {
		writeError(cw, r, gerr)
		return
	}
	if !s.faultsApply(cw, r) {
		return
	}
	s.mu.RLock()
	var v *fileVersion
	if d := s.drives[c.Drive]; d != nil && !d.deleted && (d.owner == nil || !d.owner.deleted) {
		if it := d.items[c.Item]; it != nil && !it.folder {
			if i := slices.IndexFunc(it.versions, func(x *fileVersion) bool { return x.id == c.Version }); i >= 0 {
				v = it.versions[i]
			}
		}
	}
	s.mu.RUnlock()
	if v == nil {
		writeError(cw, r, errDriveItemNotFound)
		return
	}
	body := v.reader()
	if body == nil {
		writeError(cw, r, errNotKept)
		return
	}
	// Fault injection corrupts what is held in memory; sparse content
	// is served as made.
	if v.sparse == nil && s.faults.corrupt(c.Item) {
		s.counters.faulted.Add(1)
		body = bytes.NewReader(corrupted(v.content()))
	}
	h := cw.Header()
	h.Set("Content-Type", v.ct)
	h.Set("ETag", fmt.Sprintf(`"{%s},%s"`, c.Item, v.id))
	http.ServeContent(cw, r, "", v.modified, body)
}

// corrupted returns a copy of b with its middle byte flipped, the same
// length; an empty body becomes one byte.
func corrupted(b []byte) []byte {
	if len(b) == 0 {
		return []byte{0}
	}
	c := slices.Clone(b)
	c[len(c)/2] ^= 0xff
	return c
}

// handleDriveContent answers GET .../content and .../versions/{id}/content
// with 302 to the version's download URL.
func handleDriveContent(q *request) *graphError {
	q.sim.mu.RLock()
	d, it, gerr := q.driveAndItem()
	var v *fileVersion
	if gerr == nil {
		if it.folder {
			gerr = errf(http.StatusBadRequest, "invalidRequest", "A folder has no content.")
		} else if vid := q.param("vid"); vid != "" {
			i := slices.IndexFunc(it.versions, func(x *fileVersion) bool { return x.id == vid })
			if i < 0 {
				gerr = errDriveItemNotFound
			} else {
				v = it.versions[i]
			}
		} else {
			v = it.current()
		}
	}
	var loc string
	if gerr == nil {
		loc = q.sim.downloadURL(d, it, v)
	}
	q.sim.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	q.w.Header().Set("Location", loc)
	q.w.Header().Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusFound)
	return nil
}
