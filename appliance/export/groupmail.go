package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// GroupPost is the part of a Graph post (of a group conversation thread)
// a message is made of.
type GroupPost struct {
	ID      string `json:"id"`
	Created string `json:"createdDateTime"`
	From    struct {
		EmailAddress struct {
			Name    string `json:"name"`
			Address string `json:"address"`
		} `json:"emailAddress"`
	} `json:"from"`
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	ConversationThreadID string `json:"conversationThreadId"`
}

// FileAttachment is a post's file attachment with its bytes (base64).
type FileAttachment struct {
	Name         string `json:"name"`
	ContentType  string `json:"contentType"`
	ContentBytes string `json:"contentBytes"`
}

// GroupPostMIME turns a group conversation post (Graph JSON) and its file
// attachments into an RFC 5322 message with the thread's topic as its
// subject, for an mbox of a group's conversations. It returns the message,
// its sender's address and its date for the mbox separator line.
func GroupPostMIME(topic string, post json.RawMessage, attachments []json.RawMessage) ([]byte, string, time.Time, error) {
	var p GroupPost
	if err := json.Unmarshal(post, &p); err != nil {
		return nil, "", time.Time{}, fmt.Errorf("read a group post: %w", err)
	}
	date, _ := time.Parse(time.RFC3339Nano, p.Created)
	from := mail.Address{Name: p.From.EmailAddress.Name, Address: p.From.EmailAddress.Address}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nDate: %s\r\nSubject: %s\r\nMessage-ID: <%s@strongroom.invalid>\r\nThread-Topic: %s\r\nMIME-Version: 1.0\r\n",
		from.String(), date.UTC().Format(time.RFC1123Z), mime.QEncoding.Encode("utf-8", topic), safeID(p.ID), mime.QEncoding.Encode("utf-8", topic))
	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", mw.Boundary())
	ct := "text/plain; charset=utf-8"
	if strings.EqualFold(p.Body.ContentType, "html") {
		ct = "text/html; charset=utf-8"
	}
	part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ct}, "Content-Transfer-Encoding": {"base64"}})
	if err != nil {
		return nil, "", date, err
	}
	writeBase64Lines(part, []byte(p.Body.Content))
	for _, raw := range attachments {
		var a FileAttachment
		if json.Unmarshal(raw, &a) != nil || a.ContentBytes == "" {
			continue
		}
		data, err := base64.StdEncoding.DecodeString(a.ContentBytes)
		if err != nil {
			return nil, "", date, fmt.Errorf("attachment %s of post %s: %w", a.Name, p.ID, err)
		}
		h := textproto.MIMEHeader{"Content-Type": {firstOf(a.ContentType, "application/octet-stream")}, "Content-Transfer-Encoding": {"base64"},
			"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})}}
		part, err := mw.CreatePart(h)
		if err != nil {
			return nil, "", date, err
		}
		writeBase64Lines(part, data)
	}
	if err := mw.Close(); err != nil {
		return nil, "", date, err
	}
	return b.Bytes(), from.Address, date, nil
}

// writeBase64Lines writes data base64-encoded in lines of 76 characters.
func writeBase64Lines(w interface{ Write([]byte) (int, error) }, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}

// safeID keeps the characters of an id a Message-ID may hold.
func safeID(id string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || strings.ContainsRune("<>@\"\\()[],;:", r) {
			return '_'
		}
		return r
	}, id)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
