package catalog_test

import (
	"errors"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

func msg(user, folder, subject, from, date string) vault.Item {
	return vault.Item{Path: "exchange/" + user + "/mail/" + folder + "/" + subject + ".eml", Size: 100, Meta: map[string]string{
		catalog.MetaKind: catalog.KindMessage, catalog.MetaUser: user, catalog.MetaFolder: folder,
		catalog.MetaSubject: subject, catalog.MetaFrom: from, catalog.MetaDate: date, catalog.MetaItemID: "id-" + subject,
	}}
}

// TestCatalogListAndFind guards browsing by display path and searching by
// user, sender, subject and date.
func TestCatalogListAndFind(t *testing.T) {
	c, err := catalog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	items := []vault.Item{
		msg("alice@contoso.com", "Inbox", "Quarterly numbers", "bob@contoso.com", "2026-10-01T09:00:00Z"),
		msg("alice@contoso.com", "Inbox/Signed Contracts", "Contract 7", "legal@contoso.com", "2026-09-01T09:00:00Z"),
		msg("alice@contoso.com", "Inbox/Signed Contracts", "Contract 8", "legal@contoso.com", "2026-11-01T09:00:00Z"),
		msg("carol@contoso.com", "Inbox", "Lunch", "bob@contoso.com", "2026-11-02T09:00:00Z"),
		{Path: "exchange/alice/_state/mail/x.delta", Meta: map[string]string{catalog.MetaKind: catalog.KindState, catalog.MetaUser: "alice@contoso.com"}},
	}
	if c.Indexed("s1") {
		t.Fatal("empty catalog claims s1 is indexed")
	}
	err = c.Add("s1", func(fn func(vault.Item) error) error {
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	top, err := c.List("s1", "")
	if err != nil || len(top) != 2 || top[0].Name != "alice@contoso.com" || top[0].Items != 3 {
		t.Fatalf("top level = %+v, %v; want alice (3 items, state hidden) and carol", top, err)
	}
	inbox, _ := c.List("s1", "alice@contoso.com/Mail/Inbox")
	if len(inbox) != 2 || inbox[0].Name != "Quarterly numbers [id-Quarter].eml" && inbox[1].Name != "Signed Contracts" {
		t.Fatalf("inbox listing = %+v", inbox)
	}
	// A path the snapshot holds nothing at is an error, not an empty
	// listing; the path of one item lists that item.
	for _, dir := range []string{"nobody@x/Mail", "alice@contoso.com/Mail/No such folder"} {
		if got, err := c.List("s1", dir); !errors.Is(err, catalog.ErrNoPath) {
			t.Errorf("List(%q) = %+v, %v; want ErrNoPath", dir, got, err)
		}
	}
	if len(inbox) > 0 && inbox[0].Leaf != nil {
		one, err := c.List("s1", inbox[0].View)
		if err != nil || len(one) != 1 || one[0].Leaf == nil || one[0].Leaf.Path != inbox[0].Leaf.Path {
			t.Errorf("List of the item %q = %+v, %v; want that item", inbox[0].View, one, err)
		}
	}
	cases := []struct {
		name string
		q    catalog.Query
		want int
	}{
		{"by user", catalog.Query{User: "alice@contoso.com"}, 3},
		{"by sender", catalog.Query{From: "LEGAL@"}, 2},
		{"by folder", catalog.Query{Folder: "Inbox/Signed"}, 2},
		{"by subject and date", catalog.Query{Subject: "contract", After: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}, 1},
		{"nothing", catalog.Query{Subject: "nope"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			if err := c.Find("s1", tc.q, func(catalog.Entry) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Fatalf("found %d, want %d", n, tc.want)
			}
		})
	}
	if err := c.Drop("s1"); err != nil || c.Indexed("s1") {
		t.Fatalf("Drop: %v, still indexed %v", err, c.Indexed("s1"))
	}
}

// TestCatalogViewPathTeams guards how teams and groups browse: a team's
// channels with their threads by time, author and first words, deleted
// messages named so, and a group's conversations beside them under the
// group's mail address.
func TestCatalogViewPathTeams(t *testing.T) {
	team := map[string]string{catalog.MetaUser: "sales@contoso.com", catalog.MetaUserID: "g1", catalog.MetaFolder: "General"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	for _, tc := range []struct {
		name string
		meta map[string]string
		want string
	}{
		{"channel", with(team, catalog.MetaKind, catalog.KindChannel), "sales@contoso.com/Channels/General/.channel"},
		{"message", with(team, catalog.MetaKind, catalog.KindChannelMessage, catalog.MetaDate, "2026-03-14T09:30:12Z", catalog.MetaFrom, "Alice Example",
			catalog.MetaSubject, "Budget 1/2 frei", catalog.MetaItemID, "1700000000001"),
			"sales@contoso.com/Channels/General/2026-03-14T09:30Z Alice Example – Budget 1∕2 frei [0000000001].json"},
		{"deleted message", with(team, catalog.MetaKind, catalog.KindChannelMessage, catalog.MetaDate, "2026-03-14T09:30:12Z", catalog.MetaFrom, "Bob",
			catalog.MetaItemID, "17", catalog.MetaDeleted, "2026-03-15T00:00:00Z"),
			"sales@contoso.com/Channels/General/2026-03-14T09:30Z Bob (deleted) [17].json"},
		{"thread", with(team, catalog.MetaKind, catalog.KindGroupThread, catalog.MetaFolder, "", catalog.MetaSubject, "Sommerfest", catalog.MetaItemID, "T1"),
			"sales@contoso.com/Conversations/Sommerfest [T1].json"},
		{"team record", with(team, catalog.MetaKind, catalog.KindTeam), "sales@contoso.com/.state/g1/_team.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := "teams/g1/_team.json"
			if got := catalog.ViewPath(vault.Item{Path: p, Meta: tc.meta}); got != tc.want {
				t.Errorf("ViewPath = %q, want %q", got, tc.want)
			}
		})
	}
}
