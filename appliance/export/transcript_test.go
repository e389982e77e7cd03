package export_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/strongroom/strongroom/appliance/export"
)

// TestTranscriptSanitizes guards what a message body can put into a
// transcript page: formatting stays, scripts, styles, event handlers,
// javascript: links and images from the network do not.
func TestTranscriptSanitizes(t *testing.T) {
	for _, tc := range []struct {
		name, body  string
		want, never []string
	}{
		{"formatting", `<p>Budget <b>frei</b> &amp; ok</p>`, []string{"<p>Budget <b>frei</b> &amp; ok</p>"}, nil},
		{"script", `<p>hi</p><script>alert(1)</script><style>body{}</style>`, []string{"<p>hi</p>"}, []string{"alert", "<script", "body{}"}},
		{"handler", `<p onclick="steal()">x</p><img src=x onerror="steal()">`, []string{"<p>x</p>", "[image not kept]"}, []string{"steal", "onerror"}},
		{"links", `<a href="javascript:steal()">a</a><a href="https://contoso.com/x?a=1&amp;b=2">b</a>`, []string{`<a>a</a>`, `<a href="https://contoso.com/x?a=1&amp;b=2">b</a>`}, []string{"javascript"}},
		{"remote image", `<img src="https://evil.example/track.png">`, []string{"[image not kept]"}, []string{"evil.example"}},
		{"embedded image", `<img src="https://graph/hc/1/$value" alt="Bild">`, []string{`<img src="data:image/png;base64,iVBORw==" alt="Bild">`}, []string{"https://graph"}},
		{"mention", `<p><at id="0">Alice</at> schau mal</p>`, []string{"<p>Alice schau mal</p>"}, []string{"<at"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, _ := json.Marshal(map[string]any{"id": "1", "createdDateTime": "2026-03-14T09:30:00Z",
				"from": map[string]any{"user": map[string]any{"displayName": "Alice <Admin>"}}, "body": map[string]any{"contentType": "html", "content": tc.body}})
			var b bytes.Buffer
			err := export.WriteTranscriptHTML(&b, export.ChannelTranscript{Team: "T", Channel: "C", Threads: []export.TranscriptThread{{Message: msg}}},
				map[string]export.Image{"https://graph/hc/1/$value": {ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}}})
			if err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if !strings.Contains(page, "Alice &lt;Admin&gt;") {
				t.Errorf("author not escaped: %s", page)
			}
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q:\n%s", w, page)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(page, n) {
					t.Errorf("page holds %q:\n%s", n, page)
				}
			}
		})
	}
}

// FuzzTranscriptBody guards the sanitizer on any body: whatever a message
// says, the page holds only the transcript's own tags and safe ones, and
// no attribute that could run code or load from the network.
func FuzzTranscriptBody(f *testing.F) {
	for _, s := range []string{`<p onclick="x()">a</p>`, `<script>alert(1)</script>`, `<a href="javascript:x">y</a>`, `<img src=x onerror=y>`,
		`<svg><script>x</script></svg>`, `<<p>>`, `<a href="https://x/?a=&quot;b">c</a>`, `<style>@import url(https://x)</style>`} {
		f.Add(s)
	}
	allowedAttr := map[string]bool{"href": true, "src": true, "alt": true, "class": true, "id": true, "datetime": true, "charset": true}
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 4096 {
			return
		}
		msg, _ := json.Marshal(map[string]any{"id": "1", "body": map[string]any{"contentType": "html", "content": body}})
		var b bytes.Buffer
		if err := export.WriteTranscriptHTML(&b, export.ChannelTranscript{Threads: []export.TranscriptThread{{Message: msg}}}, nil); err != nil {
			t.Fatal(err)
		}
		z := xhtml.NewTokenizer(&b)
		styles := 0
		for tt := z.Next(); tt != xhtml.ErrorToken; tt = z.Next() {
			if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "svg", "math", "base", "link", "form":
				t.Fatalf("body %q put a <%s> into the page", body, tok.Data)
			case "style":
				if styles++; styles > 1 {
					t.Fatalf("body %q put a <style> into the page", body)
				}
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if !allowedAttr[a.Key] || (a.Key == "href" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:")) ||
					(a.Key == "src" && !strings.HasPrefix(v, "data:")) {
					t.Fatalf("body %q put the attribute %s=%q on <%s>", body, a.Key, a.Val, tok.Data)
				}
			}
		}
	})
}
