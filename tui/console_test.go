package tui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/strongroom/strongroom/tui/screens"
	"github.com/strongroom/strongroom/tui/styles"
)

// TestWizardEscGoesBackOneStep guards the console's only way back: Esc
// leaves each step for the one before, keeping what was typed.
func TestWizardEscGoesBackOneStep(t *testing.T) {
	c := newConsole(t, false).toSummary()
	for want := screens.StepSchedule; want >= screens.StepNetwork; want-- {
		c.key("esc")
		c.wantStep(want)
	}
	c.key("esc")
	c.wantStep(screens.StepNetwork)
	if !strings.Contains(c.message(), "first step") {
		t.Errorf("esc on the first step says %q", c.message())
	}
	// Forward again: the disk choice and tenant are kept.
	c.key("enter", "enter")
	c.wantStep(screens.StepTenant)
	c.key("enter")
	c.wantStep(screens.StepSchedule)
}

func TestWizardRefusesInvalidInput(t *testing.T) {
	t.Run("no disk chosen", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "enter")
		c.wantStep(screens.StepDisks)
		if !strings.Contains(c.message(), "Choose at least one disk") {
			t.Errorf("message = %q", c.message())
		}
	})
	t.Run("unmounted disk", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "down", "down", "down", "down", "space")
		if !strings.Contains(c.message(), "sdf cannot be used: not mounted") {
			t.Errorf("message = %q", c.message())
		}
	})
	t.Run("tenant id not a GUID", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "space", "enter")
		c.typ("contoso.onmicrosoft.com").key("enter").typ(goodClient).key("enter").typ("s").key("enter", "enter")
		c.wantStep(screens.StepTenant)
		if !strings.Contains(c.message(), "tenant id must be a GUID") {
			t.Errorf("message = %q", c.message())
		}
	})
	t.Run("next before a sign-in test", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "space", "enter")
		c.typ(goodTenant).key("enter").typ(goodClient).key("enter").typ("s").key("down", "down", "enter")
		c.wantStep(screens.StepTenant)
		if !strings.Contains(c.message(), "Test the sign-in first") {
			t.Errorf("message = %q", c.message())
		}
	})
	t.Run("missing permissions", func(t *testing.T) {
		c := newConsole(t, false)
		c.be.missing = []string{"Mail.Read", "Calendars.Read"}
		c.key("enter", "space", "enter")
		c.typ(goodTenant).key("enter").typ(goodClient).key("enter").typ("s").key("enter", "enter")
		if !strings.Contains(c.message(), "the app lacks: Mail.Read, Calendars.Read") || !strings.Contains(c.m.View(), "Missing: Mail.Read, Calendars.Read") {
			t.Errorf("message = %q; screen:\n%s", c.message(), c.m.View())
		}
		c.key("enter")
		c.wantStep(screens.StepTenant)
	})
	t.Run("audit shorter than rollback", func(t *testing.T) {
		c := newConsole(t, false).toSummary().key("esc")
		c.key("backspace", "backspace").typ("7d").key("enter")
		c.wantStep(screens.StepSchedule)
		if !strings.Contains(c.message(), "audit window must be at least as long") {
			t.Errorf("message = %q", c.message())
		}
	})
	t.Run("static address without prefix", func(t *testing.T) {
		c := newConsole(t, false).key("right", "right", "enter", "enter").typ("192.168.10.30").key("enter").typ("192.168.10.1").key("enter").typ("192.168.10.1").key("enter")
		c.wantStep(screens.StepNetwork)
		if !strings.Contains(c.message(), "prefix length") {
			t.Errorf("message = %q", c.message())
		}
	})
	t.Run("wrong recovery key group", func(t *testing.T) {
		c := newConsole(t, false).toSummary().key("enter")
		c.wantStep(screens.StepKey)
		c.typ("abcd").key("enter")
		if !strings.Contains(c.message(), "not the last group") || len(c.be.commits) != 0 {
			t.Errorf("message = %q, commits = %d", c.message(), len(c.be.commits))
		}
	})
}

// TestWizardWritesNothingBeforeConfirmation guards the promise on the
// summary screen: the vault is created only by its enter, and files only
// after the key is confirmed.
func TestWizardWritesNothingBeforeConfirmation(t *testing.T) {
	c := newConsole(t, false).toSummary()
	if len(c.be.inits) != 0 || len(c.be.commits) != 0 {
		t.Fatalf("before confirmation: %d vault inits, %d commits", len(c.be.inits), len(c.be.commits))
	}
	c.key("enter")
	c.wantStep(screens.StepKey)
	if len(c.be.inits) != 1 || len(c.be.commits) != 0 {
		t.Fatalf("after confirmation: %d vault inits, %d commits; want 1, 0", len(c.be.inits), len(c.be.commits))
	}
	if !strings.Contains(c.m.View(), fakeKey) {
		t.Fatal("the recovery key is not shown")
	}
	c.key("esc")
	c.wantStep(screens.StepKey)
	c.typ("WXYZ").key("enter")
	if len(c.be.commits) != 1 {
		t.Fatalf("%d commits after the key was confirmed, want 1", len(c.be.commits))
	}
	p := c.be.commits[0]
	if p.RecoveryKey != fakeKey || len(p.Disks) != 4 || p.Tenant.TenantID != goodTenant || p.Network != nil || p.Audit.Hours() != 7*365*24 {
		t.Errorf("committed plan = %+v", p)
	}
	if c.m.Status() == nil || !strings.Contains(c.m.View(), "STRONGROOM status") {
		t.Fatalf("no status screen after setup:\n%s", c.m.View())
	}
	if strings.Contains(strings.Join(c.views[len(c.views)-1:], ""), fakeKey) {
		t.Error("the recovery key is still on screen after setup")
	}
	if err := c.m.Close(); err != nil || len(c.be.discarded) != 0 {
		t.Errorf("Close after a finished setup: %v, discarded %v", err, c.be.discarded)
	}
}

// TestWizardInterruptedRemovesVault guards "an interrupted setup leaves
// nothing": quitting between vault creation and key confirmation discards
// the new vault.
func TestWizardInterruptedRemovesVault(t *testing.T) {
	c := newConsole(t, false).toSummary().key("enter", "ctrl+c")
	if !c.quit {
		t.Fatal("ctrl+c did not quit")
	}
	if err := c.m.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.be.discarded) != 1 || len(c.be.commits) != 0 {
		t.Errorf("discarded %v, commits %d; want the vault discarded and nothing committed", c.be.discarded, len(c.be.commits))
	}
}

func TestWizardImportsConnectionFile(t *testing.T) {
	c := newConsole(t, false).key("enter", "space", "enter", "up").typ("/tmp/sim.yaml").key("enter")
	if !strings.Contains(c.m.View(), goodTenant) || !strings.Contains(c.m.View(), "https://127.0.0.1:8443/v1.0") {
		t.Fatalf("imported values not shown:\n%s", c.m.View())
	}
	c.key("enter", "enter")
	c.wantStep(screens.StepSchedule)
}

func TestStatusActions(t *testing.T) {
	c := newConsole(t, true)
	if c.m.Status() == nil {
		t.Fatal("a configured console does not open the status screen")
	}
	c.key("b", "r", "s")
	if got := c.svc.Calls(); got != "backup,restore-test,scrub" {
		t.Errorf("calls = %q", got)
	}
	c.key("c")
	if strings.Contains(c.svc.Calls(), "confirm-clock") || !strings.Contains(c.m.View(), "No clock jump") {
		t.Errorf("c without a pending jump: calls %q", c.svc.Calls())
	}
	c.svc.status.Vault.Clock.JumpPending = true
	c.key("b") // any action refreshes the status
	c.key("c")
	if !strings.Contains(c.svc.Calls(), "confirm-clock") {
		t.Errorf("c with a pending jump did not confirm: %q", c.svc.Calls())
	}
	c.key("l")
	if !c.m.Status().Browsing() || !strings.Contains(c.m.View(), "Choose a restore point") {
		t.Fatalf("browser:\n%s", c.m.View())
	}
	c.key("enter")
	if !strings.Contains(c.m.View(), "anna@contoso.com/") {
		t.Fatalf("enter did not open the latest restore point:\n%s", c.m.View())
	}
	c.key("enter")
	if !strings.Contains(c.m.View(), "Contacts/") {
		t.Fatalf("enter did not descend:\n%s", c.m.View())
	}
	c.key("backspace")
	if !strings.Contains(c.m.View(), "ben@contoso.com/") {
		t.Fatalf("backspace did not go up:\n%s", c.m.View())
	}
	c.key("esc")
	if !c.m.Status().Browsing() || !strings.Contains(c.m.View(), "Choose a restore point") {
		t.Fatalf("esc in the listing did not go back to the restore points:\n%s", c.m.View())
	}
	c.key("esc")
	if c.m.Status().Browsing() {
		t.Error("esc did not close the browser")
	}
	c.key("q")
	if !c.quit {
		t.Error("q did not quit")
	}
}

// TestGoldenScreens compares each wizard step and the status screens with
// testdata/<name>.golden at 80x25; go test -update rewrites them.
func TestGoldenScreens(t *testing.T) {
	screensByName := map[string]string{}
	c := newConsole(t, false)
	screensByName["wizard-1-network"] = c.m.View()
	c.key("right", "right", "enter", "enter").typ("192.168.10.30/24").key("enter").typ("192.168.10.1")
	screensByName["wizard-1-network-static"] = c.m.View()
	c.key("up", "up", "up", "left", "left", "enter", "down", "space", "down", "space")
	screensByName["wizard-2-disks"] = c.m.View()
	c.key("enter")
	c.typ(goodTenant).key("enter").typ(goodClient).key("enter").typ("s3cret").key("enter", "enter")
	screensByName["wizard-3-tenant"] = c.m.View()
	c.key("enter")
	screensByName["wizard-4-schedule"] = c.m.View()
	c.key("enter", "enter", "enter")
	screensByName["wizard-5-summary"] = c.m.View()
	c.key("enter")
	screensByName["wizard-6-key"] = c.m.View()
	c.typ("wxyz").key("enter")
	screensByName["status"] = c.m.View()
	c.key("l")
	screensByName["status-browse"] = c.m.View()
	c.key("enter")
	screensByName["status-browse-list"] = c.m.View()
	for name, v := range formScreens(t) {
		screensByName[name] = v
	}
	for name, v := range updateScreens(t) {
		screensByName[name] = v
	}
	for name, got := range screensByName {
		t.Run(name, func(t *testing.T) {
			checkScreen(t, got)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("screen differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// checkScreen asserts a plain-text screen is exactly 80x25.
func checkScreen(t *testing.T, s string) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != styles.Height {
		t.Errorf("screen has %d lines, want %d", len(lines), styles.Height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != styles.Width {
			t.Errorf("line %d is %d columns wide, want %d: %q", i+1, w, styles.Width, l)
		}
	}
}

// TestEveryRuneIsConsoleSafe renders every screen the model tests reach,
// in colour as on the console, and checks each rune after the colour
// codes against the console font (printable ASCII and code page 437).
func TestEveryRuneIsConsoleSafe(t *testing.T) {
	var views []string
	walk := func(c *console) {
		c.key("right", "right", "enter", "enter").typ("192.168.10.30/24").key("enter").typ("192.168.10.1").key("enter").typ("x").key("enter")
		c.key("up", "up", "up", "up", "left", "left", "enter", "down", "down", "down", "down", "space", "up", "space", "enter")
		c.key("up").typ("/tmp/sim.yaml").key("enter", "enter", "enter", "esc", "enter")
		c.key("backspace").typ("q").key("enter", "enter", "backspace", "enter", "enter", "enter", "esc", "enter", "enter", "enter")
		c.typ("nope").key("enter").typ("wxyz").key("enter", "l", "enter", "backspace", "esc", "b", "c")
		views = append(views, c.views...)
	}
	// The status screen and its action forms: browse, restore (a folder
	// and an item), replace a disk, change retention, each with a
	// refusal and a result.
	walkStatus := func(c *console) {
		c.key("l", "enter", "enter", "backspace", "esc", "esc", "b", "c")
		walkForms(c)
		views = append(views, c.views...)
	}
	walk(newConsole(t, false))
	walk(newConsoleIn(t, false, termenv.ANSI))
	walkStatus(newConsoleWith(t, true, termenv.Ascii, missingDisk2))
	walkStatus(newConsoleWith(t, true, termenv.ANSI, missingDisk2))
	// The update screen in each of its states.
	views = append(views, walkUpdate(t, termenv.Ascii)...)
	views = append(views, walkUpdate(t, termenv.ANSI)...)
	if len(views) < 50 {
		t.Fatalf("only %d screens rendered", len(views))
	}
	// The walk reached every form and each one's refusal and result.
	all := ansi.Strip(strings.Join(views, "\n"))
	for _, want := range []string{"Choose a restore point", "STRONGROOM restore", "Name the target mailbox", "Restore finished",
		"STRONGROOM replace disk", "is not an absolute path", "Disk 2 was replaced", "Rebuilding the lost disk",
		"STRONGROOM retention", `Keep every point: duration "x"`, "Retention set", "Budget 2026?Q1 ? ?? [AAMkAGI3TH]",
		"STRONGROOM update", "signature OK", "invalid character '?' looking for beginning of value ?", "Install version 2026.04.1 into slot b? y/n",
		"Step: writing root.squashfs", "Restart now? y / n", "Roll back to slot b", "Restarting...", "The update failed:", "The restart was refused:",
		"not running from a Strongroom appliance image", "The boot disk cannot be read:", "None found.", "Looking for bundles failed:",
		"on trial: not yet confirmed healthy", "Press u to restart."} {
		if !strings.Contains(all, want) {
			t.Errorf("no rendered screen shows %q", want)
		}
	}
	for i, v := range views {
		for _, r := range ansi.Strip(v) {
			if r != '\n' && !styles.ConsoleSafe(r) {
				t.Fatalf("screen %d has %q (U+%04X), which the console font lacks:\n%s", i, r, r, ansi.Strip(v))
			}
		}
	}
}

// The throttling line tells a tenant-wide pause from throttles that held
// back one mailbox only.
func TestStatusThrottlingLine(t *testing.T) {
	c := newConsole(t, true)
	c.svc.status.Throttle.Paused = 90e9 // 90 s
	c.svc.status.Throttle.MailboxThrottled = 12
	c.key("b") // any action refreshes the status
	v := c.m.View()
	if !strings.Contains(v, "17 of 51234 throttled (12 by a mailbox), tenant paused 1m") {
		t.Errorf("throttling line:\n%s", v)
	}
}

// TestWizardWarnsOfSharedDevice guards the disk step when the chosen
// disks are directories of one file system: the wizard says they count
// as one disk, survive no disk failure, and shows their real capacity.
func TestWizardWarnsOfSharedDevice(t *testing.T) {
	c := newConsole(t, false)
	for i := range c.be.disks[:4] {
		c.be.disks[i].FSDevice = 2049
	}
	c.key("enter", "space", "down", "space", "down", "space", "down", "space")
	c.wantStep(screens.StepDisks)
	screen := strings.Join(strings.Fields(ansi.Strip(c.m.View())), " ")
	for _, want := range []string{"Usable capacity 1.8 TiB of 14.6 TiB raw; survives no disk failure.",
		"disk directories on one file system count as one disk"} {
		if !strings.Contains(screen, want) {
			t.Errorf("disk step lacks %q:\n%s", want, c.m.View())
		}
	}
}

// TestStatusRunningJobProgress guards the running job's line: units of
// its own noun, items, bytes and the time throttling held it back.
func TestStatusRunningJobProgress(t *testing.T) {
	c := newConsoleWith(t, true, termenv.Ascii, func(s *fakeService) {
		j := s.status.Job
		j.Kind, j.Noun, j.UnitsDone, j.UnitsAll, j.Items, j.Bytes, j.ThrottlePaused = "export", "items", 40, 90, 40, 5<<20, 90e9
	})
	if v := c.m.View(); !strings.Contains(v, "40/90 items, 5.0 MiB, paused 1m") {
		t.Errorf("running job line:\n%s", v)
	}
}
