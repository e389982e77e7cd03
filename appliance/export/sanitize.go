package export

import (
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// keptTags are the formatting tags a message body keeps in a transcript;
// every other tag is dropped (its text stays, except inside dropped
// containers such as script and style).
var keptTags = map[string]bool{
	"p": true, "div": true, "span": true, "br": true, "b": true, "strong": true, "i": true, "em": true, "u": true, "s": true,
	"ul": true, "ol": true, "li": true, "blockquote": true, "pre": true, "code": true, "h1": true, "h2": true, "h3": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "td": true, "th": true, "a": true, "img": true, "hr": true,
}

// droppedWithText are containers whose content is not text to show.
var droppedWithText = map[string]bool{"script": true, "style": true, "iframe": true, "object": true, "embed": true, "template": true, "noscript": true, "head": true, "title": true}

// sanitizeHTML rewrites a Teams message body for a transcript: kept tags
// lose every attribute but a link's safe href and an image's source,
// which becomes the embedded image when images holds it ("image not
// kept" otherwise, never a request to the tenant).
func sanitizeHTML(body string, images map[string]Image) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(body))
	skip := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return b.String()
		case xhtml.TextToken:
			if skip == 0 {
				b.WriteString(html.EscapeString(string(z.Text())))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			t := z.Token()
			if droppedWithText[t.Data] {
				if t.Type == xhtml.StartTagToken {
					skip++
				}
				continue
			}
			if skip == 0 && keptTags[t.Data] {
				b.WriteString(openTag(t, images))
			}
		case xhtml.EndTagToken:
			t := z.Token()
			if droppedWithText[t.Data] {
				skip = max(0, skip-1)
				continue
			}
			if skip == 0 && keptTags[t.Data] && t.Data != "br" && t.Data != "img" && t.Data != "hr" {
				b.WriteString("</" + t.Data + ">")
			}
		}
	}
}

func openTag(t xhtml.Token, images map[string]Image) string {
	switch t.Data {
	case "a":
		for _, a := range t.Attr {
			if a.Key == "href" && safeURL(a.Val) {
				return `<a href="` + html.EscapeString(a.Val) + `">`
			}
		}
		return "<a>"
	case "img":
		alt := "image"
		src := ""
		for _, a := range t.Attr {
			switch a.Key {
			case "src":
				src = a.Val
			case "alt":
				alt = a.Val
			}
		}
		if img, ok := images[src]; ok {
			return `<img src="` + DataURI(img) + `" alt="` + html.EscapeString(alt) + `">`
		}
		return `<span class="deleted">[image not kept]</span>`
	}
	return "<" + t.Data + ">"
}

// safeURL accepts only links a transcript may carry.
func safeURL(u string) bool {
	l := strings.ToLower(strings.TrimSpace(u))
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "mailto:")
}
