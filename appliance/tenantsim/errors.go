package tenantsim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// graphError is an error answered in Graph's shape:
// {"error":{"code":...,"message":...,"innerError":{...}}}.
type graphError struct {
	status  int
	code    string
	message string
	// retryAfter, when positive, is sent as Retry-After seconds.
	retryAfter int
	// location, when set, is sent as the Location header.
	location string
}

func (e *graphError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, message string) *graphError {
	return &graphError{status: status, code: code, message: message}
}

// Error codes the simulator answers with, as Graph spells them.
var (
	errNoRoute       = errf(http.StatusNotFound, "UnknownError", "Resource not found for the segment or the route is not implemented by the tenant simulator.")
	errUserNotFound  = errf(http.StatusNotFound, "Request_ResourceNotFound", "Resource does not exist or one of its queried reference-property objects are not present.")
	errMailboxAbsent = errf(http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
	errItemNotFound  = errf(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
	errBadJSON       = errf(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	errNoToken       = errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	errBadToken      = errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
	errExpiredToken  = errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
	errResync        = errf(http.StatusGone, "resyncRequired", "The delta token is invalid or has expired; resync required: start a new delta query without a token.")
)

func writeError(w http.ResponseWriter, r *http.Request, e *graphError) {
	h := w.Header()
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.location != "" {
		h.Set("Location", e.location)
	}
	// The request and client request ids are the ones stampHeaders set
	// on this response; a handler outside ServeHTTP has none, and then
	// the client's own id is all there is.
	rid, cid := h.Get("request-id"), h.Get("client-request-id")
	if cid == "" {
		cid = r.Header.Get("client-request-id")
	}
	body := map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]any{
			"date":              innerErrorDate(h),
			"request-id":        rid,
			"client-request-id": cid,
		},
	}}
	writeJSON(w, e.status, body)
}

// writeJSON answers v as JSON with Graph's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"InternalServerError","message":"encode response"}}`)
	}
	writeRaw(w, status, "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8", b)
}

// writeRaw answers b as it is, with its type and length.
func writeRaw(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
