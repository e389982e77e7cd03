package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Caller sends requests through the SDK's request adapter (authentication,
// middleware, the governor) and hands back the raw JSON bodies, so that
// workloads can store what Graph returned exactly as it returned it. It
// counts the requests it sends. Safe for concurrent use.
type Caller struct {
	G *Client
	// PageSize is asked for with Prefer: odata.maxpagesize on every
	// request built from a link; 0 leaves it to Graph.
	PageSize int
	// Prefer lists further Prefer header values every request carries
	// (for Outlook: IdType="ImmutableId").
	Prefer []string

	requests atomic.Int64
}

// Requests counts the requests sent so far (the governor's retries
// excluded).
func (c *Caller) Requests() int64 { return c.requests.Load() }

var errorMapping = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// sendAttempts is how often a GET whose body arrived cut short is sent.
const sendAttempts = 4

// Send runs ri and returns the response body (nil for 204). The governor
// already asks again for a JSON page cut short in transit; Send sends a GET
// again when its body still ends early (an answer the governor streams on:
// not JSON, or over its size bound) or, when decode is given, arrives whole
// but does not decode.
func (c *Caller) Send(ctx context.Context, ri *abstractions.RequestInformation) ([]byte, error) {
	return c.send(ctx, ri, nil)
}

func (c *Caller) send(ctx context.Context, ri *abstractions.RequestInformation, decode func([]byte) error) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		c.requests.Add(1)
		v, err := c.G.SDK.GetAdapter().SendPrimitive(ctx, ri, "[]byte", errorMapping)
		b, _ := v.([]byte)
		if err == nil && decode != nil {
			err = decode(b)
		}
		if err == nil || ri.Method != abstractions.GET || attempt == sendAttempts || !cutShort(err) || ctx.Err() != nil {
			return b, err
		}
		if err := sleepCtx(ctx, time.Duration(attempt)*100*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// cutShort reports a body that ended early or does not parse as JSON.
func cutShort(err error) bool {
	var syn *json.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syn)
}

// Request builds a GET of a path under the Graph root ("/drives/x/root")
// with query parameters, carrying the caller's Prefer headers.
func (c *Caller) Request(path string, query url.Values) (*abstractions.RequestInformation, error) {
	u := strings.TrimSuffix(c.G.BaseURL(), "/") + "/" + strings.TrimPrefix(path, "/")
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return c.LinkRequest(u)
}

// LinkRequest is a GET of a nextLink or deltaLink as Graph gave it.
func (c *Caller) LinkRequest(link string) (*abstractions.RequestInformation, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("parse link: %w", err)
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	c.AddPrefer(ri.Headers)
	return ri, nil
}

// AddPrefer adds the caller's page size and Prefer values to h.
func (c *Caller) AddPrefer(h *abstractions.RequestHeaders) {
	if c.PageSize > 0 {
		h.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(c.PageSize))
	}
	for _, p := range c.Prefer {
		h.Add("Prefer", p)
	}
}

// Get GETs a path under the Graph root and returns the body.
func (c *Caller) Get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	ri, err := c.Request(path, query)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx, ri)
}

// page is one page of a collection or delta response.
type page struct {
	Value     []json.RawMessage `json:"value"`
	NextLink  string            `json:"@odata.nextLink"`
	DeltaLink string            `json:"@odata.deltaLink"`
}

// Pages sends first and follows nextLinks, calling fn with each value of
// each page. It returns the final deltaLink, if the last page had one.
func (c *Caller) Pages(ctx context.Context, first *abstractions.RequestInformation, fn func(json.RawMessage) error) (string, error) {
	ri := first
	for {
		var p page
		_, err := c.send(ctx, ri, func(body []byte) error {
			p = page{}
			return json.Unmarshal(body, &p)
		})
		if err != nil {
			return "", fmt.Errorf("read page: %w", err)
		}
		for _, v := range p.Value {
			if err := fn(v); err != nil {
				return "", err
			}
		}
		if p.NextLink == "" {
			return p.DeltaLink, nil
		}
		if ri, err = c.LinkRequest(p.NextLink); err != nil {
			return "", err
		}
	}
}

// ErrorOf returns the HTTP status and Graph error code of err, or 0.
func ErrorOf(err error) (int, string) {
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

// Describe is a short, secret-free reason for a failure, for reports.
func Describe(err error) string {
	if st, code := ErrorOf(err); st != 0 {
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

// Count counts a request the caller's user sent some other way (through
// the SDK's typed builders).
func (c *Caller) Count() { c.requests.Add(1) }

// ErrorHeader returns a response header of a Graph error (the Location of
// a 410 resync answer), or "".
func ErrorHeader(err error, name string) string {
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.GetResponseHeaders() == nil {
		return ""
	}
	if v := oe.GetResponseHeaders().Get(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Write sends a request with a body (PUT, POST, PATCH) to a path under the
// Graph root and returns the response body. It is sent once: the
// governor retries it only when Graph cannot have applied it.
func (c *Caller) Write(ctx context.Context, method abstractions.HttpMethod, path, contentType string, body []byte) ([]byte, error) {
	ri, err := c.Request(path, nil)
	if err != nil {
		return nil, err
	}
	ri.Method = method
	ri.SetStreamContentAndContentType(body, contentType)
	return c.Send(ctx, ri)
}

// WriteJSON is Write with v encoded as the JSON body.
func (c *Caller) WriteJSON(ctx context.Context, method abstractions.HttpMethod, path string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.Write(ctx, method, path, "application/json", b)
}

// Create sends a JSON POST that Graph may answer 202 Accepted with no
// body (POST /teams does) and returns the response's Content-Location,
// where the created resource is, with the body.
func (c *Caller) Create(ctx context.Context, path string, v any) (location string, body []byte, err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, err
	}
	ri, err := c.Request(path, nil)
	if err != nil {
		return "", nil, err
	}
	ri.Method = abstractions.POST
	ri.SetStreamContentAndContentType(b, "application/json")
	inspect := khttp.NewHeadersInspectionOptions()
	inspect.InspectResponseHeaders = true
	ri.AddRequestOptions([]abstractions.RequestOption{inspect})
	body, err = c.Send(ctx, ri)
	if err != nil {
		return "", body, err
	}
	if v := inspect.GetResponseHeaders().Get("Content-Location"); len(v) > 0 {
		location = v[0]
	}
	return location, body, nil
}

// All pages through the listing at path with query q and returns every
// element.
func (c *Caller) All(ctx context.Context, path string, q url.Values) ([]json.RawMessage, error) {
	ri, err := c.Request(path, q)
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	_, err = c.Pages(ctx, ri, func(raw json.RawMessage) error {
		out = append(out, raw)
		return nil
	})
	return out, err
}

// IDOf returns the id of the item a write answered with; missing is the
// error's text when the answer has none.
func IDOf(body []byte, missing string) (string, error) {
	var made struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &made); err != nil || made.ID == "" {
		return "", errors.New(missing)
	}
	return made.ID, nil
}

// Each pages through the listing ri asks for like Pages, decoding each
// element into a T for fn.
func Each[T any](ctx context.Context, c *Caller, ri *abstractions.RequestInformation, fn func(T) error) (string, error) {
	return c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return fn(v)
	})
}
