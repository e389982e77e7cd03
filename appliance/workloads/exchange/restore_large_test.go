package exchange_test

import (
	"context"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestRestoreLargeMessages guards issue 13 item 10: a 35 MB message with
// a 30 MiB attachment and one with a 140 MB attachment, more than the
// 4 MB a Graph request carries, are backed up byte for byte, deleted, and
// restored through attachment upload sessions with every header, body
// and attachment intact; a backup then reads them back whole.
func TestRestoreLargeMessages(t *testing.T) {
	e := newEnv(t)
	const folder = "Large"
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "large-mail", User: e.user.Name, Folder: folder}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, m := range e.dump().Messages {
		if m.FolderPath == folder {
			want[m.Subject] = m.MIME
		}
	}
	if len(want) != len(tenantsim.LargeMail) {
		t.Fatalf("%d messages in %s, want %d", len(want), folder, len(tenantsim.LargeMail))
	}
	_, s1 := e.run(nil, exchange.Options{})
	e.checkMail(s1)
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: e.user.Name, Folder: folder}); err != nil {
		t.Fatal(err)
	}
	var sel []vault.Item
	for _, it := range e.items(&s1) {
		if it.Meta["folder"] == folder && strings.HasSuffix(it.Path, ".eml") {
			sel = append(sel, it)
		}
	}
	base := e.sim.Counters()
	// Through the workload, as the agent restores: the MIME streams from
	// the vault.
	res, err := exchange.Workload{}.Restore(context.Background(), e.restore, e.v, sel, workloads.RestoreOptions{TargetUserID: e.user.ID})
	if err != nil || res.Restored != len(want) || res.Failed != 0 {
		t.Fatalf("restore: %+v, %v; want %d restored", res, err, len(want))
	}
	// 30 MiB and 4 MiB leave the first message (what stays fits in one
	// request), 140 MB the second; chunks are 3.75 MiB.
	if got := requestsSince(e.sim, base)["upload"]; got != 8+2+36 {
		t.Errorf("%d upload-session PUTs, want 46", got)
	}
	got := map[string][]byte{}
	for _, m := range e.dump().Messages {
		if m.FolderPath == folder {
			got[m.Subject] = m.MIME
		}
	}
	for subject, w := range want {
		g, ok := got[subject]
		if !ok {
			t.Errorf("%q not restored into %s", subject, folder)
			continue
		}
		if err := tenantsim.CompareMIME(w, g); err != nil {
			t.Errorf("%s: %v", subject, err)
		}
	}
	_, s2 := e.run(&s1, exchange.Options{})
	e.checkMail(s2)
}

// TestRestoreTooLargeWithoutAttachments guards the failure a user meets
// with a message over the limit that has nothing to upload separately:
// the item fails, the message says why and what to do, and nothing is
// left half made.
func TestRestoreTooLargeWithoutAttachments(t *testing.T) {
	e := newEnv(t)
	big := "From: a@fabrikam.example\r\nTo: " + e.user.Name + "\r\nSubject: long\r\nMessage-ID: <long@fabrikam.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("eine sehr lange Zeile Text\r\n", 200_000)
	it := vault.Item{Path: exchange.PathPrefix(e.user.ID) + "mail/x/long.eml", Size: int64(len(big)), Meta: map[string]string{
		catalog.MetaKind: catalog.KindMessage, catalog.MetaWorkload: exchange.Name, catalog.MetaUserID: e.user.ID,
		catalog.MetaUser: e.user.Name, catalog.MetaFolder: "Inbox", catalog.MetaMessageID: "<long@fabrikam.example>"}}
	read := func(vault.Item) ([]byte, error) { return []byte(big), nil }
	before := len(e.dump().Messages)
	res, err := exchange.RestoreItems(context.Background(), e.restore, read, []vault.Item{it}, workloads.RestoreOptions{TargetUserID: e.user.ID})
	if err != nil || res.Failed != 1 || len(res.Errors) != 1 {
		t.Fatalf("restore: %+v, %v; want one failed item", res, err)
	}
	for _, w := range []string{"message of 5.6 MB", "a request carries at most 4 MB", "strongroom export"} {
		if !strings.Contains(res.Errors[0], w) {
			t.Errorf("error %q lacks %q", res.Errors[0], w)
		}
	}
	if n := len(e.dump().Messages); n != before {
		t.Errorf("%d messages after the failed restore, want %d", n, before)
	}
}
