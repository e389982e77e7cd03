package screens

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// Step is one screen of the setup wizard.
type Step int

// The wizard's steps, in order.
const (
	StepNetwork Step = iota
	StepDisks
	StepTenant
	StepSchedule
	StepOffsite
	StepSummary
	StepKey
	stepCount
)

var stepTitles = [...]string{"Network", "Data disks", "Microsoft 365 tenant", "Schedule and retention", "Offsite copy", "Summary", "Recovery key"}

func (s Step) String() string { return stepTitles[s] }

// WizardOptions say where the wizard's result goes.
type WizardOptions struct {
	ConfigPath string // the configuration file to create
	KeyFile    string // the recovery key file to create
	StateDir   string // the vault's state directory; empty for the default
	// Timeout bounds each backend call (sign-in test, vault creation).
	Timeout time.Duration
	// Tick is the interval of the countdown for keeping new network
	// settings (a second); 0 starts no timer, and NetworkTickMsg must be
	// sent by the caller (tests).
	Tick time.Duration
}

// SetupDoneMsg is sent when the configuration has been written.
type SetupDoneMsg struct{ ConfigPath string }

// Wizard is the first-boot setup. It holds every choice in memory; only
// the final confirmation creates the vault and only the key confirmation
// writes files.
type Wizard struct {
	be   setup.Backend
	opts WizardOptions
	st   styles.Styles

	step Step
	msg  string
	kind components.MessageKind
	busy string

	net     netStep
	disks   diskStep
	tenant  tenantStep
	sched   schedStep
	offsite offsiteStep
	created *setup.VaultInit // set once the vault exists
	keyIn   components.Field
	done    bool
}

// NewWizard returns the wizard at its first step.
func NewWizard(be setup.Backend, opts WizardOptions, st styles.Styles) *Wizard {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	w := &Wizard{be: be, opts: opts, st: st}
	w.net.init()
	w.disks.chosen = map[string]bool{}
	w.tenant.init()
	w.sched.init()
	w.offsite.init()
	w.keyIn = components.Field{Label: "Last group of the key", Width: 6, Max: 8}
	return w
}

// Init starts reading the network state.
func (w *Wizard) Init() tea.Cmd { return w.enter(StepNetwork) }

// Step is the step shown.
func (w *Wizard) Step() Step { return w.step }

// Message is the message line and its kind.
func (w *Wizard) Message() (string, components.MessageKind) { return w.msg, w.kind }

// PendingVault returns the vault created at the final confirmation while
// its key and configuration are not yet written, so that an interrupted
// setup can remove it. It returns nil otherwise.
func (w *Wizard) PendingVault() (*setup.VaultInit, []string) {
	// A vault the disks carried is never setup's to remove.
	if w.created == nil || w.done || w.disks.adopt != nil {
		return nil, nil
	}
	return w.created, w.disks.paths()
}

func (w *Wizard) say(kind components.MessageKind, format string, args ...any) {
	w.msg, w.kind = fmt.Sprintf(format, args...), kind
}

// answered clears the busy line when a call comes back. When err is set
// it shows it as a problem through format (which holds one %v) and
// returns false: the step stays as it was.
func (w *Wizard) answered(err error, format string) bool {
	w.busy = ""
	if err != nil {
		w.say(components.Problem, format, err)
		return false
	}
	return true
}

// moveOn is a step's check that went well: it says good and moves the
// step's focus to the row to (the next thing to do).
func (w *Wizard) moveOn(focus *int, to int, good string) tea.Cmd {
	*focus = to
	w.say(components.Good, "%s", good)
	return nil
}

func (w *Wizard) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), w.opts.Timeout)
}

// call shows busy and runs fn off the update loop, bounded by the
// backend timeout; fn's message comes back through Update.
func (w *Wizard) call(busy string, fn func(ctx context.Context) tea.Msg) tea.Cmd {
	w.busy = busy
	return func() tea.Msg {
		ctx, cancel := w.ctx()
		defer cancel()
		return fn(ctx)
	}
}

// enter shows step s and starts what it needs to load.
func (w *Wizard) enter(s Step) tea.Cmd {
	w.step = s
	switch s {
	case StepNetwork:
		return w.loadNetwork()
	case StepDisks:
		return w.loadDisks()
	case StepTenant:
		if w.tenant.passed() {
			w.tenant.focus = tenNext
		}
	}
	return nil
}

func (w *Wizard) next() tea.Cmd {
	w.msg = ""
	return w.enter(w.step + 1)
}

// reply is a backend call's answer (or the network timer's tick), which
// knows how the wizard takes it.
type reply interface {
	answer(w *Wizard) tea.Cmd
}

// Update handles one message.
func (w *Wizard) Update(msg tea.Msg) tea.Cmd {
	if a, ok := msg.(reply); ok {
		return a.answer(w)
	}
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if w.busy != "" {
			w.say(components.Info, "Please wait: %s", w.busy)
			return nil
		}
		if key.Matches(msg, keys.Back) {
			return w.back()
		}
		if p, ok := w.page(); ok {
			return p.key(msg)
		}
	}
	return nil
}

// stepPage is one step's part of the wizard: how it takes a key and
// what it draws (the body and the help line).
type stepPage struct {
	key  func(tea.KeyMsg) tea.Cmd
	view func() ([]string, string)
}

// page is the current step's page; false past the last step.
func (w *Wizard) page() (stepPage, bool) {
	pages := [stepCount]stepPage{
		StepNetwork: {w.networkKey, w.networkView}, StepDisks: {w.diskKey, w.diskView},
		StepTenant: {w.tenantKey, w.tenantView}, StepSchedule: {w.schedKey, w.schedView},
		StepOffsite: {w.offsiteKey, w.offsiteView}, StepSummary: {w.summaryKey, w.summaryView},
		StepKey: {w.keyKey, w.keyView},
	}
	if w.step < 0 || w.step >= stepCount {
		return stepPage{}, false
	}
	return pages[w.step], true
}

func (w *Wizard) back() tea.Cmd {
	switch w.step {
	case StepNetwork:
		if w.net.pending != nil {
			return w.revertNetwork()
		}
		w.say(components.Info, "This is the first step.")
		return nil
	case StepDisks:
		if w.disks.format != nil {
			w.disks.format = nil
			w.say(components.Info, "Not formatted: the disk is left as it was.")
			return nil
		}
	case StepKey:
		if w.disks.adopt == nil {
			w.say(components.Warning, "The vault is created: confirm its key to finish. Ctrl+C abandons setup and removes the new vault.")
			return nil
		}
	}
	w.msg = ""
	return w.enter(w.step - 1)
}

// View draws the current step.
func (w *Wizard) View() string {
	var body []string
	help := ""
	if p, ok := w.page(); ok {
		body, help = p.view()
	}
	msg, kind := w.msg, w.kind
	if w.busy != "" {
		msg, kind = w.busy, components.Info
	}
	return components.Frame{
		Title:   "STRONGROOM setup: " + w.step.String(),
		Right:   fmt.Sprintf("step %d of %d", int(w.step)+1, int(stepCount)),
		Body:    body,
		Message: msg,
		Kind:    kind,
		Help:    help,
	}.Render(w.st)
}

// focusMove handles up/down over n rows and reports whether the key was
// one of them.
func focusMove(msg tea.KeyMsg, focus *int, n int) bool {
	switch {
	case key.Matches(msg, keys.Up):
		*focus = (*focus + n - 1) % n
	case key.Matches(msg, keys.Down):
		*focus = (*focus + 1) % n
	default:
		return false
	}
	return true
}

// button draws an action row.
func (w *Wizard) button(label string, focused bool) string {
	if focused {
		return styles.Pointer + " " + w.st.Focus.Render("[ "+label+" ]")
	}
	return "  [ " + label + " ]"
}

// Done reports whether setup has written the configuration.
func (w *Wizard) Done() bool { return w.done }
