package export

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"time"
)

// ChannelTranscript is one Teams channel to write as a transcript: its
// threads in the order they were posted.
type ChannelTranscript struct {
	Team, Channel string
	Threads       []TranscriptThread
}

// TranscriptThread is a top-level channel message and its replies, each
// the Graph chatMessage JSON as the Teams workload stores it.
type TranscriptThread struct {
	Message json.RawMessage   `json:"message"`
	Replies []json.RawMessage `json:"replies"`
}

// Image is the content of a hosted content (an image pasted into a
// message), embedded in a transcript as a data: URI.
type Image struct {
	ContentType string
	Data        []byte
}

// chatMessage is the part of a Graph chatMessage a transcript shows.
type chatMessage struct {
	ID         string `json:"id"`
	Created    string `json:"createdDateTime"`
	Edited     string `json:"lastEditedDateTime"`
	Deleted    string `json:"deletedDateTime"`
	Importance string `json:"importance"`
	Subject    string `json:"subject"`
	From       struct {
		User *struct {
			DisplayName string `json:"displayName"`
		} `json:"user"`
		Application *struct {
			DisplayName string `json:"displayName"`
		} `json:"application"`
	} `json:"from"`
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Attachments []struct {
		ContentType string `json:"contentType"`
		ContentURL  string `json:"contentUrl"`
		Name        string `json:"name"`
	} `json:"attachments"`
	Reactions []struct {
		Type string `json:"reactionType"`
		User struct {
			User *struct {
				DisplayName string `json:"displayName"`
			} `json:"user"`
		} `json:"user"`
	} `json:"reactions"`
}

func (m chatMessage) author() string {
	switch {
	case m.From.User != nil && m.From.User.DisplayName != "":
		return m.From.User.DisplayName
	case m.From.Application != nil:
		return m.From.Application.DisplayName
	}
	return "unknown"
}

const transcriptStyle = `body{font-family:system-ui,sans-serif;max-width:60em;margin:1em auto;color:#222}
.thread{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.5em 1em}
.reply{margin-left:2em;border-left:3px solid #ddd;padding-left:1em}
.meta{color:#555;font-size:.9em}.author{font-weight:bold;color:#222}
.deleted{color:#900;font-style:italic}.important{color:#b00;font-weight:bold}
.body img{max-width:100%}.files a,.reactions span{margin-right:1em}`

// WriteTranscriptHTML writes t as one self-contained HTML page: every
// thread with its author, time and text, its replies indented beneath it,
// images whose URL images holds embedded as data: URIs, and links to the
// files messages reference. Message bodies are sanitized: only plain
// formatting tags are kept, scripts, styles and event handlers never
// reach the page, and links keep only http, https and mailto targets.
func WriteTranscriptHTML(w io.Writer, t ChannelTranscript, images map[string]Image) error {
	bw := bufio.NewWriter(w)
	title := html.EscapeString(t.Team + " – " + t.Channel)
	fmt.Fprintf(bw, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style></head>\n<body>\n<h1>%s</h1>\n", title, transcriptStyle, title)
	fmt.Fprintf(bw, "<p class=\"meta\">%d threads, exported by Strongroom</p>\n", len(t.Threads))
	for _, th := range t.Threads {
		bw.WriteString("<article class=\"thread\">\n")
		if err := writeChatMessage(bw, th.Message, "message", images); err != nil {
			return err
		}
		for _, r := range th.Replies {
			if err := writeChatMessage(bw, r, "message reply", images); err != nil {
				return err
			}
		}
		bw.WriteString("</article>\n")
	}
	bw.WriteString("</body></html>\n")
	return bw.Flush()
}

func writeChatMessage(w *bufio.Writer, raw json.RawMessage, class string, images map[string]Image) error {
	var m chatMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("transcript: read a channel message: %w", err)
	}
	fmt.Fprintf(w, "<section class=\"%s\" id=\"m-%s\">\n<div class=\"meta\"><span class=\"author\">%s</span> <time datetime=\"%s\">%s</time>",
		class, html.EscapeString(m.ID), html.EscapeString(m.author()), html.EscapeString(m.Created), html.EscapeString(readableTime(m.Created)))
	if m.Edited != "" {
		fmt.Fprintf(w, " (edited %s)", html.EscapeString(readableTime(m.Edited)))
	}
	if m.Importance == "high" || m.Importance == "urgent" {
		fmt.Fprintf(w, " <span class=\"important\">%s</span>", html.EscapeString(m.Importance))
	}
	w.WriteString("</div>\n")
	if m.Deleted != "" {
		fmt.Fprintf(w, "<p class=\"deleted\">Deleted in Teams %s.</p>\n", html.EscapeString(readableTime(m.Deleted)))
	}
	if m.Subject != "" {
		fmt.Fprintf(w, "<h3>%s</h3>\n", html.EscapeString(m.Subject))
	}
	w.WriteString("<div class=\"body\">")
	if m.Body.ContentType == "html" {
		w.WriteString(sanitizeHTML(m.Body.Content, images))
	} else {
		w.WriteString(strings.ReplaceAll(html.EscapeString(m.Body.Content), "\n", "<br>"))
	}
	w.WriteString("</div>\n")
	writeFilesAndReactions(w, m)
	w.WriteString("</section>\n")
	return nil
}

func writeFilesAndReactions(w *bufio.Writer, m chatMessage) {
	var files []string
	for _, a := range m.Attachments {
		if a.ContentType == "reference" && safeURL(a.ContentURL) {
			files = append(files, fmt.Sprintf("<a href=\"%s\">%s</a>", html.EscapeString(a.ContentURL), html.EscapeString(a.Name)))
		}
	}
	if len(files) > 0 {
		fmt.Fprintf(w, "<div class=\"files\">Files: %s</div>\n", strings.Join(files, " "))
	}
	if len(m.Reactions) > 0 {
		w.WriteString("<div class=\"reactions\">")
		for _, r := range m.Reactions {
			who := ""
			if r.User.User != nil {
				who = r.User.User.DisplayName
			}
			fmt.Fprintf(w, "<span>%s: %s</span>", html.EscapeString(r.Type), html.EscapeString(who))
		}
		w.WriteString("</div>\n")
	}
}

// readableTime shows a Graph timestamp as "2026-03-14 09:30 UTC".
func readableTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// DataURI embeds content as a data: URI.
func DataURI(img Image) string {
	ct := img.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(img.Data)
}
