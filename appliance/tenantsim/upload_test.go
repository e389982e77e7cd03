package tenantsim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

func putChunk(t *testing.T, hc *http.Client, uploadURL string, data []byte, first, total int) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", uploadURL, bytes.NewReader(data))
	req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, first+len(data)-1, total))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func startUpload(t *testing.T, hc *http.Client, url, tok, body string) string {
	t.Helper()
	status, _, b := call(t, hc, "POST", url, tok, "application/json", body)
	var us struct {
		UploadURL string `json:"uploadUrl"`
	}
	if status != 200 || json.Unmarshal(b, &us) != nil || us.UploadURL == "" {
		t.Fatalf("create upload session: %d %s", status, b)
	}
	return us.UploadURL
}

// TestSimDriveUploadSession guards the chunk rules of OneDrive upload
// sessions: 320 KiB multiples in order succeed and store the bytes; a
// short non-final chunk or a gap is refused with 416.
func TestSimDriveUploadSession(t *testing.T) {
	const k320 = 320 << 10
	data := bytes.Repeat([]byte("Strongroom ✓ "), 60_000)[:2*k320+12345]
	cases := []struct {
		name   string
		chunks [][2]int // offsets [first, end)
		want   []int    // status per chunk
	}{
		{"multiples of 320 KiB", [][2]int{{0, k320}, {k320, 2 * k320}, {2 * k320, len(data)}}, []int{202, 202, 201}},
		{"one chunk", [][2]int{{0, len(data)}}, []int{201}},
		{"short middle chunk", [][2]int{{0, 100_000}}, []int{416}},
		{"gap", [][2]int{{0, k320}, {2 * k320, len(data)}}, []int{202, 416}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tenantsim.NewTest(t, testConfig())
			hc := httpClient(t, s)
			tok := accessToken(t, s, s.RestoreApp())
			u := firstMailbox(t, s)
			d, _ := s.DumpDrive(u.ID)
			up := startUpload(t, hc, s.BaseURL()+"/drives/"+d.DriveID+"/items/root:/big.bin:/createUploadSession", tok, `{"item":{"@microsoft.graph.conflictBehavior":"replace"}}`)
			for i, ch := range tc.chunks {
				if status, b := putChunk(t, hc, up, data[ch[0]:ch[1]], ch[0], len(data)); status != tc.want[i] {
					t.Fatalf("chunk %d: %d %s, want %d", i, status, b, tc.want[i])
				}
			}
			if tc.want[len(tc.want)-1] != 201 {
				return
			}
			after, _ := s.DumpDrive(u.ID)
			for _, it := range after.Items {
				if it.Path == "big.bin" {
					if !bytes.Equal(it.Versions[0].Content, data) {
						t.Error("uploaded bytes differ")
					}
					return
				}
			}
			t.Error("uploaded file missing from the drive")
		})
	}
}

// TestSimAttachmentUploadSession guards the large-attachment restore path:
// a message created from MIME gets a 6 MB attachment through an upload
// session in 4 MiB chunks, and its MIME then carries those bytes.
func TestSimAttachmentUploadSession(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.RestoreApp())
	u := firstMailbox(t, s)
	msgMIME := "From: Zoë <zoe@fabrikam.example>\r\nTo: x@contoso-sim.onmicrosoft.com\r\nSubject: =?utf-8?q?Gro=C3=9Fe_Datei?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsiehe Anhang\r\n"
	status, _, b := call(t, hc, "POST", s.BaseURL()+"/users/"+u.ID+"/mailFolders/inbox/messages", tok, "text/plain", base64.StdEncoding.EncodeToString([]byte(msgMIME)))
	if status != 201 {
		t.Fatalf("create message: %d %s", status, b)
	}
	var m struct{ ID string }
	_ = json.Unmarshal(b, &m)
	big := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x42}, 1_200_000)
	up := startUpload(t, hc, s.BaseURL()+"/users/"+u.ID+"/messages/"+m.ID+"/attachments/createUploadSession", tok,
		fmt.Sprintf(`{"AttachmentItem":{"attachmentType":"file","name":"Präsentation.pptx","size":%d}}`, len(big)))
	if status, b := putChunk(t, hc, up, big[:5<<20], 0, len(big)); status != 416 {
		t.Fatalf("5 MiB chunk: %d %s, want 416", status, b)
	}
	const c = 4 << 20
	if status, b := putChunk(t, hc, up, big[:c], 0, len(big)); status != 202 {
		t.Fatalf("first chunk: %d %s", status, b)
	}
	if status, b := putChunk(t, hc, up, big[c:], c, len(big)); status != 201 {
		t.Fatalf("last chunk: %d %s", status, b)
	}
	_, _, raw := call(t, hc, "GET", s.BaseURL()+"/users/"+u.ID+"/messages/"+m.ID+"/$value", tok, "", "")
	pm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(pm.Header.Get("Content-Type"))
	mr := multipart.NewReader(pm.Body, params["boundary"])
	found := false
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FileName() == "Präsentation.pptx" {
			got, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			found = bytes.Equal(got, big)
		}
	}
	if !found {
		t.Errorf("MIME after upload lacks the attachment bytes (%d bytes of MIME, starts %q)", len(raw), strings.SplitN(string(raw), "\r\n", 2)[0])
	}
}

// TestSimAttachmentUploadKeepsMIME guards what a restore of a large
// message relies on: an attachment uploaded to a message created from
// multipart MIME is added as its last part, inline with its Content-ID
// when asked, and every byte of the message before it stays as it was.
func TestSimAttachmentUploadKeepsMIME(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	hc := httpClient(t, s)
	tok := accessToken(t, s, s.RestoreApp())
	u := firstMailbox(t, s)
	head := "From: a@fabrikam.example\r\nX-Custom: kept\r\nSubject: Bild\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"preamble\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<img src=\"cid:img1@x\">\r\n"
	msgMIME := head + "--b1--\r\nepilogue\r\n"
	status, _, b := call(t, hc, "POST", s.BaseURL()+"/users/"+u.ID+"/messages", tok, "text/plain", base64.StdEncoding.EncodeToString([]byte(msgMIME)))
	var m struct{ ID string }
	if status != 201 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("create message: %d %s", status, b)
	}
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 1<<20)
	up := startUpload(t, hc, s.BaseURL()+"/users/"+u.ID+"/messages/"+m.ID+"/attachments/createUploadSession", tok,
		fmt.Sprintf(`{"AttachmentItem":{"attachmentType":"file","name":"bild.png","size":%d,"contentType":"image/png","isInline":true,"contentId":"img1@x"}}`, len(img)))
	if status, b := putChunk(t, hc, up, img, 0, len(img)); status != 201 {
		t.Fatalf("upload: %d %s", status, b)
	}
	_, _, raw := call(t, hc, "GET", s.BaseURL()+"/users/"+u.ID+"/messages/"+m.ID+"/$value", tok, "", "")
	if !strings.HasPrefix(string(raw), head) || !strings.HasSuffix(string(raw), "--b1--\r\nepilogue\r\n") {
		t.Fatalf("MIME after the upload does not keep the message around the new part:\n%.400s", raw)
	}
	pm, _ := mail.ReadMessage(bytes.NewReader(raw))
	mr := multipart.NewReader(pm.Body, "b1")
	_, _ = mr.NextPart()
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
	disp, _, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if !bytes.Equal(got, img) || p.FileName() != "bild.png" || disp != "inline" || p.Header.Get("Content-ID") != "<img1@x>" || p.Header.Get("Content-Type") != "image/png; name=bild.png" {
		t.Errorf("uploaded part: %d bytes (equal %v), header %v", len(got), bytes.Equal(got, img), p.Header)
	}
}
