package tenantsim_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKModifyMessagesDelta guards modify-messages: the changed
// messages come back from the folder's next delta as changed (whole, not
// @removed), with a new changeKey, a later lastModifiedDateTime, isRead
// flipped and a category, while their id, folder and MIME stay.
func TestSimSDKModifyMessagesDelta(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	before, err := s.DumpMailbox(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		changeKey, modified string
		isRead              bool
	}
	// The scenario takes the first messages of the folder, in the order
	// the dump lists them; read their state before it runs.
	var first []string
	old := map[string]state{}
	for _, m := range before.Messages {
		if m.FolderPath == "Inbox" && len(first) < 3 {
			first = append(first, m.ID)
			g, err := c.Users().ByUserId(u.ID).Messages().ByMessageId(m.ID).Get(ctx, nil)
			if err != nil {
				t.Fatalf("message %s: %v", m.ID, err)
			}
			old[m.ID] = state{*g.GetChangeKey(), g.GetLastModifiedDateTime().String(), *g.GetIsRead()}
		}
	}
	_, _, link := messagesDelta(t, c, u.ID, "inbox", "")
	res, err := s.Apply(tenantsim.Scenario{Name: "modify-messages", User: u.UPN, Folder: "Inbox", Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.ItemsModified != 3 || !slices.Equal(res.IDs, first) {
		t.Fatalf("modify-messages result %+v, want the first 3 of Inbox %v", res, first)
	}

	seen, removed, _ := messagesDelta(t, c, u.ID, "inbox", link)
	if !slices.Equal(seen, res.IDs) || len(removed) != 0 {
		t.Fatalf("delta after modify-messages: seen %v removed %v, want seen %v", seen, removed, res.IDs)
	}
	for _, id := range res.IDs {
		m, err := c.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Messages().ByMessageId(id).Get(ctx, nil)
		if err != nil {
			t.Fatalf("message %s: %v", id, err)
		}
		o := old[id]
		if *m.GetChangeKey() == o.changeKey || m.GetLastModifiedDateTime().String() <= o.modified || *m.GetIsRead() == o.isRead {
			t.Errorf("message %s: changeKey %s→%s, modified %s→%s, isRead %v→%v; want all changed", id, o.changeKey, *m.GetChangeKey(), o.modified, m.GetLastModifiedDateTime(), o.isRead, *m.GetIsRead())
		}
		if len(m.GetCategories()) != 1 {
			t.Errorf("message %s: categories %v, want one", id, m.GetCategories())
		}
	}
	after, _ := s.DumpMailbox(u.ID)
	if len(after.Messages) != len(before.Messages) {
		t.Fatalf("modify-messages changed the message count: %d → %d", len(before.Messages), len(after.Messages))
	}
	for i := range before.Messages {
		a, b := after.Messages[i], before.Messages[i]
		if a.ID != b.ID || a.FolderID != b.FolderID || !bytes.Equal(a.MIME, b.MIME) {
			t.Errorf("message %s changed id, folder or MIME", b.ID)
		}
	}
}
