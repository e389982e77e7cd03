package tui_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui"
	"github.com/strongroom/strongroom/tui/screens"
	"github.com/strongroom/strongroom/tui/styles"
)

// TestWizardEscGoesBackOneStep guards the console's only way back: Esc
// leaves each step for the one before, keeping what was typed.
func TestWizardEscGoesBackOneStep(t *testing.T) {
	c := newConsole(t, false).toSummary()
	for want := screens.StepOffsite; want >= screens.StepNetwork; want-- {
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
		if !strings.Contains(c.message(), "sdf cannot be used: blank: f formats it") {
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
		c := newConsole(t, false).toOffsite().key("esc")
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

// TestWizardOffsiteStep: an offsite copy is set up only with a bucket
// that passed the test with the values as they are; a refused bucket is
// named; the secret is masked on screen; the summary names the bucket and
// the committed plan carries it. Empty fields mean no offsite copy (the
// other wizard tests).
func TestWizardOffsiteStep(t *testing.T) {
	c := newConsole(t, false).toOffsite()
	if v := c.m.View(); !strings.Contains(v, "Offsite: none") || !strings.Contains(v, "step 5 of 7") {
		t.Fatalf("offsite step:\n%s", v)
	}
	c.typ("https://s3.example.net").key("enter").typ("plain").key("enter", "enter").
		typ("AKIAEXAMPLE").key("enter").typ("topsecret/key").key("enter", "enter", "enter")
	if strings.Contains(c.m.View(), "topsecret") {
		t.Fatal("the secret key is shown in clear")
	}
	c.key("down") // Next without a test
	c.key("enter")
	c.wantStep(screens.StepOffsite)
	if !strings.Contains(c.message(), "Test the bucket first") {
		t.Fatalf("Next on an untested bucket says %q", c.message())
	}
	c.key("enter") // Test bucket (focus moved there)
	if !strings.Contains(c.message(), "Object Lock \"off\"") || !strings.Contains(c.m.View(), "Bucket: refused") {
		t.Fatalf("refused bucket: message %q\n%s", c.message(), c.m.View())
	}
	c.key("down", "enter")
	c.wantStep(screens.StepOffsite)
	// The bucket field: from Test up six rows.
	c.key("up", "up", "up", "up", "up", "up").erase(5).typ("locked")
	c.key("down", "down", "down", "down", "down", "down", "enter")
	if !strings.Contains(c.m.View(), "versioning and Object Lock on") || c.be.offsiteTests != 2 {
		t.Fatalf("locked bucket not accepted (%d tests): %q\n%s", c.be.offsiteTests, c.message(), c.m.View())
	}
	c.key("enter")
	c.wantStep(screens.StepSummary)
	if !strings.Contains(c.m.View(), "Offsite     bucket locked at https://s3.example.net (tested)") {
		t.Fatalf("summary:\n%s", c.m.View())
	}
	c.key("enter").typ("WXYZ").key("enter")
	if len(c.be.commits) != 1 {
		t.Fatalf("%d commits", len(c.be.commits))
	}
	o := c.be.commits[0].Offsite
	if o == nil || o.Bucket != "locked" || o.SecretKey != "topsecret/key" || o.AccessKey != "AKIAEXAMPLE" || o.PathStyle {
		t.Errorf("committed offsite = %+v", o)
	}
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
	if p.RecoveryKey != fakeKey || len(p.Disks) != 4 || p.Tenant.TenantID != goodTenant || p.Network != nil || p.Offsite != nil || p.Audit.Hours() != 7*365*24 {
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
	c.svc.status.Vault.Clock = api.ClockStatus{JumpPending: true, Trusted: fixedNow.Add(-40 * 24 * time.Hour), Wall: fixedNow,
		Jump: 40 * 24 * time.Hour, MaxForwardJump: 24 * time.Hour}
	c.key("b") // any action refreshes the status
	c.key("c")
	if strings.Contains(c.svc.Calls(), "confirm-clock") || !c.m.Status().ConfirmingClock() {
		t.Fatalf("c with a pending jump: calls %q, screen:\n%s", c.svc.Calls(), c.m.View())
	}
	c.key("esc")
	if c.m.Status().ConfirmingClock() || strings.Contains(c.svc.Calls(), "confirm-clock") {
		t.Fatalf("esc did not leave the clock held: calls %q", c.svc.Calls())
	}
	c.key("c").typ("2026-03-15").key("enter")
	if strings.Contains(c.svc.Calls(), "confirm-clock") || !strings.Contains(c.m.View(), "Not accepted") {
		t.Fatalf("a wrong date confirmed the clock: calls %q, screen:\n%s", c.svc.Calls(), c.m.View())
	}
	c.typ("2026-03-14").key("enter")
	if !strings.Contains(c.svc.Calls(), "confirm-clock") || c.m.Status().ConfirmingClock() {
		t.Errorf("the system date typed did not confirm: %q", c.svc.Calls())
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
	c.key("enter").typ("192.168.10.1").key("enter")
	screensByName["wizard-1-network-applied"] = c.m.View()
	c.key("n", "up", "up", "up", "up", "left", "left", "enter", "down", "space", "down", "space")
	screensByName["wizard-2-disks"] = c.m.View()
	c.key("enter")
	c.typ(goodTenant).key("enter").typ(goodClient).key("enter").typ("s3cret").key("enter", "enter")
	screensByName["wizard-3-tenant"] = c.m.View()
	c.key("enter")
	screensByName["wizard-4-schedule"] = c.m.View()
	c.key("enter", "enter", "enter")
	c.typ("https://s3.eu-central-1.amazonaws.com").key("enter").typ("contoso-strongroom").key("enter").typ("eu-central-1").key("enter")
	screensByName["wizard-5-offsite"] = c.m.View()
	c.key("up").erase(12).key("up").erase(18).key("up").erase(37).key("enter", "enter")
	screensByName["wizard-6-summary"] = c.m.View()
	c.key("enter")
	screensByName["wizard-7-key"] = c.m.View()
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
	cc := newConsole(t, true)
	cc.svc.status.Vault.Clock = api.ClockStatus{JumpPending: true, Trusted: fixedNow.Add(-40 * 24 * time.Hour), Wall: fixedNow,
		Jump: 40 * 24 * time.Hour, MaxForwardJump: 24 * time.Hour, Reason: "the system clock moved 40 days forward while the appliance was off"}
	cc.key("b", "c")
	screensByName["status-clock-confirm"] = cc.m.View()
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
	// The new steps: network applied and its countdown; a disk formatted,
	// and one holding data at the erase prompt; the clock confirmation.
	walkNew := func(profile termenv.Profile) {
		c := newConsoleIn(t, false, profile)
		c.key("right", "enter", "enter")
		c.run(func() tea.Msg { return screens.NetworkTickMsg{} })
		c.key("y", "down", "down", "down", "down", "f").typ("sdf").key("enter", "down", "f").typ("sdg").key("enter")
		views = append(views, c.views...)
		s := newConsoleIn(t, true, profile)
		s.svc.status.Vault.Clock = api.ClockStatus{JumpPending: true, Trusted: fixedNow.Add(-48 * time.Hour), Wall: fixedNow, Jump: 48 * time.Hour, MaxForwardJump: 24 * time.Hour}
		s.be.time = setup.TimeSync{Answered: true, Synchronised: true, Server: "192.0.2.1", Problem: "no NTS server is configured"}
		s.key("b", "c").typ("2026").key("enter")
		views = append(views, s.views...)
	}
	walk(newConsole(t, false))
	walk(newConsoleIn(t, false, termenv.ANSI))
	walkNew(termenv.Ascii)
	walkNew(termenv.ANSI)
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
		"on trial: not yet confirmed healthy", "Press u to restart.", "is applied. Keep it?", "in 59 s", "sdf is now strongroom-data1",
		"sdg is NOT blank", "Confirm the clock", "WITHOUT authentication", "Not accepted"} {
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

// TestWizardFormatsDisk guards formatting from the disk step: nothing is
// formatted without the disk's name typed; a disk holding data needs
// "erase" typed as well; esc leaves the disk alone; a formatted disk is
// chosen at once; a mounted disk is never formatted.
func TestWizardFormatsDisk(t *testing.T) {
	t.Run("blank disk", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "down", "down", "down", "down", "f")
		screen := strings.Join(strings.Fields(ansi.Strip(c.m.View())), " ")
		if !strings.Contains(screen, "Format sdf, 1.8 TiB (USB stick, serial 4C530001), for the vault?") {
			t.Fatalf("no confirmation naming size, model and serial:\n%s", c.m.View())
		}
		c.typ("sdb").key("enter")
		if len(c.be.formats) != 0 || !strings.Contains(c.message(), "That is not sdf") {
			t.Fatalf("wrong name: formats %v, message %q", c.be.formats, c.message())
		}
		c.typ("sdf").key("enter")
		if len(c.be.formats) != 1 || c.be.formats[0] != (setup.FormatRequest{Device: "/dev/sdf"}) {
			t.Fatalf("formats = %v, want one of /dev/sdf without erase", c.be.formats)
		}
		if !strings.Contains(c.message(), "sdf is now strongroom-data1 on /srv/strongroom/disk1, chosen for the vault.") ||
			!strings.Contains(c.m.View(), "[x] sdf") {
			t.Errorf("after formatting: message %q, screen:\n%s", c.message(), c.m.View())
		}
	})
	t.Run("disk holding a file system", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "up", "f").typ("sdg").key("enter")
		screen := strings.Join(strings.Fields(ansi.Strip(c.m.View())), " ")
		if len(c.be.formats) != 0 || !strings.Contains(screen, "sdg is NOT blank: it holds ext4 file system labelled photos") {
			t.Fatalf("name typed for a disk holding data: formats %v, screen:\n%s", c.be.formats, c.m.View())
		}
		c.typ("yes").key("enter")
		if len(c.be.formats) != 0 || !strings.Contains(c.message(), "Not erased") {
			t.Fatalf("'yes' at the erase prompt: formats %v, message %q", c.be.formats, c.message())
		}
		c.typ("erase").key("enter")
		if len(c.be.formats) != 1 || c.be.formats[0] != (setup.FormatRequest{Device: "/dev/sdg", Erase: true}) {
			t.Fatalf("formats = %v, want /dev/sdg with erase", c.be.formats)
		}
	})
	t.Run("esc leaves the disk alone", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "up", "f").typ("sd").key("esc")
		c.wantStep(screens.StepDisks)
		if len(c.be.formats) != 0 || !strings.Contains(c.message(), "left as it was") {
			t.Fatalf("esc: formats %v, message %q", c.be.formats, c.message())
		}
		c.key("esc")
		c.wantStep(screens.StepNetwork)
	})
	t.Run("mounted disk", func(t *testing.T) {
		c := newConsole(t, false).key("enter", "f")
		if strings.Contains(c.m.View(), "Type its name") || !strings.Contains(c.message(), "sdb is in use") {
			t.Fatalf("f on a mounted disk: message %q, screen:\n%s", c.message(), c.m.View())
		}
	})
	t.Run("two disks on one device", func(t *testing.T) {
		c := newConsole(t, false)
		c.be.disks[1].FSDevice, c.be.disks[2].FSDevice = 2049, 2049
		c.key("enter", "down", "space", "down", "space", "enter")
		c.wantStep(screens.StepDisks)
		if !strings.Contains(c.message(), "sdc and sdd are on one device") {
			t.Errorf("message = %q", c.message())
		}
	})
}

// TestWizardAppliesNetwork guards the network step: enter applies the
// settings at once and shows the address they gave; y keeps them and goes
// on; n, esc or a minute without an answer puts the previous ones back;
// settings that did not come up keep the operator on the step.
func TestWizardAppliesNetwork(t *testing.T) {
	dhcp := func() *console { return newConsole(t, false).key("right", "enter", "enter") }
	t.Run("kept", func(t *testing.T) {
		c := dhcp()
		screen := ansi.Strip(c.m.View())
		if len(c.be.applied) != 1 || c.be.applied[0].Mode != setup.DHCP || c.be.applied[0].Interface != "eno1" {
			t.Fatalf("applied = %+v, want DHCP on eno1", c.be.applied)
		}
		for _, want := range []string{"eno1       up       52:54:00:12:34:56 DHCP   192.168.10.57/24", "DHCP on eno1 is applied. Keep it?", "in 60 s"} {
			if !strings.Contains(screen, want) {
				t.Errorf("screen lacks %q:\n%s", want, screen)
			}
		}
		c.key("enter")
		c.wantStep(screens.StepNetwork)
		c.key("y")
		c.wantStep(screens.StepDisks)
		c.key("esc", "enter", "enter")
		c.wantStep(screens.StepDisks)
		if len(c.be.applied) != 1 || c.be.reverts != 0 {
			t.Errorf("after keeping and passing again: %d applies, %d reverts; want 1, 0", len(c.be.applied), c.be.reverts)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, k := range []string{"n", "esc"} {
			c := dhcp().key(k)
			c.wantStep(screens.StepNetwork)
			if c.be.reverts != 1 || !strings.Contains(c.message(), "previous network settings are back") {
				t.Errorf("%s: %d reverts, message %q", k, c.be.reverts, c.message())
			}
		}
	})
	t.Run("no answer for a minute", func(t *testing.T) {
		c := dhcp()
		for range 59 {
			c.run(func() tea.Msg { return screens.NetworkTickMsg{} })
		}
		if c.be.reverts != 0 || !strings.Contains(c.m.View(), "in 1 s") {
			t.Fatalf("after 59 s: %d reverts; screen:\n%s", c.be.reverts, c.m.View())
		}
		c.run(func() tea.Msg { return screens.NetworkTickMsg{} })
		c.wantStep(screens.StepNetwork)
		if c.be.reverts != 1 {
			t.Errorf("after 60 s: %d reverts, want 1", c.be.reverts)
		}
	})
	t.Run("did not come up", func(t *testing.T) {
		c := newConsole(t, false)
		c.be.netFail = errors.New("DHCP on eno1: no DHCP lease after 1m0s, applied twice (check the cable, the DHCP server or the address): the previous settings are back")
		c.key("right", "enter", "enter")
		c.wantStep(screens.StepNetwork)
		if !strings.Contains(c.message(), "Not applied: DHCP on eno1: no DHCP lease") || strings.Contains(c.m.View(), "Keep it?") {
			t.Errorf("message %q; screen:\n%s", c.message(), c.m.View())
		}
	})
}

// TestStatusShowsTimeSource guards the status screen's time line: NTS
// synchronisation in one line, and when the time cannot be trusted, the
// state and what to check as an alert.
func TestStatusShowsTimeSource(t *testing.T) {
	c := newConsole(t, true)
	if v := c.m.View(); !strings.Contains(v, "Time source     NTS-synchronised to 162.159.200.1, stratum 3, 1.200 ms ahead") ||
		strings.Contains(v, "time:") {
		t.Errorf("synchronised through NTS:\n%s", v)
	}
	c.be.time = setup.TimeSync{Answered: true, NTSSources: 2, Problem: "none of the 2 NTS servers answers: the network must let the appliance reach them on TCP 4460 and UDP 123"}
	c.key("b")
	v := strings.Join(strings.Fields(ansi.Strip(c.m.View())), " ")
	for _, want := range []string{"Time source NOT synchronised", "time: none of the 2 NTS servers answers"} {
		if !strings.Contains(v, want) {
			t.Errorf("not synchronised: screen lacks %q:\n%s", want, c.m.View())
		}
	}
}

// TestConsoleRetriesTheAgent guards the moment after setup: the agent is
// still starting when the console first tries it, and the status screen
// must appear without a key pressed. Commands are run one at a time by
// hand (the refresh timer would otherwise run forever).
func TestConsoleRetriesTheAgent(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strongroom.yaml")
	if err := os.WriteFile(cfg, []byte("tenant_id: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	svc, tries := newFakeService(), 0
	m := tui.New(tui.Options{ConfigPath: cfg, Setup: newFakeBackend(), Refresh: time.Millisecond,
		Styles: styles.New(styles.NewRenderer(os.Stdout, termenv.Ascii)),
		Open: func(string) (screens.Service, func() error, error) {
			tries++
			if tries == 1 {
				return nil, nil, errors.New("the agent is not running (no answer on /run/strongroom/agent.sock)")
			}
			return svc, func() error { return nil }, nil
		}})
	step := func(cmd tea.Cmd) tea.Cmd {
		t.Helper()
		if cmd == nil {
			t.Fatalf("no command to run; screen:\n%s", m.View())
		}
		_, next := m.Update(cmd())
		return next
	}
	cmd := step(m.Init()) // the first try fails: a retry is scheduled
	if !strings.Contains(m.View(), "The agent cannot be reached") {
		t.Fatalf("after a failed open:\n%s", m.View())
	}
	step(step(cmd)) // the retry, then its open
	if m.Status() == nil || tries != 2 {
		t.Fatalf("after the retry: %d tries, status screen %v", tries, m.Status() != nil)
	}
}

// TestStatusOffsiteLine: with an offsite copy configured the status screen
// says how many restore points are in the bucket and since when, marks a
// failing copy, and says so when the copier never ran; without one it
// shows no offsite line at all.
func TestStatusOffsiteLine(t *testing.T) {
	c := newConsole(t, true)
	if strings.Contains(c.m.View(), "Offsite") {
		t.Fatalf("offsite line without an offsite copy:\n%s", c.m.View())
	}
	cases := []struct {
		name string
		o    api.OffsiteSummary
		want string
	}{
		{"healthy", api.OffsiteSummary{Bucket: "contoso-dr", Published: true, Snapshots: 42, SnapshotsOffsite: 41, LastSuccess: fixedNow.Add(-2 * time.Hour)}, "41 of 42 restore points in contoso-dr, 2h00m ago"},
		{"failing", api.OffsiteSummary{Bucket: "contoso-dr", Published: true, Snapshots: 42, SnapshotsOffsite: 40, LastError: "unreachable"}, "FAILING: 40 of 42 restore points in contoso-dr"},
		{"never ran", api.OffsiteSummary{Bucket: "contoso-dr"}, "not run yet (bucket contoso-dr)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			c.svc.status.Offsite = &o
			c.key("b") // any action refreshes the status
			if v := ansi.Strip(c.m.View()); !strings.Contains(v, tc.want) {
				t.Errorf("offsite line lacks %q:\n%s", tc.want, v)
			}
		})
	}
}

// TestWizardAdoptsMovedVault guards setting up a box on the disks of a
// dead one: the disks show their vault, the summary says it is used as it
// is, the key step asks for the vault's key instead of creating a vault,
// a wrong key commits nothing, the right one commits the vault with its
// disks in the vault's own order, and an interrupted setup never removes
// the vault the disks carried.
func TestWizardAdoptsMovedVault(t *testing.T) {
	moved := func(c *console) *console {
		v := func(i int) *setup.VaultOnDisk {
			return &setup.VaultOnDisk{ID: "0badc0de0badc0de0badc0de0badc0de", Index: i, K: 2, M: 2}
		}
		c.be.disks[0].Vault, c.be.disks[1].Vault, c.be.disks[2].Vault, c.be.disks[3].Vault = v(2), v(0), v(3), v(1)
		return c
	}
	c := moved(newConsole(t, false))
	c.key("enter")
	c.wantStep(screens.StepDisks)
	if view := c.m.View(); !strings.Contains(view, "vault 0badc0de, 3/4") {
		t.Fatalf("the disks do not show their vault:\n%s", view)
	}
	c.key("esc")
	c.toSummary()
	if view := c.m.View(); !strings.Contains(view, "vault 0badc0de already on them, layout 2+2: used as it is") {
		t.Fatalf("the summary does not say the vault is used:\n%s", view)
	}
	c.key("enter")
	c.wantStep(screens.StepKey)
	if view := c.m.View(); len(c.be.inits) != 0 || !strings.Contains(view, "The chosen disks hold vault 0badc0de") || strings.Contains(view, fakeKey) {
		t.Fatalf("key step: %d vault inits; screen:\n%s", len(c.be.inits), view)
	}
	c.typ("abcd-efgh").key("enter")
	if len(c.be.commits) != 0 || !strings.Contains(c.message(), "does not open vault") {
		t.Fatalf("a wrong key: %d commits, message %q", len(c.be.commits), c.message())
	}
	c.erase(len("abcd-efgh")).typ(fakeKey).key("enter")
	if len(c.be.commits) != 1 {
		t.Fatalf("%d commits after the vault's key, want 1 (message %q)", len(c.be.commits), c.message())
	}
	p := c.be.commits[0]
	if want := []string{"/srv/disk2", "/srv/disk4", "/srv/disk1", "/srv/disk3"}; !p.Adopted || p.RecoveryKey != fakeKey || !reflect.DeepEqual(p.Disks, want) {
		t.Errorf("committed plan: adopted %v, key %q, disks %v; want adopted with the key and disks %v", p.Adopted, p.RecoveryKey, p.Disks, want)
	}
	if c.m.Status() == nil {
		t.Fatalf("no status screen after setup:\n%s", c.m.View())
	}
	if err := c.m.Close(); err != nil || len(c.be.discarded) != 0 {
		t.Errorf("Close: %v, discarded %v", err, c.be.discarded)
	}

	c = moved(newConsole(t, false)).toSummary().key("enter")
	c.wantStep(screens.StepKey)
	c.key("esc")
	c.wantStep(screens.StepSummary)
	c.key("enter", "ctrl+c")
	if err := c.m.Close(); err != nil || len(c.be.discarded) != 0 || len(c.be.commits) != 0 {
		t.Errorf("interrupted at the key: %v, discarded %v, %d commits; want the carried vault left alone", err, c.be.discarded, len(c.be.commits))
	}
}
