package exchange_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// once applies sc the first time a write matches, from the sink hook.
func (e *env) applyOn(match func(vault.Item) bool, sc tenantsim.Scenario) (func(vault.Item) error, *tenantsim.ScenarioResult) {
	var once sync.Once
	res := &tenantsim.ScenarioResult{}
	return func(it vault.Item) error {
		if match(it) {
			once.Do(func() {
				r, err := e.sim.Apply(sc)
				if err != nil {
					e.t.Errorf("apply %s: %v", sc.Name, err)
				}
				*res = r
			})
		}
		return nil
	}, res
}

func (e *env) isUserRecord(it vault.Item) bool {
	return it.Path == exchange.PathPrefix(e.user.ID)+"_user.json"
}

// TestBackupMailboxFolderGoneMidRun guards the enumeration rule for a 404:
// a folder deleted after the folder tree was listed is a failed
// collection like any other; its previous items and delta state are
// carried over and the failure is reported, and the next run records the
// deletion.
func TestBackupMailboxFolderGoneMidRun(t *testing.T) {
	e := newEnv(t)
	_, s1 := e.run(nil, exchange.Options{})
	var folderIDs []string
	for _, f := range e.dump().Folders {
		if strings.HasPrefix(f.Path, "Inbox/Signed Contracts") {
			folderIDs = append(folderIDs, f.ID)
		}
	}
	if len(folderIDs) == 0 {
		t.Fatal("the simulated mailbox has no Signed Contracts folder")
	}
	hook, _ := e.applyOn(e.isUserRecord, tenantsim.Scenario{Name: "delete-folder", User: e.user.Name, Folder: "Inbox/Signed Contracts"})
	res, s2, err := e.tryHook(&s1, exchange.Options{}, hook)
	if err != nil {
		t.Fatalf("BackupMailbox: %v", err)
	}
	joined := strings.Join(res.Errors, "\n")
	if res.Failed < len(folderIDs) || !strings.Contains(joined, "mail/Inbox/Signed Contracts: enumerate") {
		t.Errorf("a folder deleted mid-run was not reported: failed %d, errors %q", res.Failed, joined)
	}
	before := workloads.NewItemsPrevious(e.items(&s1), e.read)
	after := workloads.NewItemsPrevious(e.items(&s2), e.read)
	kept := 0
	for _, id := range folderIDs {
		for _, prefix := range []string{
			exchange.PathPrefix(e.user.ID) + "mail/" + workloads.EscapeID(id) + "/",
			exchange.PathPrefix(e.user.ID) + "_state/mail/" + workloads.EscapeID(id) + ".delta",
		} {
			_ = before.Each(prefix, func(was vault.Item) error {
				is, ok := after.Get(was.Path)
				if !ok || is.Hash != was.Hash {
					t.Errorf("%s of the folder deleted mid-run was not carried over", was.Path)
				}
				kept++
				return nil
			})
		}
	}
	if kept == 0 {
		t.Fatal("the first snapshot holds nothing of the folder; the test proves nothing")
	}
	res3, s3 := e.run(&s2, exchange.Options{})
	e.checkMail(s3)
	if res3.Failed != 0 {
		t.Errorf("the run after the deletion failed: %v", res3.Errors)
	}
}

// TestBackupMailboxUserGoneMidRun guards a user deleted after the folder
// tree was listed: every collection answers 404, which must not come out
// as a successful backup holding only the user record. The previous items
// are carried over and ErrMailboxGone says the user is gone.
func TestBackupMailboxUserGoneMidRun(t *testing.T) {
	e := newEnv(t)
	o := exchange.Options{IncludeContacts: true, IncludeCalendars: true}
	r1, s1 := e.run(nil, o)
	hook, _ := e.applyOn(e.isUserRecord, tenantsim.Scenario{Name: "deprovision-user", User: e.user.Name})
	res, _, err := e.tryHook(&s1, o, hook)
	if !errors.Is(err, workloads.ErrUnitGone) {
		t.Fatalf("err = %v (result %d items, %d failed); want ErrMailboxGone", err, res.Items, res.Failed)
	}
	if res.Written == 0 || res.CarriedItems != r1.Items {
		t.Errorf("user gone mid-run: %d written, %d items carried; want all %d previous items carried", res.Written, res.CarriedItems, r1.Items)
	}
}

// TestBackupMailboxItemGoneBeforeDownload guards the item rule: a message
// listed and then deleted before its download is not stored, not counted
// as a failure, and named in Result.Vanished.
func TestBackupMailboxItemGoneBeforeDownload(t *testing.T) {
	e := newEnv(t)
	inbox := ""
	for _, f := range e.dump().Folders {
		if f.Path == "Inbox" {
			inbox = f.ID
		}
	}
	record := exchange.PathPrefix(e.user.ID) + "mail/" + workloads.EscapeID(inbox) + "/_folder.json"
	hook, deleted := e.applyOn(func(it vault.Item) bool { return it.Path == record },
		tenantsim.Scenario{Name: "delete-messages", User: e.user.Name, Folder: "Inbox", Count: 3})
	res, s, err := e.tryHook(nil, exchange.Options{}, hook)
	if err != nil {
		t.Fatalf("BackupMailbox: %v", err)
	}
	if len(deleted.IDs) != 3 {
		t.Fatalf("the scenario deleted %v", deleted.IDs)
	}
	e.checkMail(s)
	joined := strings.Join(res.Vanished, "\n")
	for _, id := range deleted.IDs {
		if !strings.Contains(joined, id) {
			t.Errorf("message %s deleted before its download is not reported as vanished: %q", id, joined)
		}
	}
	if res.Failed != 0 || len(res.Vanished) != 3 {
		t.Errorf("failed %d, vanished %v; want 0 failed and the 3 deleted messages vanished", res.Failed, res.Vanished)
	}
	if res.Items != len(e.dump().Messages) {
		t.Errorf("result counts %d items, the snapshot holds %d messages", res.Items, len(e.dump().Messages))
	}
	res2, s2 := e.run(&s, exchange.Options{})
	e.checkMail(s2)
	if res2.Failed != 0 || len(res2.Vanished) != 0 {
		t.Errorf("next run: %v %v", res2.Errors, res2.Vanished)
	}
}
