package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/export/pst/psttest"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// mimeParts is what a message's MIME holds: subject, first text and HTML
// bodies, attachments by file name.
type mimeParts struct {
	subject, text, html string
	files               map[string][]byte
}

func parseParts(t *testing.T, raw []byte) mimeParts {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && mr == nil {
		t.Fatal(err)
	}
	p := mimeParts{files: map[string][]byte{}}
	p.subject, _ = mr.Header.Subject()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(part.Body)
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			switch {
			case ct == "text/html" && p.html == "":
				p.html = string(body)
			case (ct == "text/plain" || ct == "") && p.text == "":
				p.text = string(body)
			}
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			p.files[name] = body
		}
	}
	return p
}

func norm(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// lines returns the lines of the documents starting with prefix, sorted.
func lines(docs []string, prefix string) []string {
	var out []string
	for _, d := range docs {
		for _, l := range strings.Split(strings.ReplaceAll(d, "\r\n", "\n"), "\n") {
			if strings.HasPrefix(l, prefix) {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestExportPST exports two mailboxes as PST files and reads each back
// with readpst and pffexport: every message of the simulated mailbox in
// its folder with its subject, bodies and attachments byte for byte, and
// the same contacts and events as the VCF and ICS exports.
func TestExportPST(t *testing.T) {
	sim, a, dir := newAgent(t, 3, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var users []tenantsim.UserInfo
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted && len(users) < 2 {
			users = append(users, u)
		}
	}
	sel := agent.Selection{Snapshot: full.Snapshot, User: users[0].UPN + "," + users[1].UPN}
	rep, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "pst", Dest: filepath.Join(dir, "pst")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 2 {
		t.Fatalf("export wrote %v, want one PST per mailbox", rep.Files)
	}
	total := 0
	for i, u := range users {
		file := rep.Files[i]
		if !strings.HasPrefix(filepath.Base(file), u.UPN+"-") || !strings.HasSuffix(file, "-001.pst") {
			t.Errorf("file %s, want %s-<snapshot>-001.pst", file, u.UPN)
		}
		total += checkPSTMailbox(t, a, sim, full.Snapshot, u, file)
	}
	if rep.Items != total {
		t.Errorf("export reports %d items, the readers found %d", rep.Items, total)
	}
}

// checkPSTMailbox compares one mailbox's PST with the simulator and the
// other exports, through both readers, and returns the item count.
func checkPSTMailbox(t *testing.T, a *agent.Agent, sim *tenantsim.Sim, snap string, u tenantsim.UserInfo, file string) int {
	t.Helper()
	dump, err := sim.DumpMailbox(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	other := func(format string) []string {
		rep, err := a.Export(context.Background(), agent.ExportRequest{Selection: agent.Selection{Snapshot: snap, User: u.UPN},
			Format: format, Dest: filepath.Join(t.TempDir(), format)})
		if err != nil {
			t.Fatalf("export %s: %v", format, err)
		}
		var docs []string
		for _, f := range rep.Files {
			b, _ := os.ReadFile(f)
			docs = append(docs, string(b))
		}
		return docs
	}
	wantCards, wantEvents := lines(other("vcf"), "FN:"), lines(other("ics"), "SUMMARY:")
	want := len(dump.Messages) + len(wantCards) + len(wantEvents)
	for name, store := range map[string]psttest.Store{"readpst": psttest.Readpst(t, file), "pffexport": psttest.Pffexport(t, file)} {
		if store.Count() != want {
			t.Errorf("%s: %s: %d items, want %d messages, %d contacts, %d events", name, u.UPN, store.Count(),
				len(dump.Messages), len(wantCards), len(wantEvents))
		}
		for _, m := range dump.Messages {
			checkPSTMessage(t, name, store[m.FolderPath], parseParts(t, m.MIME), m.FolderPath)
		}
		if name != "readpst" {
			continue
		}
		var cards, events []string
		for _, items := range store {
			for _, it := range items {
				cards, events = append(cards, it.Card), append(events, it.Event)
			}
		}
		if got := lines(cards, "FN:"); strings.Join(got, "|") != strings.Join(wantCards, "|") {
			t.Errorf("readpst: %s: contacts %v, the VCF export has %v", u.UPN, got, wantCards)
		}
		if got := lines(events, "SUMMARY:"); strings.Join(got, "|") != strings.Join(wantEvents, "|") {
			t.Errorf("readpst: %s: events %v, the ICS export has %v", u.UPN, got, wantEvents)
		}
	}
	return want
}

// checkPSTMessage finds a message by subject among a folder's items and
// compares its bodies and attachments; with several of one subject, one
// of them must match.
func checkPSTMessage(t *testing.T, reader string, items []psttest.Item, want mimeParts, folder string) {
	t.Helper()
	var problems []string
	for _, it := range items {
		if it.Kind != "message" || it.Subject != want.subject && (reader != "pffexport" || it.Subject != psttest.BMP(want.subject)) {
			continue
		}
		p := messageDiff(it, want)
		if p == "" {
			return
		}
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		problems = append(problems, "no such message")
	}
	t.Errorf("%s: %s: %q: %s", reader, folder, want.subject, strings.Join(problems, "; "))
}

// messageDiff says how an extracted message differs from the MIME it was
// made from, or "".
func messageDiff(it psttest.Item, want mimeParts) string {
	if want.text != "" && norm(it.Text) != norm(want.text) {
		return fmt.Sprintf("body %q, want %q", it.Text, want.text)
	}
	if want.html != "" && norm(it.HTML) != norm(want.html) {
		return fmt.Sprintf("HTML %.200q, want %.200q", it.HTML, want.html)
	}
	for name, data := range want.files {
		if !bytes.Equal(it.Attachments[name], data) {
			return fmt.Sprintf("attachment %s: %d bytes read, %d backed up", name, len(it.Attachments[name]), len(data))
		}
	}
	return ""
}

// TestExportPSTSplit exports a mailbox with a small split size: it comes
// out as numbered files, none larger than the limit, each one a PST that
// readpst reads, and together they hold every item of the unsplit export.
func TestExportPSTSplit(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sel := agent.Selection{Snapshot: full.Snapshot, User: firstMailboxUser(sim).UPN}
	whole, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "pst", Dest: filepath.Join(dir, "whole")})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1 << 20
	rep, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "pst", Dest: filepath.Join(dir, "split"), SplitSize: limit})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(whole.Files[0])
	if len(rep.Files) < 2 || len(rep.Files) > int(st.Size()/limit)*2+2 {
		t.Fatalf("split of a %d-byte PST at %d bytes wrote %d files: %v", st.Size(), limit, len(rep.Files), rep.Files)
	}
	items := 0
	for i, f := range rep.Files {
		if want := fmt.Sprintf("-%03d.pst", i+1); !strings.HasSuffix(f, want) {
			t.Errorf("part %d is %s, want a name ending in %s", i+1, f, want)
		}
		n := psttest.Readpst(t, f).Count()
		// Only a part of one item, larger than the limit itself, may
		// pass it.
		if st, err := os.Stat(f); err != nil || st.Size() > limit && n > 1 {
			t.Errorf("part %s: %v, %d bytes in %d items, over the %d-byte limit", f, err, st.Size(), n, limit)
		}
		items += n
	}
	if items != whole.Items || rep.Items != whole.Items {
		t.Errorf("the parts hold %d items (report: %d), the whole export %d", items, rep.Items, whole.Items)
	}
	refused := filepath.Join(dir, "refused")
	for _, tc := range []struct {
		name string
		req  agent.ExportRequest
		want string
	}{
		{"split size too small", agent.ExportRequest{Selection: sel, Dest: refused, SplitSize: 1000}, "give --split-size a larger value"},
		{"kind a PST does not hold", agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot, Kind: "files"}, Dest: refused},
			"format pst holds mail, contacts and calendar, not files"},
		{"unknown mailbox", agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: sel.User + ",nobody@contoso.test"}, Dest: refused},
			"holds no mail, contacts or calendar of nobody@contoso.test matching the selection; list its mailboxes with 'strongroom ls"},
		{"no destination", agent.ExportRequest{Selection: sel}, "name the export destination directory (--dest)"},
	} {
		tc.req.Format = "pst"
		if _, err := a.Export(ctx, tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkExportPST measures a PST export of every mailbox of a
// simulated tenant the size of the demo's (6 users) and a larger one (50),
// from a vault on temporary disks. The backup that fills the vault is
// setup and not timed; removing each run's files is not timed either.
// Throughput (MB/s) counts the backed-up bytes read; pst-MB/s the PST
// bytes written.
func BenchmarkExportPST(b *testing.B) {
	for _, users := range []int{6, 50} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			_, a, dir := newAgent(b, users, tenantsim.Config{})
			ctx := context.Background()
			full, err := a.Backup(ctx, agent.BackupRequest{})
			if err != nil {
				b.Fatal(err)
			}
			var read, written int64
			b.ResetTimer()
			for i := range b.N {
				dest := filepath.Join(dir, fmt.Sprint("pst", i))
				rep, err := a.Export(ctx, agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot}, Format: "pst", Dest: dest})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				read, written = rep.Bytes, 0
				for _, f := range rep.Files {
					if st, err := os.Stat(f); err == nil {
						written += st.Size()
					}
				}
				os.RemoveAll(dest)
				b.StartTimer()
			}
			b.SetBytes(read)
			b.ReportMetric(float64(written)*float64(b.N)/1e6/b.Elapsed().Seconds(), "pst-MB/s")
			b.ReportMetric(float64(written), "pst-bytes")
		})
	}
}
