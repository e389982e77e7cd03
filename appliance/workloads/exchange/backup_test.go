package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestBackupMailboxFull guards the first backup: every message stored as
// the exact MIME Graph serves, under its folder, with catalog metadata;
// every folder, contact and event recorded; a delta state per collection.
func TestBackupMailboxFull(t *testing.T) {
	e := newEnv(t)
	res, s := e.run(nil, exchange.Options{IncludeContacts: true, IncludeCalendars: true, PageSize: 7})
	e.checkMail(s)
	d := e.dump()
	if res.Failed != 0 || len(res.Errors) != 0 {
		t.Fatalf("clean full backup reported failures: %v", res.Errors)
	}
	kinds := map[string]int{}
	prefix := exchange.PathPrefix(e.user.ID)
	for _, it := range e.items(&s) {
		if !strings.HasPrefix(it.Path, prefix) {
			t.Errorf("item %s outside %s", it.Path, prefix)
		}
		m := it.Meta
		kinds[m["kind"]]++
		if m["workload"] != "exchange" || m["user_id"] != e.user.ID || m["user"] != e.user.Name {
			t.Errorf("item %s: meta %v lacks workload/user", it.Path, m)
		}
		switch m["kind"] {
		case "message":
			for _, k := range []string{"folder_id", "folder", "subject", "from", "to", "date", "item_id", "message_id", "change_key"} {
				if m[k] == "" {
					t.Errorf("message %s: meta %q empty", it.Path, k)
				}
			}
			if _, err := time.Parse(time.RFC3339, m["date"]); err != nil || !strings.HasSuffix(m["date"], "Z") {
				t.Errorf("message %s: date %q is not RFC 3339 UTC", it.Path, m["date"])
			}
		case "event":
			b, err := e.read(it)
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("event %s: stored JSON: %v", it.Path, err)
			}
			if ev["id"] != m["item_id"] || ev["start"] == nil || ev["attendees"] == nil {
				t.Errorf("event %s: stored JSON lacks id, start or attendees", it.Path)
			}
			if ev["recurrence"] != nil {
				kinds["recurring"]++
			}
		}
	}
	// Contacts: 12 in the default folder and its subfolder, 3 in the
	// subfolder's child.
	want := map[string]int{
		"message": len(d.Messages), "mail-folder": len(d.Folders), "contact": 15, "contact-folder": 3,
		"event": 10, "calendar": 2, "user": 1, "state": len(d.Folders) + 3 + 2,
	}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d items of kind %s, want %d", kinds[k], k, n)
		}
	}
	if kinds["recurring"] == 0 {
		t.Error("no stored event carries its recurrence")
	}
	if res.NewItems != len(d.Messages)+25 || res.CarriedItems != 0 || res.Items != res.NewItems {
		t.Errorf("result new=%d carried=%d items=%d, want %d new", res.NewItems, res.CarriedItems, res.Items, len(d.Messages)+25)
	}
	e.checkChildContacts(s)
	t.Logf("full backup: %d folders, %d items, %d bytes, %d requests", res.Collections, res.Items, res.Bytes, res.Requests)

	// An unchanged incremental downloads nothing and carries the nested
	// folder's contacts over as they were.
	res2, s2 := e.run(&s, exchange.Options{IncludeContacts: true, IncludeCalendars: true, PageSize: 7})
	if res2.Failed != 0 || res2.NewItems != 0 || res2.CarriedItems != res.Items || res2.Items != res.Items {
		t.Errorf("unchanged incremental: failed=%d new=%d carried=%d items=%d, want all %d carried: %v",
			res2.Failed, res2.NewItems, res2.CarriedItems, res2.Items, res.Items, res2.Errors)
	}
	e.checkChildContacts(s2)
}

// checkChildContacts asserts that s holds the contact folder the
// simulator nests in the user's first contact folder, as
// "Contacts/<parent>/<child>" with its parent's id, and each of its
// contacts byte for byte as the folder's delta serves it.
func (e *env) checkChildContacts(s vault.Snapshot) {
	e.t.Helper()
	ctx := context.Background()
	ub := e.backup.SDK.Users().ByUserId(e.user.ID)
	top, err := ub.ContactFolders().Get(ctx, nil)
	if err != nil || len(top.GetValue()) == 0 {
		e.t.Fatalf("list contact folders: %v", err)
	}
	parent := top.GetValue()[0]
	kids, err := ub.ContactFolders().ByContactFolderId(*parent.GetId()).ChildFolders().Get(ctx, nil)
	if err != nil || len(kids.GetValue()) != 1 {
		e.t.Fatalf("list child contact folders: %v", err)
	}
	child := kids.GetValue()[0]
	ri, err := ub.ContactFolders().ByContactFolderId(*child.GetId()).Contacts().Delta().ToGetRequestInformation(ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	body, err := e.backup.SDK.GetAdapter().SendPrimitive(ctx, ri, "[]byte", nil)
	if err != nil {
		e.t.Fatalf("child folder contacts delta: %v", err)
	}
	var page struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body.([]byte), &page); err != nil || page.NextLink != "" || len(page.Value) == 0 {
		e.t.Fatalf("child folder contacts delta: %d contacts on one page (next %q), %v", len(page.Value), page.NextLink, err)
	}

	folderPath := "Contacts/" + *parent.GetDisplayName() + "/" + *child.GetDisplayName()
	prefix := exchange.PathPrefix(e.user.ID) + "contacts/" + workloads.EscapeID(*child.GetId()) + "/"
	byPath := map[string]vault.Item{}
	for _, it := range e.items(&s) {
		byPath[it.Path] = it
	}
	rec, ok := byPath[prefix+"_folder.json"]
	if !ok || rec.Meta["kind"] != "contact-folder" || rec.Meta["folder"] != folderPath || rec.Meta["parent_id"] != *parent.GetId() {
		e.t.Errorf("child contact folder record %s: %v (present %v), want folder %q with parent %s", prefix, rec.Meta, ok, folderPath, *parent.GetId())
	}
	for _, raw := range page.Value {
		var c struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			e.t.Fatal(err)
		}
		it, ok := byPath[prefix+workloads.EscapeID(c.ID)+".json"]
		if !ok {
			e.t.Errorf("contact %s of %s not in the snapshot", c.ID, folderPath)
			continue
		}
		if it.Meta["kind"] != "contact" || it.Meta["folder"] != folderPath || it.Meta["folder_id"] != *child.GetId() {
			e.t.Errorf("contact %s stored with meta %v, want kind contact in %q", c.ID, it.Meta, folderPath)
		}
		b, err := e.read(it)
		if err != nil {
			e.t.Fatal(err)
		}
		if !bytes.Equal(b, raw) {
			e.t.Errorf("contact %s stored as %s, Graph serves %s", c.ID, b, raw)
		}
	}
}

// TestBackupMailboxIncremental guards incremental runs: after each kind
// of change the snapshot equals the mailbox, only changed messages are
// downloaded (a message moved to another folder keeps its immutable ID
// and is stored from the content the vault holds), and an unchanged
// mailbox costs about one request per folder.
func TestBackupMailboxIncremental(t *testing.T) {
	cases := []struct {
		name      string
		scenario  *tenantsim.Scenario
		downloads int // $value requests expected
		moved     int // stored again from the vault, in another folder
		removed   int // -1: every message the mailbox lost
	}{
		{name: "unchanged"},
		{name: "mail-burst", scenario: &tenantsim.Scenario{Name: "mail-burst", Count: 5}, downloads: 5},
		{name: "delete-messages", scenario: &tenantsim.Scenario{Name: "delete-messages", Folder: "Inbox", Count: 3}, removed: 3},
		{name: "move-messages", scenario: &tenantsim.Scenario{Name: "move-messages", Folder: "Inbox", To: "Archive", Count: 2}, moved: 2},
		{name: "delete-folder", scenario: &tenantsim.Scenario{Name: "delete-folder", Folder: "Signed Contracts"}, removed: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			_, s1 := e.run(nil, exchange.Options{})
			before := len(e.dump().Messages)
			if c.scenario != nil {
				sc := *c.scenario
				sc.User = e.user.Name
				if _, err := e.sim.Apply(sc); err != nil {
					t.Fatal(err)
				}
			}
			base := e.sim.Counters()
			res, s2 := e.run(&s1, exchange.Options{})
			e.checkMail(s2)
			got := requestsSince(e.sim, base)
			// Real Graph keeps a moved message's ID only for clients
			// that ask for immutable IDs, on every request.
			imm := e.sim.Counters().ImmutableIDs
			for _, class := range []string{"mail.delta", "mail.mime"} {
				if asked := imm[class] - base.ImmutableIDs[class]; asked != got[class] {
					t.Errorf("%d of %d %s requests asked for immutable IDs", asked, got[class], class)
				}
			}
			if got["mail.mime"] != int64(c.downloads) || res.NewItems != c.downloads {
				t.Errorf("downloaded %d MIME bodies (result says %d new), want %d", got["mail.mime"], res.NewItems, c.downloads)
			}
			after := len(e.dump().Messages)
			if c.removed < 0 {
				c.removed = before - after
			}
			// Removed: what the new snapshot lacks of the previous one,
			// the messages of a deleted folder included; a moved message
			// is not removed.
			if res.RemovedItems != c.removed {
				t.Errorf("removed %d, want %d", res.RemovedItems, c.removed)
			}
			if res.Items != after || res.CarriedItems != after-c.downloads-c.moved || res.MovedItems != c.moved {
				t.Errorf("items %d carried %d moved %d; mailbox has %d (was %d), want %d moved", res.Items, res.CarriedItems, res.MovedItems, after, before, c.moved)
			}
			if int64(res.Collections) != got["mail.delta"] {
				t.Errorf("%d delta requests for %d folders", got["mail.delta"], res.Collections)
			}
			if c.name == "unchanged" {
				// One delta per folder, plus the user record and the
				// folder tree (top level and folders with children).
				if res.Requests > int64(res.Collections)+6 {
					t.Errorf("unchanged incremental made %d requests for %d folders: %v", res.Requests, res.Collections, got)
				}
			}
			t.Logf("%s: %d folders, %d new, %d carried, %d moved, %d removed, %d requests %v", c.name, res.Collections, res.NewItems, res.CarriedItems, res.MovedItems, res.RemovedItems, res.Requests, got)
		})
	}
}

// TestBackupMailboxResync guards the 410 path: with every delta token
// voided, each collection is enumerated in full, only the messages that
// really changed are downloaded, and nothing is lost or duplicated.
func TestBackupMailboxResync(t *testing.T) {
	e := newEnv(t)
	o := exchange.Options{IncludeContacts: true, IncludeCalendars: true}
	_, s1 := e.run(nil, o)
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "mail-burst", User: e.user.Name, Count: 4}); err != nil {
		t.Fatal(err)
	}
	e.sim.ExpireDeltaTokens()
	base := e.sim.Counters()
	res, s2 := e.run(&s1, o)
	e.checkMail(s2)
	got := requestsSince(e.sim, base)
	if len(res.Resynced) != res.Collections {
		t.Errorf("resynced %d of %d collections: %v", len(res.Resynced), res.Collections, res.Resynced)
	}
	if got["mail.mime"] != 4 || res.NewItems != 4 {
		t.Errorf("resync downloaded %d MIME bodies (%d new items), want only the 4 new messages", got["mail.mime"], res.NewItems)
	}
	if n1, n2 := len(e.items(&s1)), len(e.items(&s2)); n2 != n1+4 {
		t.Errorf("snapshot after resync has %d items, want %d (+4)", n2, n1)
	}
	// The states written by the resync are valid: the next run is a
	// plain incremental again.
	res3, s3 := e.run(&s2, o)
	e.checkMail(s3)
	if len(res3.Resynced) != 0 || res3.NewItems != 0 {
		t.Errorf("run after resync: resynced %v, %d new", res3.Resynced, res3.NewItems)
	}
}

// TestBackupMailboxTruncatedBodies guards the failure rule: a body cut
// short is never stored; it is reported, its folder's state does not
// advance, and the next clean run completes the snapshot.
func TestBackupMailboxTruncatedBodies(t *testing.T) {
	e := newEnv(t)
	_, s1 := e.run(nil, exchange.Options{})
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "mail-burst", User: e.user.Name, Count: 12}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetFaults(tenantsim.Faults{TruncateRate: 0.3}); err != nil {
		t.Fatal(err)
	}
	var res workloads.Result
	var s2 = s1
	ok := false
	for attempt := 0; attempt < 40 && !ok; attempt++ {
		// The user record or folder tree may be cut short too, which
		// fails the whole mailbox before anything is written: try again.
		r, s, err := e.try(&s1, exchange.Options{ItemRetries: -1})
		if err == nil && r.Failed > 0 {
			res, s2, ok = r, s, true
		}
	}
	if !ok {
		t.Fatal("no run got past the folder tree with some failures under 30% truncation")
	}
	if err := e.sim.SetFaults(tenantsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != res.Failed {
		t.Errorf("%d failures but %d errors", res.Failed, len(res.Errors))
	}
	joined := strings.Join(res.Errors, "\n")
	d := e.dump()
	stored := e.stored(s2)
	prevItems := workloads.NewItemsPrevious(e.items(&s1), e.read)
	nowItems := workloads.NewItemsPrevious(e.items(&s2), e.read)
	folderPath := map[string]string{}
	for _, f := range d.Folders {
		folderPath[f.ID] = f.Path
	}
	for _, m := range d.Messages {
		it, ok := stored[m.ID]
		if !ok {
			if !strings.Contains(joined, m.ID) && !strings.Contains(joined, "mail/"+m.FolderPath+": enumerate") {
				t.Errorf("message %s missing from the snapshot and not reported: %s", m.ID, joined)
			}
			continue
		}
		b, err := e.read(it)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(m.MIME) {
			t.Errorf("message %s stored with %d bytes, the mailbox has %d", m.ID, len(b), len(m.MIME))
		}
	}
	for _, f := range d.Folders {
		if !strings.Contains(joined, "mail/"+f.Path+":") {
			continue
		}
		state := exchange.PathPrefix(e.user.ID) + "_state/mail/" + workloads.EscapeID(f.ID) + ".delta"
		was, _ := prevItems.Get(state)
		is, ok := nowItems.Get(state)
		if !ok || is.Hash != was.Hash {
			t.Errorf("folder %s failed but its delta state moved on", f.Path)
		}
	}
	t.Logf("faulty run: %d failed: %s", res.Failed, joined)

	res3, s3 := e.run(&s2, exchange.Options{})
	e.checkMail(s3)
	if res3.Failed != 0 {
		t.Errorf("clean run after faults still failed: %v", res3.Errors)
	}
}

// TestBackupMailboxGone guards the departed-user signal: a deleted user
// or one without a mailbox yields ErrMailboxGone.
func TestBackupMailboxGone(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		prep func() workloads.Unit
	}{
		{"deprovisioned", func() workloads.Unit {
			if _, err := e.sim.Apply(tenantsim.Scenario{Name: "deprovision-user", User: e.user.Name}); err != nil {
				t.Fatal(err)
			}
			return e.user
		}},
		{"never existed", func() workloads.Unit {
			return workloads.Unit{ID: "00000000-0000-4000-8000-000000000000", Name: "ghost@example"}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.user = c.prep()
			_, _, err := e.try(nil, exchange.Options{})
			if !errors.Is(err, workloads.ErrUnitGone) {
				t.Fatalf("err = %v, want ErrMailboxGone", err)
			}
		})
	}
}

func TestEscapeID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"AAMkAGI2", "AAMkAGI2"},
		{"AA/Mk+=", "AA%2FMk+="},
		{"a%2Fb", "a%252Fb"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := workloads.EscapeID(c.in); got != c.want {
				t.Errorf("EscapeID(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestBackupMailboxStoreError guards the sink rule: a failed vault write
// ends the backup with an error wrapping ErrStore, which the agent tells
// apart from a failed mailbox.
func TestBackupMailboxStoreError(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.tryHook(nil, exchange.Options{}, func(it vault.Item) error {
		if strings.HasSuffix(it.Path, ".eml") {
			return errors.New("injected: disk gone")
		}
		return nil
	})
	if !errors.Is(err, workloads.ErrStore) || errors.Is(err, workloads.ErrUnitGone) {
		t.Fatalf("err = %v, want ErrStore", err)
	}
}
