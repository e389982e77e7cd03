package screens

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
)

// clockForm confirms a clock jump the warden holds back. Accepting moves
// the trusted clock, and with it the end of every retention lock, so it
// takes the system's date typed in full after the operator has seen the
// trusted time, the system time and whether an authenticated time source
// vouches for it.
type clockForm struct {
	clock api.ClockStatus // as the agent reported it when the form opened
	typed components.Field
}

// ConfirmingClock reports whether the clock confirmation is open.
func (s *Status) ConfirmingClock() bool { return s.clock != nil }

const dateLayout = "2006-01-02"

func (s *Status) openClock() {
	if s.status == nil || !s.status.Vault.Clock.JumpPending {
		s.say(components.Info, "No clock jump is waiting for confirmation.")
		return
	}
	s.clock = &clockForm{clock: s.status.Vault.Clock, typed: components.Field{Label: "System date", Width: 12, Max: 10}}
	s.msg = ""
}

func (s *Status) clockKey(msg tea.KeyMsg) tea.Cmd {
	f := s.clock
	switch {
	case key.Matches(msg, keys.Back):
		s.clock = nil
		s.say(components.Info, "The clock stays held; retention expiry waits.")
		return nil
	case !key.Matches(msg, keys.Enter):
		if f.typed.Update(msg) {
			s.msg = ""
		}
		return nil
	}
	want := f.clock.Wall.UTC().Format(dateLayout)
	if strings.TrimSpace(f.typed.Value) != want {
		f.typed.Value = ""
		s.say(components.Problem, "Not accepted: type the system date exactly as shown (YYYY-MM-DD), or esc.")
		return nil
	}
	s.clock = nil
	return s.launch("clock confirmation", "Confirming the clock...", func(ctx context.Context) tea.Msg {
		err := s.svc.ConfirmClock(ctx)
		return actionMsg{"clock confirmation", "The system time is accepted; retention expiry runs again.", err}
	})
}

func (s *Status) clockView() string {
	f := s.clock
	st := s.st
	c := f.clock
	b := []string{st.Heading.Render("Confirm the clock"), ""}
	b = append(b, fmt.Sprintf("Trusted clock   %s (held by the warden)", c.Trusted.UTC().Format("2006-01-02 15:04:05 UTC")))
	b = append(b, fmt.Sprintf("System clock    %s", c.Wall.UTC().Format("2006-01-02 15:04:05 UTC")))
	b = append(b, fmt.Sprintf("Jump            %s forward; the warden follows at most %s alone", units.Age(c.Jump), units.Age(c.MaxForwardJump)))
	if c.Reason != "" {
		b = append(b, components.Fit("Reason          "+components.Safe(c.Reason), components.BodyWidth))
	}
	b = append(b, s.timeRow(), "")
	text := "Accepting moves the trusted clock to the system time: retention locks that end before it may expire " +
		"at the warden's next round. Compare the system time with a watch or phone you trust, and do not accept " +
		"if it is wrong. To accept, type the system date (" + c.Wall.UTC().Format(dateLayout) + ") and press enter."
	for _, l := range components.Wrap(text, components.BodyWidth) {
		b = append(b, st.Warn.Render(l))
	}
	b = append(b, "", f.typed.View(st, 14, true))
	help := keys.Help(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "accept")), keys.Back)
	return components.Frame{Title: "STRONGROOM clock", Body: b, Message: s.msg, Kind: s.kind, Help: help}.Render(st)
}

// timeRow is the time source's state as a labelled line, coloured by
// whether it can be trusted.
func (s *Status) timeRow() string {
	st := s.st
	t := s.time
	if t == nil {
		return fmt.Sprintf("%-15s %s", "Time source", st.Dim.Render("not known (no time service on this machine)"))
	}
	line := components.Fit(components.Safe(t.Line()), components.BodyWidth-16)
	switch {
	case t.Synchronised && t.Authenticated:
		line = st.OK.Render(line)
	case t.Synchronised:
		line = st.Warn.Render(line)
	default:
		line = st.Error.Render(line)
	}
	return fmt.Sprintf("%-15s %s", "Time source", line)
}

// timeProblem is what to do about the time source, "" when nothing.
func (s *Status) timeProblem() string {
	if s.time == nil || (s.time.Synchronised && s.time.Authenticated) {
		return ""
	}
	return s.time.Problem
}

// readTime reads the time source's state, nil without one.
func readTime(ctx context.Context, read func(context.Context) setup.TimeSync) *setup.TimeSync {
	if read == nil {
		return nil
	}
	t := read(ctx)
	return &t
}
