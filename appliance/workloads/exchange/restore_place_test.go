package exchange_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestRestoreInPlace guards issue 13 point 3: a deleted folder restored
// without a target folder comes back at its original path, byte for
// byte; naming its parent as the target folder is the same place (no
// Inbox/Inbox), so skip then finds every message there; restored into
// another user's mailbox, it goes beneath a folder named after the
// source user and the snapshot's time.
func TestRestoreInPlace(t *testing.T) {
	e := newEnv(t)
	_, s1 := e.run(nil, exchange.Options{})
	const folder = "Inbox/" + tenantsim.SignedContractsFolder
	inFolder := func(f string) bool { return f == folder || strings.HasPrefix(f, folder+"/") }
	var want []string
	for _, m := range e.dump().Messages {
		if inFolder(m.FolderPath) {
			want = append(want, m.FolderPath+"\x00"+string(m.MIME))
		}
	}
	slices.Sort(want)
	var sel []vault.Item
	for _, it := range e.items(&s1) {
		if inFolder(it.Meta["folder"]) && it.Meta["kind"] == "message" {
			sel = append(sel, it)
		}
	}
	if len(want) < 2 || len(sel) != len(want) {
		t.Fatalf("%d messages in %s, %d selected", len(want), folder, len(sel))
	}
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: e.user.Name, Folder: folder}); err != nil {
		t.Fatal(err)
	}
	restore := func(user, target string) workloads.RestoreResult {
		t.Helper()
		res, err := exchange.RestoreItems(context.Background(), e.restore, e.read, sel, workloads.RestoreOptions{
			TargetUserID: user, TargetFolder: target, SourceFolder: folder, SnapshotTime: s1.Created})
		if err != nil || res.Failed != 0 {
			t.Fatalf("restore into %s, target folder %q: %+v, %v", user, target, res, err)
		}
		return res
	}
	if res := restore(e.user.ID, ""); res.Restored != len(sel) || res.Folder != "" {
		t.Errorf("in place: %+v, want %d restored to their original places", res, len(sel))
	}
	if got := restoredMIME(e.dump(), "Inbox"); !slices.Equal(only(got, tenantsim.SignedContractsFolder), trimFolder(want, "Inbox/")) {
		t.Errorf("%d messages under Inbox after the restore, want the %d originals at %s byte for byte", len(got), len(want), folder)
	}
	if res := restore(e.user.ID, "Inbox"); res.Skipped != len(sel) || res.Restored != 0 {
		t.Errorf("target folder Inbox: %+v, want all %d skipped in Inbox/%s", res, len(sel), tenantsim.SignedContractsFolder)
	}
	for _, f := range e.dump().Folders {
		if strings.HasPrefix(f.Path, "Inbox/Inbox") {
			t.Errorf("folder %s made: the target folder was taken as a new folder, not as the parent", f.Path)
		}
	}

	var other tenantsim.UserInfo
	for _, u := range e.sim.Users() {
		if u.Licensed && !u.Deleted && u.ID != e.user.ID {
			other = u
			break
		}
	}
	res := restore(other.ID, "")
	base := "Restored from " + e.user.Name + " " + s1.Created.UTC().Format("2006-01-02 15.04")
	if res.Restored != len(sel) || res.Folder != base {
		t.Errorf("into %s: %+v, want %d restored beneath %q", other.UPN, res, len(sel), base)
	}
	d, err := e.sim.DumpMailbox(other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := restoredMIME(d, base); !slices.Equal(got, want) {
		t.Errorf("%d messages beneath %q of %s, want the %d originals in their structure", len(got), base, other.UPN, len(want))
	}
}

// trimFolder cuts prefix off the folder part of restoredMIME's entries.
func trimFolder(entries []string, prefix string) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = strings.TrimPrefix(e, prefix)
	}
	return out
}

// only keeps the entries of restoredMIME whose folder starts with prefix.
func only(entries []string, prefix string) []string {
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// TestRestoreInPlaceRenamedFolder guards in-place restore by immutable
// folder id: a folder renamed since the backup still is the message's
// place, so a deleted message goes back into it, the others are found
// there (skip), and no folder of the old name is made.
func TestRestoreInPlaceRenamedFolder(t *testing.T) {
	e := newEnv(t)
	_, s1 := e.run(nil, exchange.Options{})
	const folder = "Inbox/" + tenantsim.SignedContractsFolder
	const renamed = "Inbox/Contracts (signed)"
	var fid string
	for _, f := range e.dump().Folders {
		if f.Path == folder {
			fid = f.ID
		}
	}
	var sel []vault.Item
	for _, it := range e.items(&s1) {
		if it.Meta["folder"] == folder && it.Meta["kind"] == "message" {
			sel = append(sel, it)
		}
	}
	if fid == "" || len(sel) < 2 {
		t.Fatalf("folder %s (%q) holds %d messages", folder, fid, len(sel))
	}
	ctx := context.Background()
	ub := e.restore.SDK.Users().ByUserId(e.user.ID)
	patch := models.NewMailFolder()
	name := strings.TrimPrefix(renamed, "Inbox/")
	patch.SetDisplayName(&name)
	if _, err := ub.MailFolders().ByMailFolderId(fid).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("rename %s: %v", folder, err)
	}
	if err := ub.Messages().ByMessageId(sel[0].Meta["item_id"]).Delete(ctx, nil); err != nil {
		t.Fatalf("delete a message: %v", err)
	}
	res, err := exchange.RestoreItems(ctx, e.restore, e.read, sel, workloads.RestoreOptions{TargetUserID: e.user.ID, SourceFolder: folder})
	if err != nil || res.Restored != 1 || res.Skipped != len(sel)-1 || res.Failed != 0 {
		t.Fatalf("restore into the renamed folder: %+v, %v; want 1 restored, %d skipped", res, err, len(sel)-1)
	}
	n := 0
	for _, m := range e.dump().Messages {
		switch m.FolderPath {
		case renamed:
			n++
		case folder:
			t.Errorf("message %s restored into a new folder %s instead of the renamed one", m.ID, folder)
		}
	}
	if n != len(sel) {
		t.Errorf("%d messages in %s after the restore, want %d", n, renamed, len(sel))
	}
}
