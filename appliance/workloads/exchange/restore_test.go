package exchange_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// restoredMIME lists the MIME of every message now under root, keyed by
// the path below root, sorted.
func restoredMIME(d tenantsim.MailboxDump, root string) []string {
	var out []string
	for _, m := range d.Messages {
		if rel, ok := strings.CutPrefix(m.FolderPath, root+"/"); ok {
			out = append(out, rel+"\x00"+string(m.MIME))
		}
	}
	slices.Sort(out)
	return out
}

// TestRestoreDeletedFolder guards the demo's story: a user deletes
// "Signed Contracts", the next backup no longer holds it, and restoring it
// from the earlier snapshot into a new folder brings back every message
// byte for byte in its original structure; then each collision policy
// does what it says.
func TestRestoreDeletedFolder(t *testing.T) {
	e := newEnv(t)
	_, s1 := e.run(nil, exchange.Options{})
	const folder = "Inbox/" + tenantsim.SignedContractsFolder
	var want []string
	for _, m := range e.dump().Messages {
		if m.FolderPath == folder || strings.HasPrefix(m.FolderPath, folder+"/") {
			want = append(want, m.FolderPath+"\x00"+string(m.MIME))
		}
	}
	slices.Sort(want)
	if len(want) < 2 {
		t.Fatalf("only %d messages in %s", len(want), folder)
	}
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: e.user.Name, Folder: folder}); err != nil {
		t.Fatal(err)
	}
	_, s2 := e.run(&s1, exchange.Options{})
	e.checkMail(s2)
	var sel []vault.Item
	for _, it := range e.items(&s1) {
		if f := it.Meta["folder"]; f == folder || strings.HasPrefix(f, folder+"/") {
			sel = append(sel, it)
		}
	}

	// The backup app holds read roles only: restoring with it is refused.
	_, err := exchange.RestoreItems(context.Background(), e.backup, e.read, sel, workloads.RestoreOptions{TargetUserID: e.user.ID, TargetFolder: "Nope"})
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 403 {
		t.Errorf("restore with the backup app: err %v, want a 403", err)
	}

	const target = "Restored test"
	cases := []struct {
		collision                   string
		restored, skipped, replaced int
		copies                      int // of each message afterwards
	}{
		{collision: "", restored: len(want), copies: 1},
		{collision: exchange.CollisionSkip, skipped: len(want), copies: 1},
		{collision: exchange.CollisionReplace, replaced: len(want), copies: 1},
		{collision: exchange.CollisionCopy, restored: len(want), copies: 2},
	}
	for _, c := range cases {
		t.Run("collision="+c.collision, func(t *testing.T) {
			res, err := exchange.RestoreItems(context.Background(), e.restore, e.read, sel,
				workloads.RestoreOptions{TargetUserID: e.user.ID, TargetFolder: target, Collision: c.collision})
			if err != nil {
				t.Fatal(err)
			}
			if res.Restored != c.restored || res.Skipped != c.skipped || res.Replaced != c.replaced || res.Failed != 0 {
				t.Errorf("result %+v, want restored %d skipped %d replaced %d", res, c.restored, c.skipped, c.replaced)
			}
			var exp []string
			for _, w := range want {
				for range c.copies {
					exp = append(exp, w)
				}
			}
			slices.Sort(exp)
			if got := restoredMIME(e.dump(), target); !slices.Equal(got, exp) {
				t.Errorf("%d messages under %q, want %d byte-identical to the originals in their original folders", len(got), target, len(exp))
			}
		})
	}
}

// TestRestoreContactsAndEvents guards the round trip of contacts and
// events: restored from their stored JSON, they read back with the same
// names, subjects, recurrence and attendees.
func TestRestoreContactsAndEvents(t *testing.T) {
	e := newEnv(t)
	_, s := e.run(nil, exchange.Options{IncludeContacts: true, IncludeCalendars: true})
	var sel []vault.Item
	for _, it := range e.items(&s) {
		if k := it.Meta["kind"]; k == "contact" || k == "event" {
			sel = append(sel, it)
		}
	}
	res, err := exchange.RestoreItems(context.Background(), e.restore, e.read, sel, workloads.RestoreOptions{TargetUserID: e.user.ID, TargetFolder: "Restored contacts"})
	if err != nil || res.Restored != len(sel) || res.Failed != 0 {
		t.Fatalf("restore: %+v, %v; want %d restored", res, err, len(sel))
	}
	// Back up again: the restored copies are new items in a new contact
	// folder and in the calendars, equal to the originals but for the
	// server-owned properties.
	_, s2 := e.run(&s, exchange.Options{IncludeContacts: true, IncludeCalendars: true})
	count := func(items []vault.Item) map[string]int {
		m := map[string]int{}
		for _, it := range items {
			if k := it.Meta["kind"]; k == "contact" || k == "event" {
				b, err := e.read(it)
				if err != nil {
					t.Fatal(err)
				}
				var v map[string]any
				if err := json.Unmarshal(b, &v); err != nil {
					t.Fatal(err)
				}
				for _, drop := range []string{"id", "@odata.etag", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId", "iCalUId"} {
					delete(v, drop)
				}
				key, _ := json.Marshal(v)
				m[k+" "+string(key)]++
			}
		}
		return m
	}
	before, after := count(e.items(&s)), count(e.items(&s2))
	for k, n := range before {
		if after[k] != 2*n {
			t.Errorf("%d copies after restore, want %d: %.200s", after[k], 2*n, k)
		}
	}
}
