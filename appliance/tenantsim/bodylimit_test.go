package tenantsim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimRequestBodyLimit guards the simulator's model of Graph's 4 MB
// request limit: a 5 MB message, as JSON through the SDK or as MIME, with
// or without a declared length, is refused with 413 and Graph's error
// shape, and a body just under the limit is taken.
func TestSimRequestBodyLimit(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	u := firstMailbox(t, s)

	msg := models.NewMessage()
	msg.SetSubject(ptr("big"))
	body := models.NewItemBody()
	body.SetContent(ptr(strings.Repeat("x", 5<<20)))
	msg.SetBody(body)
	_, err := sdkClient(t, s, s.RestoreApp()).Users().ByUserId(u.ID).Messages().Post(context.Background(), msg, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != http.StatusRequestEntityTooLarge || oe.GetErrorEscaped() == nil ||
		*oe.GetErrorEscaped().GetCode() != "RequestEntityTooLarge" {
		t.Errorf("5 MB JSON message through the SDK: %v, want a 413 RequestEntityTooLarge", err)
	}

	hc := httpClient(t, s)
	tok := accessToken(t, s, s.RestoreApp())
	mime := func(n int) string {
		raw := "From: a@fabrikam.example\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat("y", n)
		return base64.StdEncoding.EncodeToString([]byte(raw))
	}
	cases := []struct {
		name       string
		body       string
		hideLength bool
		want       int
	}{
		{name: "5 MB of MIME", body: mime(5 << 20), want: http.StatusRequestEntityTooLarge},
		{name: "5 MB of MIME, chunked", body: mime(5 << 20), hideLength: true, want: http.StatusRequestEntityTooLarge},
		{name: "3 MB of MIME, 4 MB as base64", body: mime(3<<20 - 200), want: http.StatusCreated},
		{name: "3 MB of MIME, chunked", body: mime(3<<20 - 200), hideLength: true, want: http.StatusCreated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rd io.Reader = strings.NewReader(c.body)
			if c.hideLength {
				rd = io.MultiReader(rd)
			}
			req, _ := http.NewRequest(http.MethodPost, s.BaseURL()+"/users/"+u.ID+"/messages", rd)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "text/plain")
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, c.want)
			}
			if c.want != http.StatusRequestEntityTooLarge {
				return
			}
			var e struct {
				Error struct {
					Code, Message string
					InnerError    map[string]string
				}
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(b, &e) != nil ||
				e.Error.Code != "RequestEntityTooLarge" || !strings.Contains(e.Error.Message, "4 MB") || e.Error.InnerError["request-id"] == "" {
				t.Errorf("413 answer %s (%s), want Graph's error JSON", b, resp.Header.Get("Content-Type"))
			}
		})
	}
}
