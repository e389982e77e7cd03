package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Body is a streamed response body: file content is never held in memory
// whole. The caller must close it.
type Body struct {
	io.ReadCloser
	// Size is the Content-Length, or -1 when the server did not say.
	Size int64
}

// ErrDownload is wrapped by Download and Fetch for an answer other than
// 200; StatusCode reads the status from such an error.
type ErrDownload struct {
	Status int
	URL    string // without its query, which may hold a secret
}

func (e *ErrDownload) Error() string {
	return fmt.Sprintf("download %s: HTTP %d", e.URL, e.Status)
}

// Download GETs a content path of Graph ("/drives/{id}/items/{id}/content")
// with the app's token. Graph answers such a request with a 302 to a
// pre-authenticated URL on another host; that URL is fetched with Fetch,
// without the token: the bearer token is only ever sent to Graph itself.
func (c *Client) Download(ctx context.Context, path string) (*Body, error) {
	return c.DownloadWith(ctx, path, nil)
}

// DownloadWith is Download with further request headers (a Prefer).
func (c *Client) DownloadWith(ctx context.Context, path string, header http.Header) (*Body, error) {
	u := strings.TrimSuffix(c.baseURL, "/") + "/" + strings.TrimPrefix(path, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}})
	if err != nil {
		return nil, fmt.Errorf("get an access token: %s", redact(err))
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	// The redirect is not followed by the client: it would carry the
	// Authorization header to the download host when the host names
	// match, and Fetch is the one place such URLs are opened.
	hc := &http.Client{Transport: c.Governor, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return &Body{ReadCloser: resp.Body, Size: resp.ContentLength}, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		loc := resp.Header.Get("Location")
		resp.Body.Close()
		if loc == "" {
			return nil, fmt.Errorf("download %s: HTTP %d without a Location", path, resp.StatusCode)
		}
		return c.Fetch(ctx, loc)
	default:
		resp.Body.Close()
		return nil, &ErrDownload{Status: resp.StatusCode, URL: path}
	}
}

// Fetch GETs a pre-authenticated download URL (an item's
// @microsoft.graph.downloadUrl, or where Download was redirected) without
// any credential, through the governor (retries, pauses).
func (c *Client) Fetch(ctx context.Context, rawURL string) (*Body, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && !strings.HasSuffix(u.Hostname(), ".localhost") {
		return nil, fmt.Errorf("download URL %q is not https", redactQuery(rawURL))
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, downloadKey{}, true), http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &ErrDownload{Status: resp.StatusCode, URL: redactQuery(rawURL)}
	}
	return &Body{ReadCloser: resp.Body, Size: resp.ContentLength}, nil
}

// DownloadStatus returns the HTTP status of a failed Download or Fetch,
// or 0.
func DownloadStatus(err error) int {
	var e *ErrDownload
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func redactQuery(raw string) string {
	base, _, _ := strings.Cut(raw, "?")
	return base
}
