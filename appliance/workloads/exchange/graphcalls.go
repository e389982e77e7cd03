package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/graph"
)

// caller sends requests through the SDK's request adapter (authentication,
// middleware, governor) and keeps the raw JSON bodies, so that contacts
// and events are stored exactly as Graph returned them.
type caller struct {
	g        *graph.Client
	requests atomic.Int64
}

var errorMapping = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// send runs ri and returns the response body (nil for 204).
func (c *caller) send(ctx context.Context, ri *abstractions.RequestInformation) ([]byte, error) {
	c.requests.Add(1)
	v, err := c.g.SDK.GetAdapter().SendPrimitive(ctx, ri, "[]byte", errorMapping)
	if err != nil {
		return nil, err
	}
	b, _ := v.([]byte)
	return b, nil
}

// linkRequest is a GET of a nextLink or deltaLink as Graph gave it.
func linkRequest(link string, pageSize int) (*abstractions.RequestInformation, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("parse link: %w", err)
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	preferPageSize(ri.Headers, pageSize)
	return ri, nil
}

// preferPageSize asks for n items per page, and on every request for
// immutable item IDs: a message keeps its ID when it is moved to another
// folder, which lets a backup recognise a moved message instead of
// downloading it again.
func preferPageSize(h *abstractions.RequestHeaders, n int) {
	if n > 0 {
		h.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(n))
	}
	preferImmutableIDs(h)
}

// preferImmutableIDs asks Graph for IDs of Outlook items that survive a
// move within the mailbox. Every request that names or returns item IDs
// must carry it, or the two kinds of ID would be mixed.
func preferImmutableIDs(h *abstractions.RequestHeaders) {
	h.Add("Prefer", `IdType="ImmutableId"`)
}

// page is one page of a collection or delta response.
type page struct {
	Value     []json.RawMessage `json:"value"`
	NextLink  string            `json:"@odata.nextLink"`
	DeltaLink string            `json:"@odata.deltaLink"`
}

// pages sends first and follows nextLinks, calling fn with each page's
// values. It returns the final deltaLink, if the last page had one.
func (c *caller) pages(ctx context.Context, first *abstractions.RequestInformation, pageSize int, fn func(json.RawMessage) error) (string, error) {
	ri := first
	for {
		body, err := c.send(ctx, ri)
		if err != nil {
			return "", err
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			return "", fmt.Errorf("decode page: %w", err)
		}
		for _, v := range p.Value {
			if err := fn(v); err != nil {
				return "", err
			}
		}
		if p.NextLink == "" {
			return p.DeltaLink, nil
		}
		if ri, err = linkRequest(p.NextLink, pageSize); err != nil {
			return "", err
		}
	}
}

// graphStatus returns the HTTP status and Graph error code of err, or 0.
func graphStatus(err error) (int, string) {
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		return 0, ""
	}
	code := ""
	if e := oe.GetErrorEscaped(); e != nil && e.GetCode() != nil {
		code = *e.GetCode()
	}
	return oe.ResponseStatusCode, code
}

// isNotFound reports a 404: the user, mailbox, folder or item is gone.
func isNotFound(err error) bool {
	st, _ := graphStatus(err)
	return st == 404
}

// isResync reports a delta token Graph no longer accepts: 410 Gone
// (resyncRequired) or a sync state it calls invalid.
func isResync(err error) bool {
	st, code := graphStatus(err)
	switch {
	case st == 410:
		return true
	case st == 400 && (code == "SyncStateNotFound" || code == "SyncStateInvalid" || code == "ErrorInvalidSyncStateData" || code == "resyncRequired"):
		return true
	}
	return false
}

// isUnsupported reports that Graph does not serve a query (delta on some
// collections): the caller falls back to a plain listing.
func isUnsupported(err error) bool {
	st, code := graphStatus(err)
	return st == 501 || st == 400 && (code == "ErrorInvalidRequest" || code == "BadRequest") || st == 404 && code == "UnknownError"
}

// describe is a short, secret-free reason for Result.Errors.
func describe(err error) string {
	if st, code := graphStatus(err); st != 0 {
		var oe *odataerrors.ODataError
		errors.As(err, &oe)
		msg := ""
		if e := oe.GetErrorEscaped(); e != nil && e.GetMessage() != nil {
			msg = ": " + *e.GetMessage()
		}
		return fmt.Sprintf("graph %d %s%s", st, code, msg)
	}
	return err.Error()
}
