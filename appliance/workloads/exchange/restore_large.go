package exchange

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/storage/vault"
)

// Graph takes at most 4 MB in a request body. A message is created from
// its MIME sent as base64, so at most 3 MB of MIME goes in one request;
// the attachments of a larger message are taken out of its MIME and sent
// afterwards through attachment upload sessions (up to 150 MB each).
const (
	requestMax = 4 << 20
	mimeMax    = requestMax/4*3 - 4<<10
)

// createMessage creates the message it holds in a folder (a Graph path)
// and returns Graph's answer. Graph takes MIME as base64 in a text/plain
// body; a message too large for one request is created without its
// largest attachments, which are then uploaded to it (restoreLarge).
func (r *restorer) createMessage(ctx context.Context, folder string, it vault.Item) ([]byte, error) {
	if base64.StdEncoding.EncodedLen(int(it.Size)) <= requestMax {
		mime, err := r.read(it)
		if err != nil {
			return nil, fmt.Errorf("read from vault: %w", err)
		}
		if base64.StdEncoding.EncodedLen(len(mime)) <= requestMax {
			return r.c.Write(ctx, abstractions.POST, folder+"/messages", "text/plain", []byte(base64.StdEncoding.EncodeToString(mime)))
		}
	}
	return r.restoreLarge(ctx, folder, func() (io.ReadCloser, error) { return r.open(it) })
}

// restoreLarge creates a message too large for one request: its MIME
// without the parts splitLarge takes out, then each of those through an
// upload session. The MIME is read from the vault again for each step
// instead of being held: memory holds the MIME that stays (under 3 MB)
// and one chunk of an upload. A message left without an attachment is
// deleted again rather than restored incomplete.
//
// What comes back is the same message, not the same bytes: Graph renders
// a message's MIME from its store, so even a small message restored from
// MIME comes back with its own boundaries and encodings, and an uploaded
// attachment is a new last part of the message (after the parts that
// stayed in the MIME). Headers, bodies and every attachment's name, type,
// Content-ID and bytes are what a restore keeps.
func (r *restorer) restoreLarge(ctx context.Context, folder string, open opener) ([]byte, error) {
	reduced, parts, err := splitLarge(open)
	if err != nil {
		return nil, err
	}
	body, err := r.c.Write(ctx, abstractions.POST, folder+"/messages", "text/plain", []byte(base64.StdEncoding.EncodeToString(reduced)))
	if err != nil {
		return nil, err
	}
	var created struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &created) != nil || created.ID == "" {
		return nil, errors.New("create message: the answer has no message id")
	}
	for _, p := range parts {
		if err := r.attach(ctx, created.ID, open, p); err != nil {
			// Best effort: a failed delete leaves a message without this
			// attachment, which the error names.
			_ = r.deletePath(ctx, r.userPath()+"/messages/"+url.PathEscape(created.ID))
			return nil, fmt.Errorf("attachment %q (%s): %w", p.name, mb(p.size), err)
		}
	}
	return body, nil
}

// attach uploads part p of the MIME to message id through an upload
// session.
func (r *restorer) attach(ctx context.Context, id string, open opener, p largePart) error {
	if p.size < 0 {
		n, err := p.count(open)
		if err != nil {
			return err
		}
		p.size = n
	}
	item := map[string]any{"attachmentType": "file", "name": p.name, "size": p.size, "contentType": p.contentType, "isInline": p.inline}
	if p.contentID != "" {
		item["contentId"] = p.contentID
	}
	at := r.userPath() + "/messages/" + url.PathEscape(id) + "/attachments/createUploadSession"
	body, err := r.c.WriteJSON(ctx, abstractions.POST, at, map[string]any{"AttachmentItem": item})
	if err != nil {
		return fmt.Errorf("start an upload session: %w", err)
	}
	var s struct {
		URL string `json:"uploadUrl"`
	}
	if json.Unmarshal(body, &s) != nil || s.URL == "" {
		return errors.New("start an upload session: the answer has no upload URL")
	}
	rc, err := p.content(open)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = r.c.G.Upload(ctx, s.URL, rc, p.size, graph.AttachmentChunk)
	return err
}

// errNoParts: the message is too large and holds nothing that can be
// taken out of it.
var errNoParts = errors.New("too large for Graph (a request carries at most 4 MB) and without attachments that could be uploaded separately; " +
	"export it instead: strongroom export SNAPSHOT --user USER --folder FOLDER --format eml --dest DIR")

// splitLarge returns the MIME open reads without the attachments that
// must be uploaded separately for the rest to fit in one request, largest
// first, and those attachments in their order in the message. Only parts
// of the top-level multipart body are taken out; every byte that stays is
// the original's.
func splitLarge(open opener) ([]byte, []largePart, error) {
	rc, err := open()
	if err != nil {
		return nil, nil, fmt.Errorf("read from vault: %w", err)
	}
	candidates, total, err := scanParts(rc)
	rc.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("message of %s: %w", mb(total), err)
	}
	slices.SortStableFunc(candidates, func(a, b largePart) int { return int((b.end - b.start) - (a.end - a.start)) })
	size := total
	var out []largePart
	for _, p := range candidates {
		if size <= mimeMax {
			break
		}
		size -= p.end - p.start
		out = append(out, p)
	}
	if size > mimeMax {
		return nil, nil, fmt.Errorf("message of %s: %w", mb(total), errNoParts)
	}
	slices.SortFunc(out, func(a, b largePart) int { return int(a.start - b.start) })
	reduced, err := cutParts(open, out, size)
	if err != nil {
		return nil, nil, fmt.Errorf("read from vault: %w", err)
	}
	return reduced, out, nil
}

// cutParts reads the MIME again and returns it without the parts out
// (in message order); size is what remains.
func cutParts(open opener, out []largePart, size int64) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, size))
	var at int64
	for _, p := range out {
		if _, err := io.CopyN(buf, rc, p.start-at); err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, rc, p.end-p.start); err != nil {
			return nil, err
		}
		at = p.end
	}
	if _, err := io.Copy(buf, rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mb formats a byte count in MB for messages.
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
