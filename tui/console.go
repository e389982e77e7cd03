package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/screens"
	"github.com/strongroom/strongroom/tui/styles"
)

// Opener connects to the agent of a configuration file. The returned
// close function is called when the console exits.
type Opener func(configPath string) (screens.Service, func() error, error)

// Options configure the console.
type Options struct {
	// ConfigPath is the configuration file. When it does not exist, the
	// console runs the setup wizard to create it.
	ConfigPath string
	// KeyFile and StateDir are where setup puts the recovery key and the
	// vault's state.
	KeyFile  string
	StateDir string
	// Setup is the wizard's backend. When it can also read the time source
	// (TimeSync, as setup.System does), the status screen shows it.
	Setup setup.Backend
	Open  Opener
	// Refresh is the status screen's refresh interval; 0 disables it, and
	// the wizard's one-second countdown for keeping new network settings
	// too (tests send screens.NetworkTickMsg themselves).
	Refresh time.Duration
	Styles  styles.Styles
	// Updater installs and rolls back the appliance software from the
	// status screen (u); nil hides the action. NewSystemUpdater is the
	// appliance's.
	Updater screens.Updater
	// Log receives one line per update milestone ("update: applying
	// version ..."). nil: New discards them; Run writes them to stderr
	// unless stderr is a terminal.
	Log *slog.Logger
}

// Model is the console's root bubbletea model. It shows the wizard until
// the configuration exists, then the status screen.
type Model struct {
	opts   Options
	wizard *screens.Wizard
	status *screens.Status
	closer func() error
	err    error
	// retrying: a retryOpenMsg is on its way.
	retrying bool
}

type openedMsg struct {
	svc    screens.Service
	closer func() error
	err    error
}

// New returns the console for opts.
func New(opts Options) *Model {
	m := &Model{opts: opts}
	if _, err := os.Stat(opts.ConfigPath); errors.Is(err, os.ErrNotExist) {
		wo := screens.WizardOptions{ConfigPath: opts.ConfigPath, KeyFile: opts.KeyFile, StateDir: opts.StateDir}
		if opts.Refresh > 0 {
			wo.Tick = time.Second
		}
		m.wizard = screens.NewWizard(opts.Setup, wo, opts.Styles)
	}
	return m
}

// Wizard is the setup wizard, nil when the console started configured.
func (m *Model) Wizard() *screens.Wizard { return m.wizard }

// Status is the status screen, nil until the agent is open.
func (m *Model) Status() *screens.Status { return m.status }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	if m.wizard != nil {
		return m.wizard.Init()
	}
	return m.open()
}

func (m *Model) open() tea.Cmd {
	path := m.opts.ConfigPath
	return func() tea.Msg {
		svc, closer, err := m.opts.Open(path)
		return openedMsg{svc, closer, err}
	}
}

// retryOpenMsg asks to try reaching the agent again.
type retryOpenMsg struct{}

// retryOpen tries the agent again after the refresh interval: right after
// setup the agent is still starting (its path unit starts it once the
// configuration exists), and the status screen should appear by itself.
func (m *Model) retryOpen() tea.Cmd {
	if m.opts.Refresh <= 0 || m.retrying {
		return nil
	}
	m.retrying = true
	return tea.Tick(m.opts.Refresh, func(time.Time) tea.Msg { return retryOpenMsg{} })
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if key.Matches(msg, keys.Abort) {
			return m, tea.Quit
		}
	case screens.SetupDoneMsg:
		return m, m.open()
	case retryOpenMsg:
		m.retrying = false
		if m.status == nil && m.err != nil {
			return m, m.open()
		}
		return m, nil
	case openedMsg:
		if m.status != nil {
			// A retry and an enter both opened it: keep the first.
			if msg.closer != nil {
				_ = msg.closer()
			}
			return m, nil
		}
		if msg.err != nil {
			m.err = msg.err
			return m, m.retryOpen()
		}
		m.err, m.closer = nil, msg.closer
		so := screens.StatusOptions{Refresh: m.opts.Refresh, Updater: m.opts.Updater, Log: m.opts.Log}
		if t, ok := m.opts.Setup.(interface {
			TimeSync(context.Context) setup.TimeSync
		}); ok {
			so.Time = t.TimeSync
		}
		m.status = screens.NewStatus(msg.svc, so, m.opts.Styles)
		return m, m.status.Init()
	}
	switch {
	case m.status != nil:
		return m, m.status.Update(msg)
	case m.err != nil:
		if k, ok := msg.(tea.KeyMsg); ok {
			switch {
			case key.Matches(k, keys.Quit):
				return m, tea.Quit
			case key.Matches(k, keys.Enter):
				return m, m.open()
			}
		}
		return m, nil
	case m.wizard != nil && !m.wizard.Done():
		return m, m.wizard.Update(msg)
	}
	return m, nil
}

// View implements tea.Model.
func (m *Model) View() string {
	switch {
	case m.status != nil:
		return m.status.View()
	case m.err != nil:
		return components.Frame{Title: "STRONGROOM", Body: components.Wrap(fmt.Sprintf("The agent cannot be reached: %v", m.err), components.BodyWidth),
			Message: "The agent's service restarts by itself: press enter to try again.", Kind: components.Problem,
			Help: keys.Help(keys.Enter, keys.Quit)}.Render(m.opts.Styles)
	case m.wizard != nil && !m.wizard.Done():
		return m.wizard.View()
	}
	return components.Frame{Title: "STRONGROOM", Body: []string{"Connecting to the agent..."}, Help: keys.Help(keys.Abort)}.Render(m.opts.Styles)
}

// Close undoes an unfinished setup (a vault created but its key never
// written) and releases the agent. Call it after the program ends, however
// it ended.
func (m *Model) Close() error {
	var errs []error
	if m.wizard != nil {
		if v, disks := m.wizard.PendingVault(); v != nil {
			if err := m.opts.Setup.DiscardVault(v.VaultID, disks); err != nil {
				errs = append(errs, fmt.Errorf("remove the vault of the unfinished setup: %w", err))
			}
		}
	}
	if m.closer != nil {
		errs = append(errs, m.closer())
	}
	return errors.Join(errs...)
}

// Run shows the console on in/out until the operator quits. The renderer
// has a fixed 16-colour profile and a fixed dark background, so the console
// never waits for a terminal to answer a colour query. Mouse reporting is
// never enabled.
func Run(opts Options, in io.Reader, out io.Writer) error {
	r := styles.NewRenderer(out, termenv.ANSI)
	opts.Styles = styles.New(r)
	if opts.Log == nil {
		opts.Log = milestoneLog(os.Stderr)
	}
	m := New(opts)
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	_, err := p.Run()
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, tea.ErrInterrupted) {
		return nil
	}
	return err
}
