package screens

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
)

// schedStep is the schedule and retention screen's state.
type schedStep struct {
	fields  [3]components.Field // interval, rollback, audit
	focus   int
	windows setup.Windows
}

func (s *schedStep) init() {
	s.fields = [3]components.Field{
		{Label: "Back up every", Value: "4h", Width: 10, Max: 10},
		{Label: "Keep every point", Value: "30d", Width: 10, Max: 10},
		{Label: "Keep monthly", Value: "7y", Width: 10, Max: 10},
	}
}

func (w *Wizard) schedKey(msg tea.KeyMsg) tea.Cmd {
	s := &w.sched
	if focusMove(msg, &s.focus, len(s.fields)) {
		return nil
	}
	if key.Matches(msg, keys.Enter) {
		if s.focus < len(s.fields)-1 {
			s.focus++
			return nil
		}
		win, err := setup.ParseWindows(s.fields[0].Value, s.fields[1].Value, s.fields[2].Value)
		if err != nil {
			w.say(components.Problem, "%v", err)
			return nil
		}
		s.windows = win
		return w.next()
	}
	if s.fields[s.focus].Update(msg) {
		w.msg = ""
	}
	return nil
}

func (w *Wizard) schedView() ([]string, string) {
	s := &w.sched
	st := w.st
	b := []string{st.Heading.Render("Schedule and retention"), ""}
	b = append(b, fieldsWithNote(st, s.fields[:], s.focus, "Every restore point is kept for the rollback window (\"Keep every point\"); "+
		"the first restore point of each month is kept for the audit window (\"Keep monthly\").")...)
	b = append(b, "")
	for _, l := range components.Wrap("Both windows are retention locks: once data is written they can be made "+
		"longer, never shorter, not even by an administrator.", components.BodyWidth) {
		b = append(b, st.Warn.Render(l))
	}
	b = append(b, "")
	b = append(b, st.Dim.Render("Forms: 90m, 4h, 30d, 7y."))
	return b, keys.Help(keys.Up, keys.Enter, keys.Back, keys.Abort)
}
