package tui_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/tui"
	"github.com/strongroom/strongroom/tui/screens"
)

// fakeUpdater is an appliance running slot a (2026.03.1, confirmed) with
// 2026.02.3 in slot b, and two bundles attached: 2026.04.1 on /dev/sdf,
// which verifies, and a foreign one on /dev/sdg. Apply reports steps and
// afterwards shows slot b on trial as the next boot, as osupdate does.
type fakeUpdater struct {
	mu        sync.Mutex
	status    api.OSStatus
	statusErr error
	cands     []api.OSCandidate
	findErr   error
	steps     []api.OSProgress
	// gate, when set, holds Apply after its first report until closed.
	gate        chan struct{}
	applyErr    error
	rollbackErr error
	rebootErr   error
	calls       []string
}

const signatureErr = "the bundle is not signed by the update certificate (ECDSA signature does not verify): it was not built for this appliance, or it was altered"

func newFakeUpdater() *fakeUpdater {
	return &fakeUpdater{
		status: api.OSStatus{Slot: "a", ImageVersion: "2026.03.1", Version: "12", NextBoot: "a",
			Entries: []api.OSEntry{
				{Slot: "a", File: "strongroom-a.efi", State: api.OSGood, TriesLeft: -1, ImageVersion: "2026.03.1"},
				{Slot: "b", File: "strongroom-b.efi", State: api.OSGood, TriesLeft: -1, ImageVersion: "2026.02.3"},
			}},
		cands: []api.OSCandidate{
			{Path: "/dev/sdf", Manifest: &api.OSManifest{ImageVersion: "2026.04.1", Version: "12"}},
			{Path: "/dev/sdg", Problem: signatureErr},
		},
		steps: []api.OSProgress{
			{Step: "checking the bundle's signature"},
			{Step: "writing root.squashfs to slot b", Done: 600 << 20, Total: 1200 << 20},
			{Step: "writing root.squashfs to slot b", Done: 1200 << 20, Total: 1200 << 20},
			{Step: "verifying slot b", Done: 1200 << 20, Total: 1200 << 20},
			{Step: "writing the boot entry"},
		},
	}
}

func (f *fakeUpdater) record(c string) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

// Calls lists the calls that change something or read disks: find,
// apply:PATH, rollback, reboot (Status is left out).
func (f *fakeUpdater) Calls() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ",")
}

func (f *fakeUpdater) Status() (*api.OSStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	st := f.status
	st.Entries = append([]api.OSEntry(nil), f.status.Entries...)
	return &st, nil
}

func (f *fakeUpdater) Find() ([]api.OSCandidate, error) {
	f.record("find")
	return f.cands, f.findErr
}

func (f *fakeUpdater) Apply(_ context.Context, path string, o api.OSApplyOptions) (*api.OSResult, error) {
	f.record("apply:" + path)
	for i, p := range f.steps {
		o.Progress(p)
		if i == 1 && f.gate != nil {
			<-f.gate
		}
	}
	if f.applyErr != nil {
		return nil, f.applyErr
	}
	f.mu.Lock()
	f.status.Entries[1] = api.OSEntry{Slot: "b", File: "strongroom-b+3.efi", State: api.OSTrial, TriesLeft: 3, ImageVersion: "2026.04.1"}
	f.status.NextBoot = "b"
	f.mu.Unlock()
	return &api.OSResult{Slot: "b", ImageVersion: "2026.04.1",
		Message: "version 2026.04.1 is in slot b and verified; it boots at the next restart, on trial: unless it is healthy within 3 boots, slot a (version 2026.03.1) boots again"}, nil
}

func (f *fakeUpdater) Rollback() (*api.OSResult, error) {
	f.record("rollback")
	if f.rollbackErr != nil {
		return nil, f.rollbackErr
	}
	f.mu.Lock()
	f.status.Entries[0] = api.OSEntry{Slot: "a", File: "strongroom-a+0.efi", State: api.OSBad, ImageVersion: "2026.03.1"}
	f.status.NextBoot = "b"
	f.mu.Unlock()
	return &api.OSResult{Slot: "b", ImageVersion: "2026.02.3",
		Message: "slot b (version 2026.02.3) boots at the next restart; slot a (version 2026.03.1) stays installed but will not boot unless updated again"}, nil
}

func (f *fakeUpdater) Reboot() error {
	f.record("reboot")
	return f.rebootErr
}

var _ screens.Updater = (*fakeUpdater)(nil)

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// updateConsole is a configured console with up as its updater, logging
// to log.
func updateConsole(t *testing.T, profile termenv.Profile, up *fakeUpdater, log *syncBuffer) *console {
	t.Helper()
	return newConsoleOpts(t, true, profile, nil, func(o *tui.Options) {
		o.Updater = up
		if log != nil {
			o.Log = slog.New(slog.NewTextHandler(log, nil))
		}
	})
}

// keyApply sends the key that starts an apply and returns its two
// commands unrun: the apply itself and the wait for its first progress
// report.
func (c *console) keyApply(name string) (apply, wait tea.Cmd) {
	c.t.Helper()
	_, cmd := c.m.Update(keyMsg(name))
	if cmd == nil {
		c.t.Fatalf("%s started nothing; screen:\n%s", name, c.m.View())
	}
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) != 2 {
		c.t.Fatalf("%s did not start an apply with a progress wait", name)
	}
	return batch[0], batch[1]
}

// deliver runs a wait command and feeds its message to the model, which
// returns the next wait.
func (c *console) deliver(wait tea.Cmd) tea.Cmd {
	c.t.Helper()
	msg := wait()
	if msg == nil {
		return nil
	}
	_, next := c.m.Update(msg)
	c.views = append(c.views, c.m.View())
	return next
}

// wantText fails unless the screen shows every string, where text
// wrapped over several lines counts as one.
func (c *console) wantText(what ...string) {
	c.t.Helper()
	var lines []string
	for _, l := range strings.Split(c.m.View(), "\n") {
		lines = append(lines, strings.Trim(l, "│ "))
	}
	flat := strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	for _, w := range what {
		if !strings.Contains(flat, w) {
			c.t.Fatalf("screen does not show %q:\n%s", w, c.m.View())
		}
	}
}

func (c *console) wantNoView(what ...string) {
	c.t.Helper()
	v := c.m.View()
	for _, w := range what {
		if strings.Contains(v, w) {
			c.t.Fatalf("screen shows %q:\n%s", w, v)
		}
	}
}

func wantLog(t *testing.T, log *syncBuffer, lines ...string) {
	t.Helper()
	got := log.String()
	for _, l := range lines {
		if !strings.Contains(got, l) {
			t.Errorf("the log has no %q:\n%s", l, got)
		}
	}
}

// TestUpdateApplyWithProgress guards the update path the firmware test
// drives: u, enter on the pre-selected verified bundle, y, live progress,
// the result, y to restart, with one log line per milestone.
func TestUpdateApplyWithProgress(t *testing.T) {
	up, log := newFakeUpdater(), &syncBuffer{}
	up.gate = make(chan struct{})
	c := updateConsole(t, termenv.Ascii, up, log)
	c.wantView("u update")
	c.key("u")
	if !c.m.Status().Updating() {
		t.Fatalf("u did not open the update screen:\n%s", c.m.View())
	}
	c.wantView("STRONGROOM update", "slot a, version 2026.03.1, confirmed", "slot b, version 2026.02.3, good", "Next boot   slot a",
		"> /dev/sdf       version 2026.04.1        signature OK", "  /dev/sdg       does not verify: the bundle is not signed",
		"Press enter to install version 2026.04.1.")
	wantLog(t, log, "update: running slot a, version 2026.03.1; next boot slot a", "update: found version 2026.04.1 on /dev/sdf, signature OK",
		"update: found a bundle on /dev/sdg that does not verify")
	c.key("enter")
	c.wantText("Install version 2026.04.1 into slot b? y/n", "slot a (version 2026.03.1) stays as it is")
	if calls := up.Calls(); strings.Contains(calls, "apply") {
		t.Fatalf("applied before confirmation: %s", calls)
	}

	apply, wait := c.keyApply("y")
	done := make(chan tea.Msg)
	go func() { done <- apply() }()
	wait = c.deliver(wait) // the signature step, or already the write
	if !strings.Contains(c.m.View(), "Step: writing root.squashfs") {
		wait = c.deliver(wait)
	}
	c.wantView("Installing version 2026.04.1 from /dev/sdf into slot b", "Step: writing root.squashfs to slot b", " 50%", "600.0 MiB of 1.2 GiB")
	// A second apply is refused while the first runs.
	c.key("y")
	c.wantView("Wait: an update is being installed; it cannot be started twice")
	c.key("enter")
	if calls := up.Calls(); strings.Count(calls, "apply") != 1 {
		t.Fatalf("calls = %s, want one apply", calls)
	}
	// Esc leaves it running: the status screen shows it, q is refused, u
	// comes back to it.
	c.key("esc")
	if c.m.Status().Updating() {
		t.Fatal("esc did not go back to the status screen")
	}
	c.wantView("STRONGROOM status", "The update goes on; u shows its progress.")
	c.key("q")
	if c.quit {
		t.Fatal("q quit while the update was being written")
	}
	c.wantView("Wait: the update is running")
	c.key("u")
	c.wantView("Step: writing root.squashfs to slot b")

	close(up.gate)
	res := <-done
	for wait != nil {
		wait = c.deliver(wait)
	}
	_, cmd := c.m.Update(res)
	c.run(cmd)
	c.wantText("Version 2026.04.1 is in slot b and verified", "Restart now? y / n", "slot b, version 2026.04.1, trial (3 boot tries left)",
		"Next boot slot b (a different version at the next restart)", "Slot b (version 2026.04.1) boots at the next restart. Restart now? y / n")
	wantLog(t, log, "update: applying version 2026.04.1 from /dev/sdf to slot b", "update: checking the bundle's signature",
		"update: writing root.squashfs to slot b", "update: verifying slot b", "update: writing the boot entry",
		"update: slot b written and verified: version 2026.04.1 boots at the next restart, on trial")
	if n := strings.Count(log.String(), "update: writing root.squashfs"); n != 1 {
		t.Errorf("the write step is logged %d times, want once per step", n)
	}
	if strings.Contains(up.Calls(), "reboot") {
		t.Fatal("restarted without being asked")
	}
	c.key("y")
	if calls := up.Calls(); !strings.HasSuffix(calls, "apply:/dev/sdf,reboot") {
		t.Fatalf("calls = %s, want the apply then a reboot", calls)
	}
	c.wantView("Restarting...")
	wantLog(t, log, "update: restarting")
}

func TestUpdateApplyFailure(t *testing.T) {
	up, log := newFakeUpdater(), &syncBuffer{}
	up.applyErr = fmt.Errorf("slot b does not verify after writing, nothing was switched: %w",
		errors.New("verity: hash block 1234 of /dev/disk/by-partlabel/sr-verity-b does not match its parent: the disk returned other bytes than were written; check the boot disk's health"))
	c := updateConsole(t, termenv.Ascii, up, log).key("u", "enter", "y")
	c.wantView("The update failed:", "The update failed: the running version stays as it is.", "enter back to the list")
	// The whole error, wrapped onto several lines, ending with its remedy.
	c.wantText("slot b does not verify after writing, nothing was switched: verity: hash block", "check the boot disk's health")
	checkScreen(t, c.m.View())
	wantLog(t, log, "update: apply failed: slot b does not verify after writing")
	c.key("y")
	if strings.Contains(up.Calls(), "reboot") {
		t.Fatal("a failed update offered a restart")
	}
	c.key("enter")
	c.wantView("> /dev/sdf", "Press enter to install version 2026.04.1.")
	if calls := up.Calls(); calls != "find,apply:/dev/sdf,find" {
		t.Errorf("calls = %s", calls)
	}
}

func TestUpdateRollback(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		up := newFakeUpdater()
		c := updateConsole(t, termenv.Ascii, up, nil).key("u", "R")
		c.wantText("Roll back to slot b (version 2026.02.3)? y/n", "slot a (version 2026.03.1) stays installed")
		c.key("n")
		c.wantView("Nothing was changed.", "R roll back")
		c.key("R", "esc")
		c.wantView("Nothing was changed.")
		if !c.m.Status().Updating() {
			t.Fatal("esc at the confirmation left the update screen")
		}
		c.key("R", "enter")
		c.wantView("Roll back to slot b (version 2026.02.3)? y/n")
		if calls := up.Calls(); strings.Contains(calls, "rollback") {
			t.Fatalf("rolled back without y: %s", calls)
		}
	})
	t.Run("confirm and restart later", func(t *testing.T) {
		up, log := newFakeUpdater(), &syncBuffer{}
		c := updateConsole(t, termenv.Ascii, up, log).key("u", "R", "y")
		c.wantText("Slot b (version 2026.02.3) boots at the next restart; slot a", "Restart now? y / n", "Next boot slot b")
		wantLog(t, log, "update: rollback to slot b", "update: rollback done: slot b (version 2026.02.3) boots at the next restart")
		c.key("n")
		c.wantView("Slot b (version 2026.02.3) boots at the next restart.", "Update bundles on attached disks")
		if calls := up.Calls(); calls != "find,rollback,find" {
			t.Errorf("calls = %s", calls)
		}
		c.key("esc")
		c.wantView("STRONGROOM status")
	})
	t.Run("restart refused", func(t *testing.T) {
		up := newFakeUpdater()
		up.rebootErr = errors.New("systemctl reboot: exit status 1: Failed to connect to bus")
		c := updateConsole(t, termenv.Ascii, up, nil).key("u", "R", "y", "y")
		c.wantView("The restart was refused:", "Failed to connect to bus", "Restart now? y / n")
		c.key("y")
		if calls := up.Calls(); calls != "find,rollback,reboot,reboot" {
			t.Errorf("calls = %s", calls)
		}
	})
	t.Run("failure", func(t *testing.T) {
		up := newFakeUpdater()
		up.rollbackErr = errors.New("another update or rollback is running")
		log := &syncBuffer{}
		c := updateConsole(t, termenv.Ascii, up, log).key("u", "R", "y")
		wantLog(t, log, "update: rollback failed: another update or rollback is running")
		c.wantView("The rollback failed:", "another update or rollback is running")
		c.wantNoView("Restart now")
	})
	t.Run("nothing to roll back to", func(t *testing.T) {
		up := newFakeUpdater()
		up.status.Entries = up.status.Entries[:1]
		c := updateConsole(t, termenv.Ascii, up, nil).key("u")
		c.wantView("slot b, empty (no boot entry)")
		c.wantNoView("R roll back")
		c.key("R")
		c.wantView("Slot b holds no other version: there is nothing to roll back to.")
		up.status.Entries = append(up.status.Entries, api.OSEntry{Slot: "b", State: api.OSBad, ImageVersion: "2026.02.3"})
		c.key("f", "R")
		c.wantView("slot b, version 2026.02.3, bad: failed to boot", "Slot b (version 2026.02.3) failed to boot before")
		if calls := up.Calls(); strings.Contains(calls, "rollback") {
			t.Errorf("calls = %s", calls)
		}
	})
}

func TestUpdateNotAppliance(t *testing.T) {
	up, log := newFakeUpdater(), &syncBuffer{}
	up.statusErr = api.ErrNotAppliance
	c := updateConsole(t, termenv.Ascii, up, log).key("u")
	c.wantText("This console is not running from a Strongroom appliance image", "no strongroom.slot= on the kernel command line",
		"Updates are installed only on the appliance.", "esc back")
	c.wantNoView("enter", "R roll back", "Update bundles")
	c.key("enter", "R", "y")
	c.wantView("This console is not running from a Strongroom appliance image")
	if calls := up.Calls(); calls != "" {
		t.Errorf("outside the appliance the updater was asked for %s", calls)
	}
	wantLog(t, log, "update: cannot read the boot disk: not running from a Strongroom appliance image")
	c.key("esc")
	c.wantView("STRONGROOM status")
}

func TestUpdateNoBundles(t *testing.T) {
	t.Run("none attached", func(t *testing.T) {
		up, log := newFakeUpdater(), &syncBuffer{}
		up.cands = nil
		c := updateConsole(t, termenv.Ascii, up, log).key("u")
		c.wantText("None found. Write the bundle to a USB disk with dd", "dd if=strongroom-VERSION.bundle of=/dev/sdX", "No update bundle found: attach the disk it was written to, then press f.")
		c.wantNoView("enter install")
		c.key("enter", "y")
		c.wantText("No update bundle found: write it to a disk with dd")
		wantLog(t, log, "update: no bundle found on the attached disks")
		// f finds one attached since.
		up.cands = newFakeUpdater().cands[:1]
		c.key("f")
		c.wantView("> /dev/sdf", "enter install")
		if calls := up.Calls(); calls != "find,find" {
			t.Errorf("calls = %s", calls)
		}
	})
	t.Run("only one that does not verify", func(t *testing.T) {
		up := newFakeUpdater()
		up.cands = up.cands[1:]
		c := updateConsole(t, termenv.Ascii, up, nil).key("u")
		c.wantText("No bundle found verifies", "/dev/sdg: the bundle is not signed by the update certificate", "not built for this appliance")
		c.key("enter", "y")
		c.wantView("/dev/sdg cannot be installed: it does not verify")
		if calls := up.Calls(); strings.Contains(calls, "apply") {
			t.Errorf("calls = %s", calls)
		}
	})
	t.Run("the verified one is chosen first", func(t *testing.T) {
		up := newFakeUpdater()
		up.cands[0], up.cands[1] = up.cands[1], up.cands[0]
		c := updateConsole(t, termenv.Ascii, up, nil).key("u")
		c.wantView("> /dev/sdf")
		c.key("up", "enter")
		c.wantView("/dev/sdg cannot be installed")
		c.key("down", "enter", "y")
		if calls := up.Calls(); calls != "find,apply:/dev/sdf" {
			t.Errorf("calls = %s", calls)
		}
	})
	t.Run("find fails", func(t *testing.T) {
		up := newFakeUpdater()
		up.findErr = errors.New("open /sys/class/block: permission denied")
		c := updateConsole(t, termenv.Ascii, up, nil).key("u")
		c.wantView("Looking for bundles failed:", "open /sys/class/block: permission denied", "Looking for bundles failed: press f to try again.")
	})
}

// TestUpdateActionHidden guards the console without an updater (tests,
// demos): no u on the help line, and u explains itself.
func TestUpdateActionHidden(t *testing.T) {
	c := newConsole(t, true)
	c.wantNoView("u update")
	c.key("u")
	c.wantView("Software updates are not available in this console.")
	if c.m.Status().Updating() {
		t.Fatal("the update screen opened without an updater")
	}
}

// TestStatusHelpFits guards the help line's width: with the updater and
// a pending clock jump, c clock wins the last room.
func TestStatusHelpFits(t *testing.T) {
	c := updateConsole(t, termenv.Ascii, newFakeUpdater(), nil)
	c.wantView("t retention  u update")
	c.svc.status.Vault.Clock.JumpPending = true
	c.key("b")
	c.wantView("t retention  c clock")
	checkScreen(t, c.m.View())
	c.key("u")
	if !c.m.Status().Updating() {
		t.Error("u does not open the update screen when the help line has no room for it")
	}
}

// updateScreens renders the update screen's states for the golden test.
func updateScreens(t *testing.T) map[string]string {
	out := map[string]string{}
	c := updateConsole(t, termenv.Ascii, newFakeUpdater(), nil)
	out["status-updater"] = c.m.View()
	c.key("u")
	out["update"] = c.m.View()
	c.key("enter")
	out["update-confirm"] = c.m.View()
	up := newFakeUpdater()
	up.gate = make(chan struct{})
	c = updateConsole(t, termenv.Ascii, up, nil).key("u", "enter")
	apply, wait := c.keyApply("y")
	done := make(chan tea.Msg)
	go func() { done <- apply() }()
	for !strings.Contains(c.m.View(), "Step: writing root.squashfs") {
		wait = c.deliver(wait)
	}
	out["update-running"] = c.m.View()
	close(up.gate)
	res := <-done
	for wait != nil {
		wait = c.deliver(wait)
	}
	_, cmd := c.m.Update(res)
	c.run(cmd)
	out["update-done"] = c.m.View()
	c.key("n", "R")
	out["update-rollback-confirm"] = c.m.View()

	up = newFakeUpdater()
	up.applyErr = errors.New("slot b does not verify after writing, nothing was switched: verity: hash block 1234 of /dev/disk/by-partlabel/sr-verity-b does not match its parent")
	out["update-failed"] = updateConsole(t, termenv.Ascii, up, nil).key("u", "enter", "y").m.View()
	up = newFakeUpdater()
	up.statusErr = api.ErrNotAppliance
	out["update-not-appliance"] = updateConsole(t, termenv.Ascii, up, nil).key("u").m.View()
	up = newFakeUpdater()
	up.cands = nil
	out["update-none"] = updateConsole(t, termenv.Ascii, up, nil).key("u").m.View()
	return out
}

// walkUpdate goes through every state of the update screen, for the glyph
// test, and returns the screens it rendered.
func walkUpdate(t *testing.T, profile termenv.Profile) []string {
	var views []string
	up := newFakeUpdater()
	// A bundle error with characters the console font lacks.
	up.cands[1].Problem = "manifest: invalid character '\u2602' looking for beginning of value \u65e5"
	up.rebootErr = errors.New("systemctl reboot: exit status 1: Failed to connect to bus")
	c := updateConsole(t, profile, up, nil).key("u", "down", "enter", "up", "enter", "n", "enter", "y", "y", "n", "R", "n", "R", "y", "y")
	views = append(views, c.views...)
	up = newFakeUpdater()
	up.applyErr = errors.New("write /dev/disk/by-partlabel/sr-root-b: input/output error")
	c = updateConsole(t, profile, up, nil).key("u", "enter", "y", "enter", "esc")
	views = append(views, c.views...)
	for _, prep := range []func(*fakeUpdater){
		func(u *fakeUpdater) { u.statusErr = api.ErrNotAppliance },
		func(u *fakeUpdater) {
			u.statusErr = errors.New("image release: open /usr/lib/strongroom/image-release: no such file")
		},
		func(u *fakeUpdater) { u.cands = nil },
		func(u *fakeUpdater) { u.findErr = errors.New("open /sys/class/block: permission denied") },
		func(u *fakeUpdater) { u.status.Trial, u.status.Entries = true, u.status.Entries[:1] },
	} {
		up = newFakeUpdater()
		prep(up)
		views = append(views, updateConsole(t, profile, up, nil).key("u", "enter", "R", "f", "esc").views...)
	}
	up = newFakeUpdater()
	up.gate = make(chan struct{})
	c = updateConsole(t, profile, up, nil).key("u", "enter")
	apply, wait := c.keyApply("y")
	done := make(chan tea.Msg)
	go func() { done <- apply() }()
	for !strings.Contains(c.m.View(), "Step: writing root.squashfs") {
		wait = c.deliver(wait)
	}
	c.key("esc")
	close(up.gate)
	res := <-done
	for wait != nil {
		wait = c.deliver(wait)
	}
	_, cmd := c.m.Update(res)
	c.run(cmd)
	c.key("u", "y")
	return append(views, c.views...)
}
