package screens

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// phase is where an action form (restore, disk replacement, retention)
// is: being filled in, asking for confirmation, waiting for the agent, or
// showing the result.
type phase int

const (
	phaseEdit phase = iota
	phaseConfirm
	phaseRunning
	phaseDone
)

// actionFlow is what the phases every action form shares need to know
// of one form: where it is, how to start its action, how to take it off
// the screen, and what to say when the operator leaves it running (left,
// may be "") or presses a key while it runs (wait).
type actionFlow struct {
	phase      *phase
	start      func() tea.Cmd
	close      func()
	left, wait string
}

// afterEdit handles a key in the phases every action form shares after
// its input is checked, closing the form (f.close) when the key says so.
// It returns the command f.start gave and whether the key was the shared
// phases' (false while editing).
func (s *Status) afterEdit(msg tea.KeyMsg, f actionFlow) (tea.Cmd, bool) {
	cmd, closed, handled := s.sharedPhaseKey(msg, f.phase, f.start, f.left, f.wait)
	if closed {
		f.close()
	}
	return cmd, handled
}

// sharedPhaseKey moves an action form through its shared phases. Asked to
// confirm, back returns to editing and confirm starts the action with
// start (running, when start launched it). While it runs, back leaves it
// running (saying left, when not "") and any other key is told to wait.
// Done, back or enter closes the form.
func (s *Status) sharedPhaseKey(msg tea.KeyMsg, p *phase, start func() tea.Cmd, left, wait string) (cmd tea.Cmd, closed, handled bool) {
	back := key.Matches(msg, keys.Back)
	switch *p {
	case phaseConfirm:
		switch {
		case back:
			*p = phaseEdit
			s.msg = ""
		case key.Matches(msg, keys.Confirm):
			if cmd = start(); cmd != nil {
				*p = phaseRunning
			}
		}
		return cmd, false, true
	case phaseRunning:
		if back {
			if left != "" {
				s.say(components.Info, "%s", left)
			}
			return nil, true, true
		}
		s.say(components.Info, "%s", wait)
		return nil, false, true
	case phaseDone:
		return nil, back || key.Matches(msg, keys.Enter), true
	}
	return nil, false, false
}

// fieldsWithNote draws a form's fields (labels 18 wide, the focused one
// marked), a blank line and the note wrapped to the body's width.
func fieldsWithNote(st styles.Styles, fields []components.Field, focus int, note string) []string {
	var b []string
	for i, f := range fields {
		b = append(b, f.View(st, 18, focus == i))
	}
	return append(append(b, ""), components.Wrap(note, components.BodyWidth)...)
}

// failure draws an action's error: heading in the error style, then the
// error wrapped to the body's width.
func failure(st styles.Styles, heading string, err error) []string {
	return append([]string{st.Error.Render(heading)}, components.Wrap(components.Safe(err.Error()), components.BodyWidth)...)
}
