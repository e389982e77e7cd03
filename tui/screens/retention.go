package screens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
)

// Windows are the two retention windows: every restore point is kept
// for Rollback, the first of each month for Audit.
type Windows struct {
	Rollback, Audit time.Duration
}

// retentionForm changes the retention windows.
type retentionForm struct {
	current *Windows // nil when they could not be read
	readErr error
	fields  [2]components.Field // rollback, audit
	focus   int
	parsed  Windows
	phase   phase
	change  *api.RetentionChange
	err     error
}

type retentionMsg struct {
	ch  *api.RetentionChange
	err error
}

// ChangingRetention reports whether the retention form is open.
func (s *Status) ChangingRetention() bool { return s.ret != nil }

const extendOnly = "Existing restore points are only ever extended, never shortened: a longer window " +
	"extends the lock of every restore point it covers; a shorter one applies only to restore points made from now on."

func (s *Status) openRetention() {
	f := &retentionForm{fields: [2]components.Field{
		{Label: "Keep every point", Width: 10, Max: 10},
		{Label: "Keep monthly", Width: 10, Max: 10},
	}}
	switch {
	case s.windows != nil:
		w := *s.windows
		f.current = &w
	case s.status != nil && s.status.Retention.Rollback > 0:
		f.current = &Windows{Rollback: s.status.Retention.Rollback, Audit: s.status.Retention.Audit}
	default:
		f.readErr = errors.New("the agent has not reported its retention yet")
	}
	if f.current != nil {
		f.fields[0].Value, f.fields[1].Value = units.Window(f.current.Rollback), units.Window(f.current.Audit)
	}
	s.ret = f
	s.msg = ""
}

func (s *Status) retentionKey(msg tea.KeyMsg) tea.Cmd {
	f := s.ret
	start := func() tea.Cmd {
		w := f.parsed
		return s.launch("retention change", "Setting the retention windows...", func(ctx context.Context) tea.Msg {
			ch, err := s.svc.SetRetention(ctx, w.Rollback, w.Audit)
			return retentionMsg{ch, err}
		})
	}
	if cmd, handled := s.afterEdit(msg, actionFlow{phase: &f.phase, start: start, close: func() { s.ret = nil },
		wait: "Wait: the retention windows are being set."}); handled {
		return cmd
	}
	switch {
	case key.Matches(msg, keys.Back):
		s.ret = nil
		s.say(components.Info, "Retention unchanged.")
	case focusMove(msg, &f.focus, len(f.fields)):
	case key.Matches(msg, keys.Enter) && f.focus < len(f.fields)-1:
		f.focus++
	case key.Matches(msg, keys.Enter):
		w, problem := f.check()
		if problem != "" {
			s.say(components.Problem, "%s", problem)
			return nil
		}
		f.parsed, f.phase = w, phaseConfirm
		s.say(components.Warning, "Check the new windows, then press enter to set them.")
	case f.fields[f.focus].Update(msg):
		s.msg = ""
	}
	return nil
}

// check parses the fields; problem says why they cannot be set.
func (f *retentionForm) check() (w Windows, problem string) {
	var err error
	if w.Rollback, err = units.ParseDuration(f.fields[0].Value); err != nil {
		return w, "Keep every point: " + components.Safe(err.Error())
	}
	if w.Audit, err = units.ParseDuration(f.fields[1].Value); err != nil {
		return w, "Keep monthly: " + components.Safe(err.Error())
	}
	switch {
	case w.Rollback <= 0:
		return w, "Keep every point must be longer than zero."
	case w.Audit < w.Rollback:
		return w, "The monthly (audit) window must be at least as long as the rollback window."
	case f.current != nil && w == *f.current:
		return w, "These are the current windows: there is nothing to change."
	}
	return w, ""
}

func (s *Status) gotRetention(m retentionMsg) {
	if m.ch != nil {
		// SetRetention returns a change only after the windows are saved.
		s.windows = &Windows{Rollback: m.ch.Rollback, Audit: m.ch.Audit}
	}
	if f := s.ret; f != nil && f.phase == phaseRunning {
		f.phase, f.change, f.err = phaseDone, m.ch, m.err
	}
	switch {
	case m.err != nil:
		s.say(components.Problem, "Changing retention failed: %s", components.Safe(m.err.Error()))
	case m.ch == nil:
		s.say(components.Problem, "Changing retention: the agent gave no answer.")
	default:
		s.say(components.Good, "Retention set: every point %s, monthly %s; %d restore points extended.",
			units.Window(m.ch.Rollback), units.Window(m.ch.Audit), m.ch.Extended)
	}
}

// compare describes a window's change: "30d -> 60d (longer)".
func compare(old *Windows, pick func(Windows) time.Duration, now time.Duration) string {
	if old == nil {
		return units.Window(now)
	}
	was := pick(*old)
	switch {
	case now > was:
		return fmt.Sprintf("%s -> %s (longer)", units.Window(was), units.Window(now))
	case now < was:
		return fmt.Sprintf("%s -> %s (shorter: for new restore points only)", units.Window(was), units.Window(now))
	}
	return units.Window(now) + " (unchanged)"
}

func (s *Status) retentionView() string {
	f := s.ret
	st := s.st
	b := []string{st.Heading.Render("Change retention"), ""}
	if f.current != nil {
		when := "Now"
		if f.phase == phaseDone && f.err == nil {
			when = "Before"
		}
		b = append(b, fmt.Sprintf("%s: every restore point is kept %s, the first of each month %s.",
			when, units.Window(f.current.Rollback), units.Window(f.current.Audit)))
	} else {
		msg := "Now: the current windows could not be read"
		if f.readErr != nil {
			msg += ": " + f.readErr.Error()
		}
		b = append(b, components.Wrap(components.Safe(msg), components.BodyWidth)...)
	}
	b = append(b, "")
	help := ""
	switch f.phase {
	case phaseEdit:
		b = append(b, fieldsWithNote(st, f.fields[:], f.focus, "\"Keep every point\" is the rollback window, for every restore point; "+
			"\"Keep monthly\" the audit window, for the first restore point of each month.")...)
		b = append(b, st.Dim.Render("Forms: 90m, 4h, 30d, 7y."))
		help = keys.Help(keys.Up, keys.Enter, keys.Erase, keys.Back)
	case phaseConfirm:
		b = append(b,
			"Keep every point  "+compare(f.current, func(w Windows) time.Duration { return w.Rollback }, f.parsed.Rollback),
			"Keep monthly      "+compare(f.current, func(w Windows) time.Duration { return w.Audit }, f.parsed.Audit))
		help = keys.Help(keys.Confirm, keys.Back)
	case phaseRunning:
		b = append(b, "Setting the windows and extending the locks of existing restore points...")
		help = keys.Help(keys.Leave)
	case phaseDone:
		if f.err != nil {
			b = append(b, failure(st, "Retention was not changed:", f.err)...)
		} else {
			c := f.change
			b = append(b, fmt.Sprintf("Keep every point  %s", units.Window(c.Rollback)),
				fmt.Sprintf("Keep monthly      %s", units.Window(c.Audit)), "",
				st.OK.Render(fmt.Sprintf("%d existing restore points were extended.", c.Extended)))
		}
		help = keys.Help(keys.Back)
	}
	b = append(b, "")
	for _, l := range components.Wrap(extendOnly, components.BodyWidth) {
		b = append(b, st.Warn.Render(l))
	}
	return components.Frame{Title: "STRONGROOM retention", Body: b, Message: s.msg, Kind: s.kind, Help: help}.Render(st)
}
