package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Chunk sizes for upload sessions. OneDrive wants every chunk but the
// last to be a multiple of 320 KiB; an Outlook attachment session takes
// at most 4 MB per PUT.
const (
	DriveChunk      = 32 * 320 << 10 // 10 MiB
	AttachmentChunk = 12 * 320 << 10 // 3.75 MiB
)

// chunkAttempts is how often one chunk is sent before the upload fails.
const chunkAttempts = 3

// Upload sends size bytes read from r to an upload session's URL in
// chunks of chunk bytes and returns the body of the answer to the last
// one. Memory holds one chunk, whatever the size. The URL is
// pre-authenticated: no token goes with it, only the governor's retries
// and pauses. A chunk that fails is sent again from where the session
// says it expects the next byte.
func (c *Client) Upload(ctx context.Context, uploadURL string, r io.Reader, size int64, chunk int) ([]byte, error) {
	buf := make([]byte, chunk)
	var off int64
	for {
		n, err := io.ReadFull(r, buf[:min(int64(chunk), size-off)])
		if err != nil {
			return nil, fmt.Errorf("read the content at byte %d of %d: %w", off+int64(n), size, err)
		}
		body, err := c.putChunk(ctx, uploadURL, buf[:n], off, size)
		if err != nil {
			return nil, err
		}
		off += int64(n)
		if off >= size {
			return body, nil
		}
	}
}

// putChunk sends one chunk, retrying it (after asking the session which
// bytes it still expects) up to chunkAttempts times.
func (c *Client) putChunk(ctx context.Context, uploadURL string, chunk []byte, off, total int64) ([]byte, error) {
	var last error
	for attempt := 0; attempt < chunkAttempts; attempt++ {
		if attempt > 0 {
			next, err := c.expected(ctx, uploadURL)
			if err == nil && next > off && next <= off+int64(len(chunk)) {
				chunk, off = chunk[next-off:], next
			}
			if off >= total {
				return nil, nil
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, uploadURL, bytes.NewReader(chunk))
		if err != nil {
			return nil, err
		}
		req.ContentLength = int64(len(chunk))
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+int64(len(chunk))-1, total))
		resp, err := c.HTTP.Do(req)
		if err != nil {
			last = err
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return body, nil
		}
		last = fmt.Errorf("upload session: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		if resp.StatusCode/100 == 4 && resp.StatusCode != 416 && resp.StatusCode != 429 {
			break
		}
	}
	return nil, last
}

// expected asks an upload session for the first byte it still needs.
func (c *Client) expected(ctx context.Context, uploadURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uploadURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Next []string `json:"nextExpectedRanges"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || len(st.Next) == 0 {
		return 0, errors.New("upload session status unreadable")
	}
	from, _, _ := strings.Cut(st.Next[0], "-")
	return strconv.ParseInt(from, 10, 64)
}
