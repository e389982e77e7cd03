package agent_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	_ "image/jpeg" // embedded images decode
	_ "image/png"
	"io"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestExportTeamsChannels exports a team's channels as HTML transcripts
// and JSON and checks them against the tenant: every message and reply
// is in the page (as headless Chromium renders it, when installed),
// pasted images are embedded, nothing is fetched from elsewhere; then a
// group's conversations as mbox, one message per post.
func TestExportTeamsChannels(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var team tenantsim.TeamInfo
	for _, tm := range sim.Teams() {
		if tm.Team && len(tm.Channels) > 1 {
			team = tm
			break
		}
	}
	dest := filepath.Join(dir, "teams")
	rep, err := a.Export(ctx, agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: team.Mail}, Format: "html", Dest: dest})
	if err != nil || len(rep.Files) != 2*len(team.Channels) {
		t.Fatalf("export html: %v %+v, want 2 files for each of %v", err, rep, team.Channels)
	}
	images := 0
	for _, name := range team.Channels {
		want, err := sim.DumpChannel(team.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(dest, strings.NewReplacer("/", "_", ":", "_").Replace(team.Mail+" - "+name))
		page := renderedDOM(t, base+".html")
		for _, m := range want.Messages {
			if !strings.Contains(page, `id="m-`+m.ID+`"`) || !strings.Contains(page, m.Body) {
				t.Errorf("%s: message %s (%q) not in the transcript", name, m.ID, m.Body)
			}
			for _, r := range m.Replies {
				if !strings.Contains(page, `id="m-`+r.ID+`"`) {
					t.Errorf("%s: reply %s not in the transcript", name, r.ID)
				}
			}
		}
		for _, m := range dataImage.FindAllStringSubmatch(page, -1) {
			b, err := base64.StdEncoding.DecodeString(m[1])
			if _, _, derr := image.DecodeConfig(bytes.NewReader(b)); err != nil || derr != nil {
				t.Errorf("%s: an embedded image does not decode: %v %v", name, err, derr)
			}
			images++
		}
		if regexp.MustCompile(`src="https?:`).MatchString(page) {
			t.Errorf("%s: the transcript loads something from the network", name)
		}
		var js struct {
			Threads []json.RawMessage `json:"threads"`
		}
		if b, err := os.ReadFile(base + ".json"); err != nil || json.Unmarshal(b, &js) != nil || len(js.Threads) != len(want.Messages) {
			t.Errorf("%s.json: %v, %d threads, want %d", name, err, len(js.Threads), len(want.Messages))
		}
	}
	if images == 0 {
		t.Error("no pasted image embedded in any transcript")
	}

	rep, err = a.Export(ctx, agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: team.Mail, Kind: "conversations"}, Format: "mbox", Dest: filepath.Join(dir, "groups")})
	if err != nil || len(rep.Files) != 1 {
		t.Fatalf("export conversations: %v %+v", err, rep)
	}
	if n := mboxMessages(t, rep.Files[0]); n != team.Posts {
		t.Errorf("mbox of %s holds %d messages, the group %d posts", team.Mail, n, team.Posts)
	}
}

// dataImage finds the images a transcript embeds.
var dataImage = regexp.MustCompile(`src="data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)"`)

// renderedDOM is the page as headless Chromium renders it, with a
// screenshot beside it, or the file itself when Chromium is missing.
func renderedDOM(t *testing.T, file string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Log("chromium is not installed (make deps installs it): the transcript is checked as written, not as rendered")
		return string(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir()}
	out, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+file)...).Output()
	if err != nil || !strings.Contains(string(out), "<article") {
		t.Fatalf("chromium --dump-dom %s: %v\n%.500s", file, err, out)
	}
	shot := strings.TrimSuffix(file, ".html") + ".png"
	if err := exec.CommandContext(ctx, bin, append(args, "--screenshot="+shot, "--window-size=1000,1400", "file://"+file)...).Run(); err != nil {
		t.Fatalf("chromium --screenshot: %v", err)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot of %s: %v", file, err)
	}
	return string(out)
}

// mboxMessages counts the messages of an mbox file and checks each
// parses with a sender and a subject.
func mboxMessages(t *testing.T, file string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "From ") {
			if cur.Len() > 0 {
				msgs = append(msgs, cur.String())
			}
			cur.Reset()
			continue
		}
		cur.WriteString(sc.Text() + "\n")
	}
	if cur.Len() > 0 {
		msgs = append(msgs, cur.String())
	}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(strings.NewReader(m))
		if err != nil || msg.Header.Get("From") == "" || msg.Header.Get("Subject") == "" {
			t.Fatalf("mbox message does not parse: %v", err)
		}
		io.Copy(io.Discard, msg.Body)
	}
	return len(msgs)
}
