package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

var withPIM = exchange.Options{IncludeContacts: true, IncludeCalendars: true}

// pim counts the contacts and events of a snapshot by kind, folder (or
// calendar) and content, the server-owned properties left out.
func (e *env) pim(s vault.Snapshot) map[string]int {
	e.t.Helper()
	m := map[string]int{}
	for _, it := range e.items(&s) {
		k := it.Meta["kind"]
		if k != "contact" && k != "event" {
			continue
		}
		b, err := e.read(it)
		if err != nil {
			e.t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			e.t.Fatal(err)
		}
		for _, drop := range []string{"id", "@odata.etag", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId", "iCalUId"} {
			delete(v, drop)
		}
		key, _ := json.Marshal(v)
		m[k+"\x00"+it.Meta["folder"]+"\x00"+string(key)]++
	}
	return m
}

// split parts counts into those whose folder starts with prefix or
// Contacts/prefix, and the others.
func split(counts map[string]int, prefix string) (in, out map[string]int) {
	in, out = map[string]int{}, map[string]int{}
	for k, n := range counts {
		_, rest, _ := strings.Cut(k, "\x00")
		if strings.HasPrefix(rest, prefix) || strings.HasPrefix(rest, "Contacts/"+prefix) {
			in[k] = n
		} else {
			out[k] = n
		}
	}
	return in, out
}

func (e *env) pimItems(s vault.Snapshot) []vault.Item {
	var sel []vault.Item
	for _, it := range e.items(&s) {
		if k := it.Meta["kind"]; k == "contact" || k == "event" {
			sel = append(sel, it)
		}
	}
	return sel
}

func diff(got, want map[string]int) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if got[k] != want[k] {
			out = append(out, fmt.Sprintf("%d, want %d: %.120q", got[k], want[k], k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[k]; !ok {
			out = append(out, fmt.Sprintf("missing %d: %.120q", want[k], k))
		}
	}
	return strings.Join(out, "\n")
}

// TestRestorePIMCollisionsBeneathFolder guards issue 13 point 2: contacts
// and events restored beneath a folder go into their own contact folders
// and into calendars made for their own calendars, and restoring them
// again with skip or replace leaves exactly one of each, with copy two.
func TestRestorePIMCollisionsBeneathFolder(t *testing.T) {
	e := newEnv(t)
	_, s1 := e.run(nil, withPIM)
	sel := e.pimItems(s1)
	orig := e.pim(s1)
	const target = "Zurück"
	// Contacts keep their path below the target folder; each calendar
	// becomes the calendar "<target> - <name>".
	want := map[string]int{}
	for k, n := range orig {
		kind, rest, _ := strings.Cut(k, "\x00")
		if kind == "contact" {
			// The target folder takes the place of the default one.
			want[kind+"\x00Contacts/"+target+strings.TrimPrefix(rest, "Contacts")] = n
		} else {
			want[kind+"\x00"+target+" - "+rest] = n
		}
	}
	cases := []struct {
		collision                   string
		restored, skipped, replaced int
		copies                      int
	}{
		{collision: "skip", restored: len(sel), copies: 1},
		{collision: "skip", skipped: len(sel), copies: 1},
		{collision: "replace", replaced: len(sel), copies: 1},
		{collision: "copy", restored: len(sel), copies: 2},
	}
	prev := s1
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d-%s", i, c.collision), func(t *testing.T) {
			res, err := exchange.RestoreItems(context.Background(), e.restore, e.read, sel,
				workloads.RestoreOptions{TargetUserID: e.user.ID, TargetFolder: target, Collision: c.collision})
			if err != nil || res.Restored != c.restored || res.Skipped != c.skipped || res.Replaced != c.replaced || res.Failed != 0 {
				t.Fatalf("restore: %+v, %v; want restored %d skipped %d replaced %d", res, err, c.restored, c.skipped, c.replaced)
			}
			_, s := e.run(&prev, withPIM)
			prev = s
			exp := map[string]int{}
			for k, n := range want {
				exp[k] = n * c.copies
			}
			got, rest := split(e.pim(s), target)
			if d := diff(got, exp); d != "" {
				t.Errorf("beneath %q after the restore:\n%s", target, d)
			}
			if d := diff(rest, orig); d != "" {
				t.Errorf("the original contacts and events changed:\n%s", d)
			}
		})
	}
}

// TestRestorePIMInPlace guards the in-place restore of contacts and
// events: restored into their own mailbox with skip nothing is
// duplicated (matched by immutable ID); those deleted since come back
// into their own contact folder and their own calendar, not the default.
func TestRestorePIMInPlace(t *testing.T) {
	e := newEnv(t)
	_, s1 := e.run(nil, withPIM)
	sel := e.pimItems(s1)
	orig := e.pim(s1)
	restore := func(collision string) workloads.RestoreResult {
		t.Helper()
		res, err := exchange.RestoreItems(context.Background(), e.restore, e.read, sel,
			workloads.RestoreOptions{TargetUserID: e.user.ID, Collision: collision})
		if err != nil || res.Failed != 0 {
			t.Fatalf("restore: %+v, %v", res, err)
		}
		return res
	}
	if res := restore("skip"); res.Skipped != len(sel) || res.Restored != 0 {
		t.Errorf("restore into the unchanged mailbox: %+v, want all %d skipped", res, len(sel))
	}
	// Delete a contact of a contact folder other than the default and an
	// event of a calendar other than the default.
	deleted := map[string]bool{}
	for _, it := range sel {
		f := it.Meta["folder"]
		kind := it.Meta["kind"]
		if deleted[kind] || (kind == "contact" && f == "Contacts") || (kind == "event" && f == "Calendar") {
			continue
		}
		var err error
		ub := e.restore.SDK.Users().ByUserId(e.user.ID)
		if kind == "event" {
			err = ub.Events().ByEventId(it.Meta["item_id"]).Delete(context.Background(), nil)
		} else {
			err = ub.Contacts().ByContactId(it.Meta["item_id"]).Delete(context.Background(), nil)
		}
		if err != nil {
			t.Fatalf("delete %s %s: %v", kind, it.Meta["item_id"], err)
		}
		deleted[kind] = true
	}
	if len(deleted) != 2 {
		t.Fatalf("found no contact or event outside the default folders to delete: %v", deleted)
	}
	if res := restore("skip"); res.Restored != 2 || res.Skipped != len(sel)-2 {
		t.Errorf("restore after deleting a contact and an event: %+v, want 2 restored, %d skipped", res, len(sel)-2)
	}
	_, s2 := e.run(&s1, withPIM)
	if d := diff(e.pim(s2), orig); d != "" {
		t.Errorf("contacts and events after the in-place restore differ from the backup:\n%s", d)
	}
	if res := restore("replace"); res.Replaced != len(sel) {
		t.Errorf("replace in place: %+v, want %d replaced", res, len(sel))
	}
	_, s3 := e.run(&s2, withPIM)
	if d := diff(e.pim(s3), orig); d != "" {
		t.Errorf("contacts and events after replace in place differ from the backup:\n%s", d)
	}
}
