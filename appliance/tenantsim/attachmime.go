package tenantsim

import (
	"bytes"
	"fmt"
	"mime"
	"net/textproto"
	"strings"
)

// withAttachment returns the MIME raw with attachment a added as the last
// part of its multipart/mixed body; any other message is wrapped in a
// new multipart/mixed whose first part is its old content. Every header
// and every other part stays byte for byte.
//
// Exchange itself renders the MIME of a changed message anew from its
// store (new boundaries, its own headers and encodings); the simulator
// keeps what it was given, so that a restore through an upload session
// can be checked against the original as closely as Graph allows: the
// same headers, bodies and parts, the uploaded attachment last.
func withAttachment(raw []byte, a *attachment) ([]byte, error) {
	head, body, sep := splitHeader(raw)
	if head == nil {
		return nil, fmt.Errorf("the message has no header")
	}
	fields := headerFields(head)
	ct, params, err := mime.ParseMediaType(fieldValue(fields, "Content-Type"))
	if err == nil && ct == "multipart/mixed" && params["boundary"] != "" {
		closing := []byte("--" + params["boundary"] + "--")
		at := bytes.LastIndex(body, closing)
		if at < 0 {
			return nil, fmt.Errorf("the multipart body has no closing boundary")
		}
		var out bytes.Buffer
		out.Grow(len(raw) + a.size*4/3 + 4096)
		out.Write(raw[:len(raw)-len(body)+at])
		writeAttachmentPart(&out, params["boundary"], a)
		out.Write(body[at:])
		return out.Bytes(), nil
	}
	// Not multipart/mixed: the old content becomes the first part.
	boundary := "----=_Attached_" + shortHash(a.id, 0)
	var out bytes.Buffer
	out.Grow(len(raw) + a.size*4/3 + 4096)
	var content []string
	for _, f := range fields {
		if isContentField(f) {
			content = append(content, f)
			continue
		}
		out.WriteString(f)
	}
	out.WriteString(`Content-Type: multipart/mixed; boundary="` + boundary + `"` + crlf)
	out.WriteString(sep)
	out.WriteString("--" + boundary + crlf)
	for _, f := range content {
		out.WriteString(f)
	}
	out.WriteString(crlf)
	out.Write(body)
	out.WriteString(crlf)
	writeAttachmentPart(&out, boundary, a)
	out.WriteString("--" + boundary + "--" + crlf)
	return out.Bytes(), nil
}

// writeAttachmentPart writes a's part, opening delimiter included, as
// base64 in lines of 76 characters.
func writeAttachmentPart(out *bytes.Buffer, boundary string, a *attachment) {
	disp := "attachment"
	if a.inline {
		disp = "inline"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", mime.FormatMediaType(a.contentType, map[string]string{"name": a.name}))
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": a.name}))
	h.Set("Content-Transfer-Encoding", "base64")
	if a.contentID != "" {
		h.Set("Content-ID", "<"+a.contentID+">")
	}
	out.WriteString("--" + boundary + crlf)
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Transfer-Encoding", "Content-ID"} {
		if v := h.Get(k); v != "" {
			out.WriteString(k + ": " + v + crlf)
		}
	}
	out.WriteString(crlf)
	writeBase64Lines(out, a.content())
}

// splitHeader splits raw MIME at the empty line that ends its header;
// sep is that empty line's line break. head is nil when there is none.
func splitHeader(raw []byte) (head, body []byte, sep string) {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+2], raw[i+4:], crlf
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+1], raw[i+2:], "\n"
	}
	return nil, nil, ""
}

// headerFields splits a header into its fields, each with its
// continuation lines and line breaks.
func headerFields(head []byte) []string {
	var fields []string
	for _, line := range strings.SplitAfter(string(head), "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1] += line
			continue
		}
		fields = append(fields, line)
	}
	return fields
}

// fieldValue is the unfolded value of the first field named name.
func fieldValue(fields []string, name string) string {
	for _, f := range fields {
		k, v, ok := strings.Cut(f, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			v = strings.NewReplacer("\r\n", "", "\n", "").Replace(v)
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// isContentField reports a Content-* field, which describes a body, not
// the message.
func isContentField(f string) bool {
	k, _, _ := strings.Cut(f, ":")
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(k)), "content-")
}
