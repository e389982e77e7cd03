package screens

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// Updater is the update service the screen asks (api.Updater): on the
// appliance, the root-owned strongroom-update.service over its socket;
// tests fake it. Methods are called from tea.Cmd goroutines, one at a
// time: the screen never scans while an apply or a rollback runs.
type Updater = api.Updater

// updPhase is where the update screen is.
type updPhase int

const (
	updLoading         updPhase = iota // reading the slots and looking for bundles
	updList                            // slots and bundles shown, waiting for a choice
	updConfirmApply                    // "Install version X into slot b? y/n"
	updConfirmRollback                 // "Roll back to slot a? y/n"
	updRunning                         // Apply or Rollback is running
	updDone                            // the result, with "Restart now? y / n" after a success
	updRestarting                      // Reboot accepted
)

// UpdateScreen installs a signed update bundle found on an attached disk
// into the slot the appliance is not running from, or rolls back to the
// other slot, and offers a restart afterwards. It is opened from the
// status screen (u) and keeps running an apply when the operator leaves it
// with Esc.
type UpdateScreen struct {
	up  Updater
	log *slog.Logger
	st  styles.Styles

	gen       int // which scan or action a message belongs to
	phase     updPhase
	status    *api.OSStatus
	statusErr error
	cands     []api.OSCandidate
	findErr   error
	cursor    int

	// The running or finished action.
	rollback  bool
	chosen    api.OSCandidate
	progress  api.OSProgress
	result    *api.OSResult
	err       error
	rebootErr error

	msg  string
	kind components.MessageKind
}

// Messages of the update screen's commands. gen ties each to the scan or
// action that sent it; a message of an older one is dropped.
type (
	updScanMsg struct {
		gen     int
		st      *api.OSStatus
		stErr   error
		cands   []api.OSCandidate
		findErr error
	}
	updProgressMsg struct {
		gen int
		p   api.OSProgress
		ch  <-chan api.OSProgress
	}
	updDoneMsg struct {
		gen int
		res *api.OSResult
		err error
		st  *api.OSStatus // read again after the action, nil if that failed
	}
	updRebootMsg struct {
		gen int
		err error
	}
)

// NewUpdateScreen returns the update screen for up; log receives one line
// per milestone (nil discards them).
func NewUpdateScreen(up Updater, log *slog.Logger, st styles.Styles) *UpdateScreen {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &UpdateScreen{up: up, log: log, st: st}
}

// Open starts the screen: it reads the slots and looks for bundles. A
// screen whose action runs, or finished while it was not shown, keeps
// showing that action.
func (u *UpdateScreen) Open() tea.Cmd {
	if u.phase == updRunning || u.phase == updDone || u.phase == updRestarting {
		return nil
	}
	u.msg = ""
	return u.scan()
}

// NotAppliance reports whether the console runs outside an appliance
// image, where the screen offers nothing.
func (u *UpdateScreen) NotAppliance() bool { return errors.Is(u.statusErr, api.ErrNotAppliance) }

// Busy reports whether an apply or a rollback is running.
func (u *UpdateScreen) Busy() bool { return u != nil && u.phase == updRunning }

// actionName names the running or last action: "update" or "rollback".
func (u *UpdateScreen) actionName() string {
	if u.rollback {
		return "rollback"
	}
	return "update"
}

// Message is the screen's message line and its kind.
func (u *UpdateScreen) Message() (string, components.MessageKind) { return u.msg, u.kind }

func (u *UpdateScreen) say(kind components.MessageKind, format string, args ...any) {
	u.msg, u.kind = fmt.Sprintf(format, args...), kind
}

// scan reads the slots and, on an appliance, the attached disks.
func (u *UpdateScreen) scan() tea.Cmd {
	u.gen++
	u.phase = updLoading
	gen, up := u.gen, u.up
	return func() tea.Msg {
		m := updScanMsg{gen: gen}
		m.st, m.stErr = up.Status()
		if m.stErr != nil {
			// Outside the appliance the host's disks are none of the
			// console's business: do not open them.
			return m
		}
		m.cands, m.findErr = up.Find()
		return m
	}
}

// logScan logs what a scan found. It runs in Update, so whoever waits for
// these lines (the firmware test) knows the screen already shows them.
func (u *UpdateScreen) logScan() {
	log := u.log
	if u.statusErr != nil {
		log.Info("update: cannot read the boot disk: " + oneLine(u.statusErr))
		return
	}
	trial := ""
	if u.status.Trial {
		trial = " (on trial)"
	}
	log.Info(fmt.Sprintf("update: running slot %s, version %s%s; next boot slot %s", u.status.Slot, u.status.ImageVersion, trial, u.status.NextBoot))
	switch {
	case u.findErr != nil:
		log.Info("update: looking for bundles failed: " + oneLine(u.findErr))
	case len(u.cands) == 0:
		log.Info("update: no bundle found on the attached disks")
	}
	for _, c := range u.cands {
		if c.Problem != "" {
			log.Info(fmt.Sprintf("update: found a bundle on %s that does not verify: %s", c.Path, oneLine(errors.New(c.Problem))))
		} else {
			log.Info(fmt.Sprintf("update: found version %s on %s, signature OK", c.Manifest.ImageVersion, c.Path))
		}
	}
}

// Update handles one message for the screen. closed is true when the
// operator left it with Esc (an apply may go on running).
func (u *UpdateScreen) Update(msg tea.Msg) (cmd tea.Cmd, closed bool) {
	switch msg := msg.(type) {
	case updScanMsg:
		if msg.gen == u.gen && u.phase == updLoading {
			u.gotScan(msg)
		}
	case updProgressMsg:
		if msg.gen == u.gen && u.phase == updRunning {
			u.progress = msg.p
			return waitProgress(msg.gen, msg.ch), false
		}
	case updDoneMsg:
		if msg.gen == u.gen && u.phase == updRunning {
			u.gotDone(msg)
		}
	case updRebootMsg:
		if msg.gen == u.gen && u.phase == updRestarting {
			if msg.err != nil {
				u.phase, u.rebootErr = updDone, msg.err
				u.say(components.Problem, "The restart was refused; restart now? y / n")
			}
		}
	case tea.KeyMsg:
		return u.key(msg)
	}
	return nil, false
}

func (u *UpdateScreen) gotScan(m updScanMsg) {
	u.phase = updList
	u.status, u.statusErr, u.cands, u.findErr = m.st, m.stErr, m.cands, m.findErr
	u.logScan()
	u.cursor = 0
	for i, c := range u.cands {
		if c.Problem == "" && c.Manifest != nil {
			u.cursor = i
			break
		}
	}
	switch {
	case u.NotAppliance():
		u.say(components.Info, "Updates are installed only on the appliance.")
	case u.statusErr != nil:
		u.say(components.Problem, "The boot disk cannot be read: press f to try again.")
	case u.findErr != nil:
		u.say(components.Problem, "Looking for bundles failed: press f to try again.")
	case len(u.cands) == 0:
		u.say(components.Info, "No update bundle found: attach the disk it was written to, then press f.")
	case u.verified(u.cursor) == nil:
		u.say(components.Warning, "No bundle found verifies: only a bundle signed for this appliance installs.")
	default:
		if u.msg == "" || u.kind != components.Good {
			u.say(components.Info, "Press enter to install version %s.", components.Safe(u.cands[u.cursor].Manifest.ImageVersion))
		}
	}
}

// verified returns the manifest of candidate i when it can be installed.
func (u *UpdateScreen) verified(i int) *api.OSManifest {
	if i < 0 || i >= len(u.cands) || u.cands[i].Problem != "" {
		return nil
	}
	return u.cands[i].Manifest
}

func (u *UpdateScreen) key(msg tea.KeyMsg) (tea.Cmd, bool) {
	back := key.Matches(msg, keys.Back)
	switch u.phase {
	case updLoading:
		if back {
			return nil, true
		}
	case updList:
		return u.listKey(msg)
	case updConfirmApply, updConfirmRollback:
		switch {
		case key.Matches(msg, keys.Yes):
			return u.start(), false
		case back || key.Matches(msg, keys.No):
			u.phase = updList
			u.say(components.Info, "Nothing was changed.")
			u.log.Info("update: cancelled at the confirmation")
		}
	case updRunning:
		if back {
			return nil, true
		}
		what := "an update is being installed"
		if u.rollback {
			what = "the rollback is running"
		}
		u.say(components.Warning, "Wait: %s; it cannot be started twice (esc leaves it running).", what)
	case updDone:
		ok := u.err == nil && u.result != nil
		switch {
		case back:
			return nil, true
		case ok && key.Matches(msg, keys.Yes):
			return u.reboot(), false
		case key.Matches(msg, keys.No) || (!ok && key.Matches(msg, keys.List)):
			if ok {
				u.say(components.Good, "%s", u.bootsNext())
			} else {
				u.msg = ""
			}
			return u.scan(), false
		}
	case updRestarting:
		// Nothing to do but wait for the system to stop the console.
	}
	return nil, false
}

func (u *UpdateScreen) listKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, keys.Back):
		return nil, true
	case key.Matches(msg, keys.Rescan):
		u.say(components.Info, "Looking for update bundles...")
		return u.scan(), false
	case u.status == nil:
		// Outside the appliance, or the boot disk unreadable: nothing
		// else is offered.
		return nil, false
	case len(u.cands) > 0 && focusMove(msg, &u.cursor, len(u.cands)):
		u.msg = ""
	case key.Matches(msg, keys.Install):
		if len(u.cands) == 0 {
			u.say(components.Problem, "No update bundle found: write it to a disk with dd, attach the disk, then press f.")
			return nil, false
		}
		c := u.cands[u.cursor]
		m := u.verified(u.cursor)
		if m == nil {
			u.say(components.Problem, "%s cannot be installed: it does not verify (the reason is shown above).", components.Safe(c.Path))
			return nil, false
		}
		u.chosen, u.rollback, u.phase = c, false, updConfirmApply
		u.say(components.Warning, "Install version %s into slot %s? y/n", components.Safe(m.ImageVersion), u.status.Slot.Other())
	case key.Matches(msg, keys.Rollback):
		other := u.status.Entry(u.status.Slot.Other())
		switch {
		case other == nil:
			u.say(components.Problem, "Slot %s holds no other version: there is nothing to roll back to.", u.status.Slot.Other())
		case other.State == api.OSBad:
			u.say(components.Problem, "Slot %s (version %s) failed to boot before: install an update instead.", other.Slot, components.Safe(other.ImageVersion))
		default:
			u.rollback, u.phase = true, updConfirmRollback
			u.say(components.Warning, "Roll back to slot %s (version %s)? y/n", other.Slot, components.Safe(other.ImageVersion))
		}
	}
	return nil, false
}

// start runs the confirmed apply or rollback. An apply reports its
// progress through a channel that holds only the latest report, so a slow
// screen never holds up the writing.
func (u *UpdateScreen) start() tea.Cmd {
	if u.phase == updRunning {
		return nil
	}
	u.gen++
	u.phase, u.progress, u.result, u.err, u.rebootErr = updRunning, api.OSProgress{}, nil, nil, nil
	gen, up, log := u.gen, u.up, u.log
	if u.rollback {
		other := u.status.Slot.Other()
		log.Info(fmt.Sprintf("update: rollback to slot %s", other))
		u.say(components.Info, "Rolling back to slot %s...", other)
		return func() tea.Msg {
			res, err := up.Rollback()
			st, _ := up.Status()
			return updDoneMsg{gen: gen, res: res, err: err, st: st}
		}
	}
	c, target := u.chosen, u.status.Slot.Other()
	version := c.Manifest.ImageVersion
	log.Info(fmt.Sprintf("update: applying version %s from %s to slot %s", version, c.Path, target))
	u.say(components.Info, "Installing version %s into slot %s...", components.Safe(version), target)
	ch := make(chan api.OSProgress, 1)
	apply := func() tea.Msg {
		last := ""
		res, err := up.Apply(context.Background(), c.Path, api.OSApplyOptions{Progress: func(p api.OSProgress) {
			if p.Step != last {
				last = p.Step
				log.Info("update: " + p.Step)
			}
			// Replace an unread report: only the latest matters, and
			// this goroutine is the only sender, so the send never
			// blocks.
			select {
			case <-ch:
			default:
			}
			ch <- p
		}})
		close(ch)
		st, _ := up.Status()
		return updDoneMsg{gen: gen, res: res, err: err, st: st}
	}
	return tea.Batch(apply, waitProgress(gen, ch))
}

// waitProgress delivers the next progress report of an apply; it ends
// when the apply closes the channel.
func waitProgress(gen int, ch <-chan api.OSProgress) tea.Cmd {
	return func() tea.Msg {
		p, ok := <-ch
		if !ok {
			return nil
		}
		return updProgressMsg{gen: gen, p: p, ch: ch}
	}
}

// gotDone shows the result of an apply or rollback and logs it (here in
// Update, so that once the line is logged, y restarts).
func (u *UpdateScreen) gotDone(m updDoneMsg) {
	u.phase, u.result, u.err = updDone, m.res, m.err
	switch {
	case m.err != nil:
		name := "apply"
		if u.rollback {
			name = "rollback"
		}
		u.log.Info(fmt.Sprintf("update: %s failed: %s", name, oneLine(m.err)))
	case m.res == nil:
	case u.rollback:
		u.log.Info(fmt.Sprintf("update: rollback done: slot %s (version %s) boots at the next restart", m.res.Slot, m.res.ImageVersion))
	default:
		u.log.Info(fmt.Sprintf("update: slot %s written and verified: version %s boots at the next restart, on trial", m.res.Slot, m.res.ImageVersion))
	}
	if m.st != nil {
		u.status = m.st
	}
	what := "The update"
	if u.rollback {
		what = "The rollback"
	}
	switch {
	case m.err != nil:
		u.say(components.Problem, "%s failed: the running version stays as it is.", what)
	case m.res == nil:
		u.err = errors.New("no result was returned")
		u.say(components.Problem, "%s gave no result.", what)
	default:
		u.say(components.Good, "%s Restart now? y / n", u.bootsNext())
	}
}

// bootsNext says what the finished action made the next boot.
func (u *UpdateScreen) bootsNext() string {
	if u.result == nil {
		return ""
	}
	return fmt.Sprintf("Slot %s (version %s) boots at the next restart.", u.result.Slot, components.Safe(u.result.ImageVersion))
}

func (u *UpdateScreen) reboot() tea.Cmd {
	u.phase = updRestarting
	u.say(components.Info, "Restarting the appliance...")
	gen, up, log := u.gen, u.up, u.log
	log.Info("update: restarting")
	return func() tea.Msg {
		err := up.Reboot()
		if err != nil {
			log.Info("update: restart failed: " + oneLine(err))
		}
		return updRebootMsg{gen: gen, err: err}
	}
}

// Running describes an apply or rollback in progress for the status
// screen, or "".
func (u *UpdateScreen) Running() string {
	if u == nil || u.phase != updRunning {
		return ""
	}
	if u.rollback {
		return "rollback"
	}
	line := "update to " + components.Safe(u.chosen.Manifest.ImageVersion)
	if p := u.progress; p.Total > 0 {
		line += fmt.Sprintf(", %s %d%%", components.Safe(p.Step), percent(p))
	}
	return line
}

func percent(p api.OSProgress) int64 {
	if p.Total <= 0 {
		return 0
	}
	return min(max(p.Done, 0), p.Total) * 100 / p.Total
}

// oneLine keeps an error on one log line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// View draws the screen.
func (u *UpdateScreen) View() string {
	st := u.st
	b := []string{st.Heading.Render("Update or roll back the appliance software"), ""}
	wrap := func(style func(...string) string, s string) {
		for _, l := range components.Wrap(components.Safe(s), components.BodyWidth) {
			b = append(b, style(l))
		}
	}
	plain := func(s ...string) string { return strings.Join(s, " ") }
	var help []key.Binding
	right := ""
	switch {
	case u.phase == updLoading && u.status == nil && u.statusErr == nil:
		b = append(b, "Reading the boot disk and looking for update bundles...")
		help = []key.Binding{keys.Back}
	case u.NotAppliance():
		if u.statusErr == api.ErrNotAppliance {
			wrap(st.Warn.Render, "This console is "+u.statusErr.Error()+", so it cannot update or roll back the software here.")
		} else {
			wrap(st.Warn.Render, "This console is not running from a Strongroom appliance image, so it cannot update or roll back the software here.")
			b = append(b, "")
			wrap(plain, u.statusErr.Error())
		}
		help = []key.Binding{keys.Back}
	case u.statusErr != nil:
		b = append(b, st.Error.Render("The boot disk cannot be read:"))
		wrap(plain, u.statusErr.Error())
		help = []key.Binding{keys.Rescan, keys.Back}
	default:
		right = fmt.Sprintf("running slot %s", u.status.Slot)
		b = append(b, u.slotLines()...)
		b = append(b, "")
		var h []key.Binding
		switch u.phase {
		case updLoading:
			b = append(b, "Looking for update bundles...")
			h = []key.Binding{keys.Back}
		case updList, updConfirmApply, updConfirmRollback:
			b, h = u.listLines(b)
		case updRunning:
			b = u.runningLines(b)
			h = []key.Binding{keys.Leave}
		case updDone, updRestarting:
			b, h = u.doneLines(b)
		}
		help = h
	}
	return components.Frame{Title: "STRONGROOM update", Right: right, Body: b, Message: components.Safe(u.msg), Kind: u.kind, Help: keys.Help(help...)}.Render(st)
}

// slotLines describe the running slot, the other slot and the next boot.
func (u *UpdateScreen) slotLines() []string {
	st, x := u.st, u.status
	running := fmt.Sprintf("slot %s, version %s, ", x.Slot, components.Safe(x.ImageVersion))
	if x.Trial {
		running += st.Warn.Render("on trial: not yet confirmed healthy")
	} else {
		running += st.OK.Render("confirmed")
	}
	other := fmt.Sprintf("slot %s, ", x.Slot.Other())
	if e := x.Entry(x.Slot.Other()); e != nil {
		v := e.ImageVersion
		if v == "" {
			v = "unknown"
		}
		other += fmt.Sprintf("version %s, ", components.Safe(v))
		switch e.State {
		case api.OSGood:
			other += st.OK.Render("good")
		case api.OSTrial:
			other += st.Warn.Render(fmt.Sprintf("trial (%d boot tries left)", e.TriesLeft))
		default:
			other += st.Error.Render("bad: failed to boot")
		}
	} else {
		other += st.Dim.Render("empty (no boot entry)")
	}
	next := "slot " + string(x.NextBoot)
	if x.NextBoot == "" {
		next = st.Warn.Render("unknown (no boot entry found)")
	} else if x.NextBoot != x.Slot {
		next = st.Warn.Render(next + " (a different version at the next restart)")
	}
	return []string{
		fmt.Sprintf("%-11s %s", "Running", running),
		fmt.Sprintf("%-11s %s", "Other", other),
		fmt.Sprintf("%-11s %s", "Next boot", next),
	}
}

func (u *UpdateScreen) listLines(b []string) ([]string, []key.Binding) {
	st := u.st
	b = append(b, st.Heading.Render("Update bundles on attached disks"))
	switch {
	case u.findErr != nil:
		b = append(b, failure(st, "Looking for bundles failed:", u.findErr)...)
	case len(u.cands) == 0:
		b = append(b, "None found. Write the bundle to a USB disk with dd, attach it, then press f:",
			st.Dim.Render("  dd if=strongroom-VERSION.bundle of=/dev/sdX bs=4M conv=fsync"))
	}
	for i, c := range u.cands {
		line := fmt.Sprintf("%-14.14s ", components.Safe(c.Path))
		if m := u.verified(i); m != nil {
			line += fmt.Sprintf("version %-16s ", components.Safe(m.ImageVersion)) + st.OK.Render("signature OK")
			if u.status != nil && m.ImageVersion == u.status.ImageVersion {
				line += st.Dim.Render("  (running now)")
			}
		} else {
			line += st.Error.Render(components.Fit(components.Safe("does not verify: "+errText(c.Problem)), components.BodyWidth-17))
		}
		if i == u.cursor {
			b = append(b, styles.Pointer+" "+line)
		} else {
			b = append(b, "  "+line)
		}
	}
	// The whole reason the chosen bundle does not verify.
	if len(u.cands) > 0 && u.verified(u.cursor) == nil {
		b = append(b, "")
		for _, l := range components.Wrap(components.Safe(components.Safe(u.cands[u.cursor].Path)+": "+errText(u.cands[u.cursor].Problem)), components.BodyWidth) {
			b = append(b, st.Error.Render(l))
		}
	}
	b = append(b, "")
	switch u.phase {
	case updConfirmApply:
		m := u.chosen.Manifest
		for _, l := range components.Wrap(components.Safe(fmt.Sprintf("Version %s is written to slot %s and read back; slot %s (version %s) stays as it is. "+
			"After the restart the new version runs on trial: unless it comes up healthy, slot %s boots again by itself.",
			m.ImageVersion, u.status.Slot.Other(), u.status.Slot, u.status.ImageVersion, u.status.Slot)), components.BodyWidth) {
			b = append(b, st.Warn.Render(l))
		}
		return b, []key.Binding{keys.Yes, keys.No}
	case updConfirmRollback:
		for _, l := range components.Wrap(components.Safe(fmt.Sprintf("The other slot boots at the next restart; slot %s (version %s) stays installed "+
			"but does not boot again unless an update is installed.", u.status.Slot, u.status.ImageVersion)), components.BodyWidth) {
			b = append(b, st.Warn.Render(l))
		}
		return b, []key.Binding{keys.Yes, keys.No}
	}
	help := []key.Binding{}
	if len(u.cands) > 1 {
		help = append(help, keys.Up)
	}
	if u.verified(u.cursor) != nil {
		help = append(help, keys.Install)
	}
	if e := u.status.Entry(u.status.Slot.Other()); e != nil && e.State != api.OSBad {
		help = append(help, keys.Rollback)
	}
	return b, append(help, keys.Rescan, keys.Back)
}

func (u *UpdateScreen) runningLines(b []string) []string {
	if u.rollback {
		return append(b, fmt.Sprintf("Rolling back to slot %s...", u.status.Slot.Other()))
	}
	p := u.progress
	b = append(b, components.Safe(fmt.Sprintf("Installing version %s from %s into slot %s", u.chosen.Manifest.ImageVersion, u.chosen.Path, u.status.Slot.Other())), "")
	step := p.Step
	if step == "" {
		step = "starting"
	}
	b = append(b, components.Fit(components.Safe("Step: "+step), components.BodyWidth))
	// The bar leaves room for " 100%  1023.9 MiB of 1023.9 GiB".
	const barWidth = 44
	if p.Total > 0 {
		b = append(b, components.Bar(int(percent(p)), 100, barWidth)+"  "+
			fmt.Sprintf("%s of %s", units.Bytes(max(p.Done, 0)), units.Bytes(p.Total)))
	} else {
		b = append(b, components.Bar(0, 0, barWidth))
	}
	b = append(b, "")
	for _, l := range components.Wrap("The running system is not touched. Until the new slot is written and verified it "+
		"has no boot entry, so stopping now changes nothing that boots.", components.BodyWidth) {
		b = append(b, u.st.Dim.Render(l))
	}
	return b
}

func (u *UpdateScreen) doneLines(b []string) ([]string, []key.Binding) {
	st := u.st
	what := "The update"
	if u.rollback {
		what = "The rollback"
	}
	if u.err != nil {
		b = append(b, failure(st, what+" failed:", u.err)...)
		return b, []key.Binding{keys.List, keys.Back}
	}
	for _, l := range components.Wrap(components.Safe(sentence(u.result.Message)), components.BodyWidth) {
		b = append(b, st.OK.Render(l))
	}
	b = append(b, "")
	if u.rebootErr != nil {
		b = append(b, failure(st, "The restart was refused:", u.rebootErr)...)
		b = append(b, "")
	}
	if u.phase == updRestarting {
		return append(b, "Restarting..."), nil
	}
	b = append(b, st.Heading.Render("Restart now? y / n"))
	return b, []key.Binding{keys.Yes, keys.No, keys.Back}
}

func errText(problem string) string {
	if problem == "" {
		return "no manifest"
	}
	return problem
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
