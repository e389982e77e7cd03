package tui_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/strongroom/strongroom/appliance/api"
)

const day = 24 * time.Hour

// wantView fails unless the screen shows every string.
func (c *console) wantView(what ...string) {
	c.t.Helper()
	v := c.m.View()
	for _, w := range what {
		if !strings.Contains(v, w) {
			c.t.Fatalf("screen does not show %q:\n%s", w, v)
		}
	}
}

// toInbox opens the browser on the latest restore point and descends to
// anna's Inbox, whose first row is the folder "Signed Contracts" and
// second a single message.
func (c *console) toInbox() *console {
	c.t.Helper()
	c.key("l", "enter", "enter", "enter", "enter")
	c.wantView("/anna@contoso.com/Mail/Inbox", "> Signed Contracts/")
	return c
}

func missingDisk2(s *fakeService) { s.status.Vault.Disks[2].Present = false }

// walkForms goes through every action form from the status screen, with
// a refusal and a result each, and comes back to the status screen. The
// glyph test renders every screen it passes.
func walkForms(c *console) {
	c.key("l", "enter", "enter", "enter", "enter")
	c.key("R", "enter", "enter", "space", "enter", "esc", "enter", "enter", "esc")
	c.key("down", "down", "R", "esc", "up", "R").erase(40).key("enter", "enter", "enter", "up", "up").typ("anna@contoso.com").key("enter", "enter", "enter", "enter", "esc", "esc", "esc")
	c.key("b", "d", "up", "enter", "down", "enter").typ("disk5").key("enter").erase(5).typ("/srv/disk5").key("enter", "esc", "enter")
	held := c.keyHolding("enter")
	c.key("x")
	c.run(held)
	c.key("esc")
	c.key("t").erase(3).typ("x").key("enter", "enter", "up").erase(1).typ("60d").key("enter", "enter", "esc", "enter", "enter", "enter", "t", "esc")
}

func TestBrowseChoosesRestorePoint(t *testing.T) {
	c := newConsole(t, true).key("l")
	// Newest first, the latest chosen, each with its date and result.
	c.wantView("Choose a restore point", "4 restore points", "> 2026-03-14 06:00  success", "2026-03-13 18:00  partial")
	if !strings.Contains(strings.Split(c.m.View(), "\n")[4], "latest") {
		t.Errorf("the first row is not marked latest:\n%s", c.m.View())
	}
	c.key("down", "enter")
	c.wantView("Restore point 2026-03-14 02:00  /", "anna@contoso.com/")
	c.key("esc", "up", "up", "enter")
	c.wantView("Restore point 2026-03-13 18:00  /")
}

func TestRestoreForm(t *testing.T) {
	t.Run("folder", func(t *testing.T) {
		c := newConsole(t, true).toInbox().key("R")
		if !c.m.Status().Restoring() {
			t.Fatalf("R did not open the restore form:\n%s", c.m.View())
		}
		c.wantView("the folder anna@contoso.com/Mail/Inbox/Signed Contracts (12 items)", "[anna@contoso.com", "[Restored 2026-03-14 06:00", "< skip >")
		c.key("enter", "enter", "space")
		c.wantView("< copy >")
		c.key("space", "left")
		c.wantView("< copy >")
		c.key("enter")
		c.wantView("Into mailbox    anna@contoso.com", "Press enter to restore")
		if len(c.svc.restores) != 0 {
			t.Fatal("the restore started before it was confirmed")
		}
		c.key("enter")
		want := api.RestoreRequest{
			Selection:  api.Selection{Snapshot: c.svc.snaps[3].ID, User: "anna@contoso.com", Folder: "Inbox/Signed Contracts", Kind: "mail"},
			TargetUser: "anna@contoso.com", TargetFolder: "Restored 2026-03-14 06:00", Collision: "copy",
		}
		if len(c.svc.restores) != 1 || !reflect.DeepEqual(c.svc.restores[0], want) {
			t.Fatalf("restores = %+v, want %+v", c.svc.restores, want)
		}
		c.wantView("Restored       9", "Skipped        2", "Failed         1", "413 request entity too large",
			"Restore finished with failures: 9 restored, 0 replaced, 2 skipped, 1 failed.")
		c.key("esc")
		if c.m.Status().Restoring() || !c.m.Status().Browsing() {
			t.Fatal("esc after the result did not go back to the browser")
		}
	})
	t.Run("item into another mailbox", func(t *testing.T) {
		c := newConsole(t, true).toInbox().key("down", "R")
		c.erase(20).typ("ben@contoso.com").key("down").erase(30).typ("From Anna").key("enter", "enter", "enter")
		want := api.RestoreRequest{
			Selection:  api.Selection{Snapshot: c.svc.snaps[3].ID, User: "anna@contoso.com", Paths: []string{"users/u-anna/mail/m-AAMkAGI2TG"}},
			TargetUser: "ben@contoso.com", TargetFolder: "From Anna", Collision: "skip",
		}
		if len(c.svc.restores) != 1 || !reflect.DeepEqual(c.svc.restores[0], want) {
			t.Fatalf("restores = %+v, want %+v", c.svc.restores, want)
		}
	})
	t.Run("whole workload", func(t *testing.T) {
		c := newConsole(t, true).key("l", "enter", "enter", "down", "R", "enter", "enter", "enter", "enter")
		if len(c.svc.restores) != 1 || c.svc.restores[0].Kind != "contacts" || c.svc.restores[0].Folder != "" || c.svc.restores[0].User != "anna@contoso.com" {
			t.Fatalf("restores = %+v", c.svc.restores)
		}
	})
	t.Run("invalid input refused", func(t *testing.T) {
		c := newConsole(t, true).toInbox().key("R", "down", "down")
		for _, tc := range []struct{ target, folder, want string }{
			{"", "Restored", "Name the target mailbox"},
			{"anna @contoso.com", "Restored", "an address has no spaces"},
			{"anna@@contoso.com", "Restored", "is not an address"},
			{"anna@contoso.com", "", "Name the new folder"},
			{"anna@contoso.com", "Inbox/Old", "cannot contain /"},
		} {
			c.key("up", "up").erase(40).typ(tc.target).key("down").erase(40).typ(tc.folder).key("enter", "enter")
			if !strings.Contains(c.m.View(), tc.want) {
				t.Errorf("target %q folder %q: no %q on screen:\n%s", tc.target, tc.folder, tc.want, c.m.View())
			}
			if !c.m.Status().Restoring() || strings.Contains(c.m.View(), "Press enter to restore") {
				t.Errorf("target %q folder %q was accepted", tc.target, tc.folder)
			}
		}
		if calls := c.svc.Calls(); strings.Contains(calls, "restore") {
			t.Errorf("the service was called: %s", calls)
		}
	})
	t.Run("esc cancels", func(t *testing.T) {
		c := newConsole(t, true).toInbox().key("R", "esc")
		if c.m.Status().Restoring() || !c.m.Status().Browsing() {
			t.Fatal("esc did not close the form back to the browser")
		}
		c.wantView("Restore cancelled")
		// From the confirmation: esc goes back to the form, esc again
		// leaves it.
		c.key("R", "enter", "enter", "enter", "esc")
		c.wantView("[Restored 2026-03-14 06:00")
		c.key("esc")
		if c.m.Status().Restoring() || len(c.svc.restores) != 0 {
			t.Fatalf("after esc: form open %v, restores %v", c.m.Status().Restoring(), c.svc.restores)
		}
	})
	t.Run("nothing to restore at a restore point list", func(t *testing.T) {
		c := newConsole(t, true).key("l", "R")
		if c.m.Status().Restoring() {
			t.Fatal("R opened a form without a folder or item")
		}
	})
}

func TestReplaceDiskForm(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		c := newConsoleWith(t, true, termenv.Ascii, missingDisk2).key("d")
		if !c.m.Status().ReplacingDisk() {
			t.Fatal("d did not open the form")
		}
		c.wantView("4 disks, 1 missing", "> Disk 2  /srv/disk3", "MISSING")
		c.key("enter").typ("/srv/disk5/").key("enter")
		c.wantView("Replace disk 2 (/srv/disk3)", "with /srv/disk5")
		if len(c.svc.replaced) != 0 {
			t.Fatal("replaced before confirmation")
		}
		// While it runs, the screen shows the agent's job from the status.
		c.svc.status.Job = &api.JobStatus{Kind: "replace-disk", Started: fixedNow.Add(-12 * time.Minute), Message: "rebuilding /srv/disk5"}
		c.svc.status.Vault.DegradedSegments = 312
		held := c.keyHolding("enter")
		c.wantView("Rebuilding disk 2 onto /srv/disk5...", "Agent: replace-disk, rebuilding /srv/disk5, running for 12m", "Degraded segments: 312 of 800")
		c.key("d") // another action while it runs is refused by the form
		c.wantView("Wait: the rebuild is running")
		c.run(held)
		if want := [][2]string{{"/srv/disk3", "/srv/disk5"}}; !reflect.DeepEqual(c.svc.replaced, want) {
			t.Fatalf("replaced = %v, want %v", c.svc.replaced, want)
		}
		c.wantView("Shards rebuilt        800", "The vault is healthy.", "Disk 2 was replaced: 800 shards rebuilt")
		c.key("esc")
		if c.m.Status().ReplacingDisk() {
			t.Fatal("esc did not close the result")
		}
	})
	t.Run("invalid input refused", func(t *testing.T) {
		c := newConsoleWith(t, true, termenv.Ascii, missingDisk2).key("d", "up", "enter")
		c.wantView("Disk 1 (/srv/disk2) is present: only a disk marked MISSING can be replaced.")
		c.key("down", "enter", "enter")
		c.wantView("Type the directory on the new disk")
		c.typ("srv/disk5").key("enter")
		c.wantView(`"srv/disk5" is not an absolute path`)
		c.erase(20).typ("/srv/disk1").key("enter")
		c.wantView("/srv/disk1 is already disk 0 of the vault")
		c.erase(20).typ("/").key("enter")
		c.wantView("Not the root directory")
		if c.svc.replaced != nil {
			t.Fatalf("replaced %v", c.svc.replaced)
		}
	})
	t.Run("no disk missing", func(t *testing.T) {
		c := newConsole(t, true).key("d")
		c.wantView("No disk is missing")
		c.key("enter")
		c.wantView("is present: only a disk marked MISSING")
	})
	t.Run("esc cancels", func(t *testing.T) {
		c := newConsoleWith(t, true, termenv.Ascii, missingDisk2).key("d", "enter").typ("/srv/disk5").key("enter", "esc")
		c.wantView("[/srv/disk5")
		c.key("esc", "esc")
		if c.m.Status().ReplacingDisk() || c.svc.replaced != nil {
			t.Fatalf("after esc: form open %v, replaced %v", c.m.Status().ReplacingDisk(), c.svc.replaced)
		}
		c.wantView("STRONGROOM status", "Nothing was changed.")
	})
}

func TestRetentionForm(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		c := newConsole(t, true).key("t")
		if !c.m.Status().ChangingRetention() {
			t.Fatal("t did not open the form")
		}
		c.wantView("Now: every restore point is kept 30d, the first of each month 7y.", "[30d", "[7y", "only ever extended, never shortened")
		c.erase(3).typ("90d").key("enter").erase(2).typ("10y").key("enter")
		c.wantView("Keep every point  30d -> 90d (longer)", "Keep monthly      7y -> 10y (longer)")
		if c.svc.retention != nil {
			t.Fatal("set before confirmation")
		}
		c.key("enter")
		want := [][2]time.Duration{{90 * day, 10 * 365 * day}}
		if !reflect.DeepEqual(c.svc.retention, want) {
			t.Fatalf("SetRetention calls = %v, want %v", c.svc.retention, want)
		}
		c.wantView("37 existing restore points were extended.", "Retention set: every point 90d, monthly 10y; 37 restore points extended.")
		c.key("esc", "t")
		c.wantView("Now: every restore point is kept 90d, the first of each month 10y.")
	})
	t.Run("shorter applies to new points only", func(t *testing.T) {
		c := newConsole(t, true).key("t").erase(3).typ("14d").key("enter", "enter")
		c.wantView("30d -> 14d (shorter: for new restore points only)", "7y (unchanged)")
	})
	t.Run("invalid input refused", func(t *testing.T) {
		c := newConsole(t, true).key("t", "down")
		for _, tc := range []struct{ rollback, audit, want string }{
			{"30 days", "7y", `Keep every point: duration "30 days"`},
			{"30d", "forever", `Keep monthly: duration "forever"`},
			{"0d", "7y", "must be longer than zero"},
			{"60d", "30d", "at least as long as the rollback window"},
			{"30d", "7y", "nothing to change"},
		} {
			c.key("up").erase(10).typ(tc.rollback).key("enter").erase(10).typ(tc.audit).key("enter")
			if !strings.Contains(c.m.View(), tc.want) {
				t.Errorf("%q/%q: no %q on screen:\n%s", tc.rollback, tc.audit, tc.want, c.m.View())
			}
		}
		if c.svc.retention != nil {
			t.Errorf("SetRetention called: %v", c.svc.retention)
		}
	})
	t.Run("esc cancels", func(t *testing.T) {
		c := newConsole(t, true).key("t").erase(3).typ("90d").key("enter", "enter", "esc")
		c.wantView("[90d")
		c.key("esc")
		if c.m.Status().ChangingRetention() || c.svc.retention != nil {
			t.Fatalf("after esc: form open %v, calls %v", c.m.Status().ChangingRetention(), c.svc.retention)
		}
		c.wantView("Retention unchanged.")
	})
	t.Run("windows from the agent's status", func(t *testing.T) {
		c := newConsoleWith(t, true, termenv.Ascii, func(s *fakeService) {
			s.status.Retention = api.RetentionWindows{Rollback: 45 * day, Audit: 87600 * time.Hour}
		})
		c.key("t")
		c.wantView("Now: every restore point is kept 45d, the first of each month 10y.", "[45d", "[10y")
	})
	t.Run("windows unknown", func(t *testing.T) {
		c := newConsoleWith(t, true, termenv.Ascii, func(s *fakeService) { s.status.Retention = api.RetentionWindows{} })
		c.key("t")
		c.wantView("Now: the current windows could not be read", "[          ]")
		c.typ("30d").key("enter").typ("7y").key("enter")
		c.wantView("Keep every point  30d", "Keep monthly      7y")
	})
}

// formScreens renders the action forms for the golden test.
func formScreens(t *testing.T) map[string]string {
	out := map[string]string{}
	c := newConsoleWith(t, true, termenv.Ascii, missingDisk2).toInbox().key("R")
	out["status-restore"] = c.m.View()
	c.key("enter", "enter", "enter")
	out["status-restore-confirm"] = c.m.View()
	c.key("enter")
	out["status-restore-done"] = c.m.View()
	c.key("esc", "esc", "esc", "d")
	out["status-disk"] = c.m.View()
	c.key("enter").typ("/srv/disk5").key("enter")
	out["status-disk-confirm"] = c.m.View()
	c.svc.status.Job = &api.JobStatus{Kind: "replace-disk", Started: fixedNow.Add(-12 * time.Minute), Message: "rebuilding /srv/disk5"}
	c.svc.status.Vault.DegradedSegments = 312
	held := c.keyHolding("enter")
	out["status-disk-running"] = c.m.View()
	c.run(held)
	out["status-disk-done"] = c.m.View()
	c.key("esc", "t")
	out["status-retention"] = c.m.View()
	c.erase(3).typ("90d").key("enter", "enter")
	out["status-retention-confirm"] = c.m.View()
	c.key("enter")
	out["status-retention-done"] = c.m.View()
	return out
}

// withOneDrive gives anna a OneDrive in the browsed restore points.
func withOneDrive(s *fakeService) {
	s.listing["anna@contoso.com"] = append(s.listing["anna@contoso.com"], api.Node{Name: "OneDrive", View: "anna@contoso.com/OneDrive", Items: 43, Bytes: 9000000})
}

// TestRollbackForm: B on a user's OneDrive asks when the damage began,
// shows the agent's dry run, and rolls back only after enter; a time
// that is not one is refused before the agent is asked.
func TestRollbackForm(t *testing.T) {
	c := newConsoleWith(t, true, termenv.Ascii, withOneDrive).key("l", "enter", "enter")
	c.key("B")
	if c.m.Status().RollingBack() {
		t.Fatal("B on a mail folder opened the rollback form")
	}
	c.wantView("Move to a user's OneDrive or a site's library to roll it back.")
	c.key("down", "down")
	c.wantView("> OneDrive/", "B roll back")
	c.key("B")
	if !c.m.Status().RollingBack() {
		t.Fatal("B on a OneDrive did not open the rollback form")
	}
	c.wantView("What: the OneDrive of anna@contoso.com", "moved to a quarantine folder")
	c.erase(25).typ("yesterday").key("enter")
	c.wantView(`Damage began: date "yesterday"`)
	if strings.Contains(c.svc.Calls(), "rollback") {
		t.Fatalf("the agent was asked with a bad time: %s", c.svc.Calls())
	}
	c.erase(25).typ("2026-03-14T08:00:00Z").key("enter")
	c.wantView("Would do: 2 files restored (3.0 MiB), 1 quarantined, 40 unchanged", "Docs/plan.docx", "README-RANSOM.txt", "Press enter to roll back")
	if got := c.svc.Calls(); !strings.HasSuffix(got, "rollback:anna@contoso.com:2026-03-14T08:00:00Z:dry=true") {
		t.Fatalf("calls %s; want a dry run first", got)
	}
	c.key("enter")
	c.wantView("Done: 2 files restored (3.0 MiB), 1 quarantined, 40 unchanged", "Quarantine folder: Quarantine 2026-03-14 0930")
	if got := c.svc.Calls(); !strings.HasSuffix(got, "rollback:anna@contoso.com:2026-03-14T08:00:00Z:dry=false") {
		t.Fatalf("calls %s; want the rollback after the confirmation", got)
	}
}

// TestRollbackOfASiteLibrary: B on a library row of a site rolls back
// that library, the site named by its URL again (the catalog shows it
// without the scheme, its slashes as U+2215).
func TestRollbackOfASiteLibrary(t *testing.T) {
	site := "contoso.sharepoint.com\u2215sites\u2215hr"
	c := newConsoleWith(t, true, termenv.Ascii, func(s *fakeService) {
		s.listing[""] = append(s.listing[""], api.Node{Name: site, View: site, Items: 10, Bytes: 1000})
		s.listing[site] = []api.Node{{Name: "Libraries", View: site + "/Libraries", Items: 10, Bytes: 1000}}
		s.listing[site+"/Libraries"] = []api.Node{{Name: "Documents", View: site + "/Libraries/Documents", Items: 10, Bytes: 1000}}
	}).key("l", "enter", "down", "down", "enter", "enter", "B")
	c.wantView(`What: the library "Documents" of https://contoso.sharepoint.com/sites/hr`)
	c.key("enter")
	c.wantView("Would do: 2 files restored")
	if got := c.svc.Calls(); !strings.Contains(got, "rollback:https://contoso.sharepoint.com/sites/hr:") {
		t.Fatalf("calls %s; want the site's URL", got)
	}
}

// TestStatusDisksFitTheScreen guards the Disks row against the console's
// width: free space written "187.2 MiB free" made three disks a line run
// past the frame, and the third was cut ("2:ok 187.2 MiB f") on the
// appliance's screen.
func TestStatusDisksFitTheScreen(t *testing.T) {
	c := newConsoleWith(t, true, termenv.Ascii, func(s *fakeService) {
		for i := range s.status.Vault.Disks {
			s.status.Vault.Disks[i].FreeBytes = 196_300_000
		}
	})
	var want []string
	for i := range c.svc.status.Vault.Disks {
		want = append(want, fmt.Sprintf("%d:ok 187.2 MiB free", i))
	}
	c.wantView(want...)
}
