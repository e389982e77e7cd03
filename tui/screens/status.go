package screens

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// StatusOptions tune the status screen.
type StatusOptions struct {
	// Refresh is how often the status is read again; 0 reads it only on
	// start and after actions (tests).
	Refresh time.Duration
	// Timeout bounds a status read; actions run without a deadline.
	Timeout time.Duration
	// Updater installs and rolls back the appliance software (u); nil
	// hides the action.
	Updater Updater
	// Log receives the update screen's milestones; nil discards them.
	Log *slog.Logger
	// Time reads the time source's state (chronyd) for the status screen
	// and the clock confirmation; nil leaves it out.
	Time func(context.Context) setup.TimeSync
}

// Status is the screen shown after setup: the agent's state and the
// operator's actions.
type Status struct {
	svc  Service
	opts StatusOptions
	st   styles.Styles

	status   *api.Status
	err      error
	running  string // the action in progress, if any
	msg      string
	kind     components.MessageKind
	browse   *Browser
	restore  *restoreForm  // over the browser
	rollback *rollbackForm // over the browser
	disk     *diskForm
	ret      *retentionForm
	windows  *Windows // set by a retention change made here
	upd      *UpdateScreen
	updOpen  bool // upd is shown (it may run hidden)
	clock    *clockForm
	time     *setup.TimeSync // the time source at the last read
}

// NewStatus returns the status screen for svc.
func NewStatus(svc Service, opts StatusOptions, st styles.Styles) *Status {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	return &Status{svc: svc, opts: opts, st: st}
}

type statusMsg struct {
	s    *api.Status
	err  error
	time *setup.TimeSync
}

type tickMsg struct{}

type actionMsg struct {
	what, result string
	err          error
}

// actionDone is what an action the status screen launched returns: the
// action has ended, and apply shows its result.
type actionDone interface{ apply(s *Status) }

func (m actionMsg) apply(s *Status) {
	if m.err != nil {
		s.msg, s.kind = fmt.Sprintf("%s failed: %v", m.what, m.err), components.Problem
	} else {
		s.msg, s.kind = m.result, components.Good
	}
}

func (m restoreMsg) apply(s *Status)   { s.gotRestore(m) }
func (m replaceMsg) apply(s *Status)   { s.gotReplace(m) }
func (m retentionMsg) apply(s *Status) { s.gotRetention(m) }

// Init reads the status and starts the refresh timer.
func (s *Status) Init() tea.Cmd { return tea.Batch(s.fetch(), s.tick()) }

// Running is the action in progress, or "".
func (s *Status) Running() string { return s.running }

// Browsing reports whether the snapshot browser is open.
func (s *Status) Browsing() bool { return s.browse != nil }

func (s *Status) fetch() tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
		defer cancel()
		st, err := s.svc.Status(ctx)
		return statusMsg{st, err, readTime(ctx, s.opts.Time)}
	}
}

func (s *Status) tick() tea.Cmd {
	if s.opts.Refresh <= 0 {
		return nil
	}
	return tea.Tick(s.opts.Refresh, func(time.Time) tea.Msg { return tickMsg{} })
}

// Update handles one message. It returns tea.Quit for q.
func (s *Status) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case statusMsg:
		s.status, s.err, s.time = msg.s, msg.err, msg.time
		return nil
	case tickMsg:
		return tea.Batch(s.fetch(), s.tick())
	case actionDone:
		s.running = ""
		msg.apply(s)
		return s.fetch()
	case snapshotsMsg:
		if s.browse != nil {
			s.browse.gotSnapshots(msg)
		}
		return nil
	case listMsg:
		if s.browse != nil {
			s.browse.got(msg)
		}
		return nil
	case updScanMsg, updProgressMsg, updRebootMsg:
		if s.upd == nil {
			return nil
		}
		cmd, _ := s.upd.Update(msg)
		return cmd
	case updDoneMsg:
		if s.upd == nil {
			return nil
		}
		cmd, _ := s.upd.Update(msg)
		if !s.updOpen && s.upd.phase == updDone {
			// Finished while the operator was elsewhere: the result
			// waits on the update screen.
			if s.upd.err != nil {
				s.say(components.Problem, "The %s failed: press u for the reason.", s.upd.actionName())
			} else {
				s.say(components.Good, "%s Press u to restart.", s.upd.bootsNext())
			}
		}
		return cmd
	case tea.KeyMsg:
		switch {
		case s.upd != nil && s.updOpen:
			cmd, closed := s.upd.Update(msg)
			if closed {
				s.closeUpdate()
			}
			return cmd
		case s.restore != nil:
			return s.restoreKey(msg)
		case s.rollback != nil:
			return s.rollbackKey(msg)
		case s.browse != nil:
			if key.Matches(msg, keys.Restore) {
				s.openRestore()
				return nil
			}
			if key.Matches(msg, keys.RollBack) {
				s.openRollback()
				return nil
			}
			cmd, closed := s.browse.key(msg)
			if closed {
				s.browse = nil
			}
			return cmd
		case s.disk != nil:
			return s.diskKey(msg)
		case s.ret != nil:
			return s.retentionKey(msg)
		case s.clock != nil:
			return s.clockKey(msg)
		}
		return s.key(msg)
	}
	return nil
}

func (s *Status) say(kind components.MessageKind, format string, args ...any) {
	s.msg, s.kind = fmt.Sprintf(format, args...), kind
}

// launch runs an action of a form unless another is running; its
// command's message reports the result. It returns nil, with a message,
// when another action is still running.
func (s *Status) launch(what, busy string, run func(ctx context.Context) tea.Msg) tea.Cmd {
	if s.running != "" {
		s.say(components.Warning, "Wait: %s is still running.", s.running)
		return nil
	}
	s.running = what
	s.say(components.Info, "%s", busy)
	return tea.Batch(func() tea.Msg { return run(context.Background()) }, s.fetch())
}

// jobLines describes the agent's running job of the given kind from the
// last status read in one line, or none while no such job runs.
func (s *Status) jobLines(kind string) []string {
	if s.status == nil || s.status.Job == nil || s.status.Job.Kind != kind {
		return nil
	}
	j := s.status.Job
	line := "Agent: " + j.Kind
	if j.Message != "" {
		line += ", " + j.Message
	}
	if !j.Started.IsZero() {
		line += ", running for " + units.Age(s.status.Now.Sub(j.Started))
	}
	if j.UnitsAll > 0 {
		line += " " + components.Bar(j.UnitsDone, j.UnitsAll, 12)
	}
	return []string{components.Fit(components.Safe(line), components.BodyWidth)}
}

func (s *Status) key(msg tea.KeyMsg) tea.Cmd {
	start := func(what, busy string, run func(ctx context.Context) (string, error)) tea.Cmd {
		return s.launch(what, busy, func(ctx context.Context) tea.Msg {
			res, err := run(ctx)
			return actionMsg{what, res, err}
		})
	}
	switch {
	case key.Matches(msg, keys.Quit):
		if s.upd.Busy() {
			s.say(components.Warning, "Wait: the %s is running (u shows it); ctrl+c would leave it unfinished.", s.upd.actionName())
			return nil
		}
		return tea.Quit
	case key.Matches(msg, keys.Update):
		return s.openUpdate()
	case key.Matches(msg, keys.Backup):
		return start("backup", "Backup started...", func(ctx context.Context) (string, error) {
			r, err := s.svc.Backup(ctx, api.BackupRequest{})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Backup %s: %d units, %d items, %d failed; snapshot %s.", r.Result, r.Protected, r.Items, r.Failed, r.Snapshot), nil
		})
	case key.Matches(msg, keys.RestoreTest):
		return start("restore test", "Restore test started...", func(ctx context.Context) (string, error) {
			r, err := s.svc.RestoreTest(ctx, 0)
			if err != nil {
				return "", err
			}
			if !r.OK {
				return "", fmt.Errorf("%d of %d items did not verify: %s", len(r.Failures), r.Items, strings.Join(r.Failures, "; "))
			}
			return fmt.Sprintf("Restore test passed: %d items restored and verified.", r.Items), nil
		})
	case key.Matches(msg, keys.Scrub):
		return start("scrub", "Scrub started: reading and checking every shard...", func(ctx context.Context) (string, error) {
			r, err := s.svc.Scrub(ctx, true)
			if err != nil {
				return "", err
			}
			if !r.Healthy {
				return "", fmt.Errorf("%d problems, %d repaired, %d segments unrecoverable", len(r.Problems), r.Repaired, len(r.Unrecoverable))
			}
			return fmt.Sprintf("Scrub: %d segments healthy, %d shards repaired.", r.Segments, r.Repaired), nil
		})
	case key.Matches(msg, keys.Clock):
		s.openClock()
		return nil
	case key.Matches(msg, keys.Browse):
		s.browse = newBrowser(s.svc, s.st)
		s.msg = ""
		return s.browse.loadSnapshots()
	case key.Matches(msg, keys.ReplaceDisk):
		s.openDisk()
		return nil
	case key.Matches(msg, keys.Retention):
		s.openRetention()
		return nil
	}
	return nil
}

// View draws the status screen, or the browser when it is open.
func (s *Status) View() string {
	switch {
	case s.restore != nil:
		return s.restoreView()
	case s.rollback != nil:
		return s.rollbackView()
	case s.browse != nil:
		return s.browse.View(s.msg, s.kind)
	case s.disk != nil:
		return s.diskView()
	case s.ret != nil:
		return s.retentionView()
	case s.upd != nil && s.updOpen:
		return s.upd.View()
	case s.clock != nil:
		return s.clockView()
	}
	help := []key.Binding{keys.Backup, keys.RestoreTest, keys.Scrub, keys.Browse, keys.ReplaceDisk, keys.Retention}
	// The rest as far as 80 columns allow, most needed first; a key left
	// out still works (q quits).
	var extra []key.Binding
	if s.status != nil && s.status.Vault.Clock.JumpPending {
		extra = append(extra, keys.Clock)
	}
	if s.opts.Updater != nil {
		extra = append(extra, keys.Update)
	}
	for _, b := range append(extra, keys.Quit) {
		if len(keys.Help(append(help, b)...)) <= components.BodyWidth {
			help = append(help, b)
		}
	}
	right := ""
	if s.status != nil {
		right = s.status.Now.UTC().Format("2006-01-02 15:04 UTC")
	}
	return components.Frame{Title: "STRONGROOM status", Right: right, Body: s.body(), Message: s.msg, Kind: s.kind, Help: keys.Help(help...)}.Render(s.st)
}

// rows are the status screen's labelled lines.
type rows []string

func (r *rows) add(label, value string) { *r = append(*r, fmt.Sprintf("%-15s %s", label, value)) }

// valueWidth is the room a row leaves for its value.
const valueWidth = components.BodyWidth - 16

// pack joins words with sep into lines no wider than width (a word wider
// than width gets a line of its own).
func pack(words []string, sep string, width int) []string {
	var lines []string
	for _, w := range words {
		n := len(lines) - 1
		if n >= 0 && len(lines[n])+len(sep)+len(w) <= width {
			lines[n] += sep + w
			continue
		}
		lines = append(lines, w)
	}
	return lines
}

func (s *Status) body() []string {
	if s.status == nil {
		if s.err != nil {
			return components.Wrap("The agent did not answer: "+s.err.Error(), components.BodyWidth)
		}
		return []string{"Reading the agent's status..."}
	}
	var b rows
	s.protectionRows(&b)
	s.activityRows(&b)
	s.storageRows(&b)
	return s.alertLines(b)
}

// protectionRows: the vault's health, the last backups and the users they
// cover.
func (s *Status) protectionRows(b *rows) {
	st, x := s.st, s.status
	health := st.OK.Render("healthy")
	if x.Vault.Degraded {
		health = st.Error.Render("DEGRADED")
	}
	clock := st.OK.Render("clock ok")
	if x.Vault.Clock.JumpPending {
		clock = st.Error.Render("CLOCK JUMP PENDING (c to confirm)")
	}
	b.add("Vault", fmt.Sprintf("%s, layout %s   %s   %s", short(x.Vault.VaultID), x.Vault.Layout, health, clock))
	if s.time != nil {
		*b = append(*b, s.timeRow())
	}
	if x.LastSuccess != nil {
		age := x.Now.Sub(x.LastSuccess.Created)
		line := fmt.Sprintf("%s (%s ago), %d items", x.LastSuccess.Created.UTC().Format("2006-01-02 15:04"), units.Age(age), x.LastSuccess.Items)
		if x.Interval > 0 && age > 2*x.Interval {
			line = st.Warn.Render(line)
		}
		b.add("Last success", line)
	} else {
		b.add("Last success", st.Warn.Render("never"))
	}
	if x.LastRun != nil {
		b.add("Last run", fmt.Sprintf("%s, %d units, %d failed, %d new items", x.LastRun.Result, x.LastRun.Protected, x.LastRun.Failed, x.LastRun.NewItems))
	}
	coverageRows(b.add, st, x.Coverage)
}

// activityRows: what runs now and how much Microsoft throttles.
func (s *Status) activityRows(b *rows) {
	x := s.status
	if j := x.Job; j != nil {
		line := fmt.Sprintf("%-8s %s %d/%d %s", j.Kind, components.Bar(j.UnitsDone, j.UnitsAll, 12), j.UnitsDone, j.UnitsAll, cmp.Or(j.Noun, "units"))
		if j.Noun != "items" {
			line += fmt.Sprintf(", %d items", j.Items)
		}
		if j.Bytes > 0 {
			line += ", " + units.Bytes(j.Bytes)
		}
		if j.ThrottlePaused > 0 {
			line += ", paused " + units.Age(j.ThrottlePaused)
		}
		b.add("Running", line)
	} else if s.running != "" {
		b.add("Running", s.running)
	} else if u := s.upd.Running(); u != "" {
		b.add("Running", u)
	} else {
		b.add("Running", "nothing")
	}
	thr := fmt.Sprintf("%d of %d requests throttled", x.Throttle.Throttled, x.Throttle.Requests)
	if x.Throttle.MailboxThrottled > 0 {
		// Throttles that held back one mailbox only, as against ones that
		// paused the whole tenant (the pause time).
		thr = fmt.Sprintf("%d of %d throttled (%d by a mailbox)", x.Throttle.Throttled, x.Throttle.Requests, x.Throttle.MailboxThrottled)
	}
	if x.Throttle.Paused > 0 {
		thr += ", tenant paused " + units.Age(x.Throttle.Paused)
	}
	b.add("Throttling", thr)
}

// storageRows: capacity, stripes, disks and the last restore test.
func (s *Status) storageRows(b *rows) {
	st, x := s.st, s.status
	b.add("Capacity", fmt.Sprintf("%s used of %s usable, %d snapshots, dedup %.1fx",
		units.Bytes(x.Vault.UsedBytes), units.Bytes(x.Vault.CapacityBytes), x.Vault.Snapshots, x.Vault.DedupRatio))
	deg := fmt.Sprintf("%d degraded segments of %d", x.Vault.DegradedSegments, x.Vault.Segments)
	if x.Vault.DegradedSegments > 0 {
		deg = st.Error.Render(deg)
	}
	b.add("Stripes", deg)
	var disks []string
	for _, d := range x.Vault.Disks {
		state := "ok"
		if !d.Present {
			state = "MISSING"
		}
		disks = append(disks, fmt.Sprintf("%d:%s %s", d.Index, state, units.Bytes(d.FreeBytes)+" free"))
	}
	label := "Disks"
	for _, line := range pack(disks, "   ", valueWidth) {
		b.add(label, line)
		label = ""
	}
	if x.LastRestoreTest != nil {
		res := st.OK.Render("passed")
		if !x.LastRestoreTest.OK {
			res = st.Error.Render("FAILED")
		}
		b.add("Restore test", fmt.Sprintf("%s, %d items, %s", res, x.LastRestoreTest.Items, x.LastRestoreTest.At.UTC().Format("2006-01-02 15:04")))
	}
	if o := x.Offsite; o != nil {
		b.add("Offsite", s.offsiteLine(o, x.Now))
	}
}

// offsiteLine says where the offsite copy stands: restore points in the
// bucket and the last success, in red when its last run failed.
func (s *Status) offsiteLine(o *api.OffsiteSummary, now time.Time) string {
	if !o.Published {
		return s.st.Warn.Render("not run yet (bucket " + o.Bucket + ")")
	}
	line := fmt.Sprintf("%d of %d restore points in %s", o.SnapshotsOffsite, o.Snapshots, o.Bucket)
	if !o.LastSuccess.IsZero() {
		line += ", " + units.Age(now.Sub(o.LastSuccess)) + " ago"
	}
	if o.LastError != "" {
		return s.st.Error.Render("FAILING: " + line)
	}
	return line
}

// alertLines ends the body with the alerts, as many as fit.
func (s *Status) alertLines(b []string) []string {
	st, x := s.st, s.status
	alerts := x.Alerts
	if p := s.timeProblem(); p != "" {
		alerts = append([]string{components.Fit(components.Safe("time: "+p), components.BodyWidth-2)}, alerts...)
	}
	b = append(b, "")
	if len(alerts) == 0 {
		return append(b, st.OK.Render("No alerts."))
	}
	b = append(b, st.Heading.Render("Alerts"))
	room := components.BodyLines - len(b)
	for i, a := range alerts {
		if i == room-1 && len(alerts) > room {
			return append(b, st.Warn.Render(fmt.Sprintf("%s and %d more", styles.Bullet, len(alerts)-i)))
		}
		b = append(b, st.Warn.Render(styles.Bullet+" "+a))
	}
	return b
}

// short shortens a vault id for display.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// openUpdate shows the update screen: a new one, or the one whose action
// runs or finished unseen.
func (s *Status) openUpdate() tea.Cmd {
	if s.opts.Updater == nil {
		s.say(components.Info, "Software updates are not available in this console.")
		return nil
	}
	if s.upd == nil {
		s.upd = NewUpdateScreen(s.opts.Updater, s.opts.Log, s.st)
	}
	s.updOpen = true
	return s.upd.Open()
}

// closeUpdate goes back to the status screen; an apply or rollback goes
// on and its result lands on the status line.
func (s *Status) closeUpdate() {
	s.updOpen = false
	if s.upd.Busy() {
		s.say(components.Info, "The %s goes on; u shows its progress.", s.upd.actionName())
		return
	}
	if s.upd.phase == updDone && s.upd.err == nil && s.upd.result != nil {
		s.say(components.Good, "%s", s.upd.bootsNext())
	} else {
		s.msg = ""
	}
	s.upd = nil
}

// Updating reports whether the update screen is shown.
func (s *Status) Updating() bool { return s.upd != nil && s.updOpen }

// UpdateScreen is the update screen, nil when it is not open or running.
func (s *Status) UpdateScreen() *UpdateScreen { return s.upd }

// coverageRows shows, per workload, how many units are protected and
// names those that are not.
func coverageRows(row func(label, value string), st styles.Styles, cov []api.Coverage) {
	if len(cov) == 0 {
		row("Coverage", "not known until the first backup run")
		return
	}
	for _, c := range cov {
		line := fmt.Sprintf("%d of %d %s protected", c.Protected, c.All, c.Noun)
		if len(c.Departed) > 0 {
			line += fmt.Sprintf(", %d departed kept", len(c.Departed))
		}
		if len(c.Unprotected) > 0 {
			line = st.Warn.Render(line)
		}
		row("Coverage", line)
		if len(c.Unprotected) > 0 {
			row("  unprotected", components.Fit(strings.Join(c.Unprotected, ", "), components.BodyWidth-16))
		}
	}
}
