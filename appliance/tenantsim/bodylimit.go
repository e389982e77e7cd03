package tenantsim

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// Request body limits, as Graph enforces them.
const (
	// requestBodyMax is the largest request body Graph accepts: 4 MB.
	// A message created from MIME travels base64-encoded, so about 3 MB
	// of MIME is the most one request carries; larger attachments go
	// through upload sessions, whose PUTs (under /_upload/) are exempt.
	requestBodyMax = 4 << 20
	// simpleUploadMax is the exception: a drive's simple upload (PUT
	// .../content) takes a file of up to 250 MB.
	simpleUploadMax = 250 << 20
)

// errRequestTooLarge is Graph's answer to a request body over its limit.
var errRequestTooLarge = errf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
	"The request body exceeds the maximum request length of 4 MB. Send large attachments through an upload session.")

// limitBody applies Graph's request body limit to r before any handler
// reads it: a declared length over the limit is refused at once, a body
// of unknown length is read up to the limit (it is small then) and
// refused when it goes past it. A drive's simple upload streams under its
// own larger limit.
func limitBody(w http.ResponseWriter, r *http.Request, class string) *graphError {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	limit := int64(requestBodyMax)
	if class == "files.upload" && r.Method == http.MethodPut {
		limit = simpleUploadMax
	}
	if r.ContentLength > limit {
		return errRequestTooLarge
	}
	if r.ContentLength >= 0 || limit > requestBodyMax {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return errf(http.StatusBadRequest, "BadRequest", "Unable to read the request body.")
	}
	if int64(len(b)) > limit {
		return errRequestTooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// isGzip reports a request body sent gzip-compressed.
func isGzip(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip")
}
