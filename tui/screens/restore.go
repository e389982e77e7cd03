package screens

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// collisions are the restore's collision policies in the order space
// cycles through them, with what each does.
var collisions = []struct{ name, means string }{
	{"skip", "keep the message already there, restore no copy"},
	{"copy", "restore anyway: the folder may hold duplicates"},
	{"replace", "delete the message already there, then restore"},
}

// Rows of the restore form.
const (
	resTarget = iota
	resFolder
	resCollision
	resRows
)

// restoreForm restores a folder or an item of the browsed restore point.
type restoreForm struct {
	sel       api.Selection
	what      string // "the folder anna@.../Mail/Inbox (12 items)"
	created   string // the restore point's time, for the heading
	target    components.Field
	folder    components.Field
	collision int
	focus     int
	phase     phase
	report    *api.RestoreReport
	err       error
}

type restoreMsg struct {
	rep *api.RestoreReport
	err error
}

// Restoring reports whether the restore form is open.
func (s *Status) Restoring() bool { return s.restore != nil }

func (s *Status) openRestore() {
	sel, what, ok := s.browse.selection()
	if !ok {
		s.say(components.Info, "Move to a mailbox, a folder or an item to restore it.")
		return
	}
	when := s.browse.created.UTC().Format("2006-01-02 15:04")
	s.restore = &restoreForm{
		sel: sel, what: what, created: when,
		target: components.Field{Label: "Target mailbox", Value: sel.User, Width: 40, Max: 120},
		folder: components.Field{Label: "New folder", Value: "Restored " + when, Width: 40, Max: 120},
	}
	s.msg = ""
}

func (s *Status) restoreKey(msg tea.KeyMsg) tea.Cmd {
	f := s.restore
	if cmd, handled := s.afterEdit(msg, actionFlow{phase: &f.phase, start: s.startRestore, close: func() { s.restore = nil },
		left: "The restore goes on; its result will show here.",
		wait: "Wait: the restore is running (esc leaves it running)."}); handled {
		return cmd
	}
	if key.Matches(msg, keys.Back) {
		s.restore = nil
		s.say(components.Info, "Restore cancelled; nothing was restored.")
		return nil
	}
	if focusMove(msg, &f.focus, resRows) {
		return nil
	}
	if key.Matches(msg, keys.Enter) {
		if f.focus < resRows-1 {
			f.focus++
			return nil
		}
		if problem := f.check(); problem != "" {
			s.say(components.Problem, "%s", problem)
			return nil
		}
		f.phase = phaseConfirm
		s.say(components.Info, "Check the restore, then press enter to start it.")
		return nil
	}
	switch f.focus {
	case resTarget:
		if f.target.Update(msg) {
			s.msg = ""
		}
	case resFolder:
		if f.folder.Update(msg) {
			s.msg = ""
		}
	case resCollision:
		if key.Matches(msg, keys.Cycle) {
			step := 1
			if msg.Type == tea.KeyLeft {
				step = len(collisions) - 1
			}
			f.collision = (f.collision + step) % len(collisions)
		}
	}
	return nil
}

// check returns why the form cannot be submitted, or "".
func (f *restoreForm) check() string {
	target := strings.TrimSpace(f.target.Value)
	switch {
	case target == "":
		return "Name the target mailbox (its address, e.g. anna@contoso.com)."
	case strings.ContainsAny(target, " \t"):
		return fmt.Sprintf("Target mailbox %q: an address has no spaces.", target)
	case strings.Count(target, "@") > 1, strings.HasPrefix(target, "@"), strings.HasSuffix(target, "@"):
		return fmt.Sprintf("Target mailbox %q is not an address like anna@contoso.com.", target)
	case strings.TrimSpace(f.folder.Value) == "":
		return "Name the new folder the items are restored into."
	case strings.ContainsAny(f.folder.Value, "/\\"):
		return "The new folder's name cannot contain / or \\: it is one folder under the mailbox's top."
	}
	return ""
}

func (f *restoreForm) request() api.RestoreRequest {
	return api.RestoreRequest{Selection: f.sel, TargetUser: strings.TrimSpace(f.target.Value),
		TargetFolder: strings.TrimSpace(f.folder.Value), Collision: collisions[f.collision].name}
}

func (s *Status) startRestore() tea.Cmd {
	req := s.restore.request()
	return s.launch("restore", "Restoring...", func(ctx context.Context) tea.Msg {
		rep, err := s.svc.Restore(ctx, req)
		return restoreMsg{rep, err}
	})
}

func (s *Status) gotRestore(m restoreMsg) {
	switch {
	case m.err != nil:
		s.say(components.Problem, "Restore failed: %s", components.Safe(m.err.Error()))
	case m.rep.Failed > 0:
		s.say(components.Warning, "Restore finished with failures: %s.", restoreCounts(m.rep))
	default:
		s.say(components.Good, "Restore finished: %s.", restoreCounts(m.rep))
	}
	if f := s.restore; f != nil && f.phase == phaseRunning {
		f.phase, f.report, f.err = phaseDone, m.rep, m.err
	}
}

func restoreCounts(r *api.RestoreReport) string {
	return fmt.Sprintf("%d restored, %d replaced, %d skipped, %d failed", r.Restored, r.Replaced, r.Skipped, r.Failed)
}

func (s *Status) restoreView() string {
	f := s.restore
	st := s.st
	b := []string{st.Heading.Render(components.Fit("Restore from the restore point of "+f.created+" UTC", components.BodyWidth)), ""}
	for _, l := range components.Wrap(components.Safe("What: "+f.what), components.BodyWidth) {
		b = append(b, l)
	}
	b = append(b, "")
	help := ""
	switch f.phase {
	case phaseEdit:
		b = append(b, f.target.View(st, 16, f.focus == resTarget), f.folder.View(st, 16, f.focus == resFolder))
		b = append(b, choiceRow(st, "If it exists", collisions[f.collision].name, f.focus == resCollision))
		b = append(b, "                     "+st.Dim.Render(collisions[f.collision].means), "")
		for _, l := range components.Wrap("Items go into the new folder in the target mailbox, keeping their folder structure "+
			"beneath it. Nothing in the backup changes.", components.BodyWidth) {
			b = append(b, l)
		}
		next := keys.Enter
		if f.focus == resRows-1 {
			next = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "review"))
		}
		bindings := []key.Binding{keys.Up, next}
		if f.focus == resCollision {
			bindings = append(bindings, keys.Cycle)
		}
		help = keys.Help(append(bindings, keys.Back)...)
	case phaseConfirm:
		r := f.request()
		b = append(b,
			fmt.Sprintf("Into mailbox    %s", components.Safe(r.TargetUser)),
			fmt.Sprintf("New folder      %s", components.Safe(r.TargetFolder)),
			fmt.Sprintf("If it exists    %s: %s", r.Collision, collisions[f.collision].means), "")
		b = append(b, st.Warn.Render("Press enter to restore, esc to change something."))
		help = keys.Help(keys.Confirm, keys.Back)
	case phaseRunning:
		b = append(b, "Restoring into "+components.Safe(f.request().TargetUser)+"...")
		b = append(b, s.jobLines("restore")...)
		help = keys.Help(keys.Leave)
	case phaseDone:
		if f.err != nil {
			b = append(b, failure(st, "The restore failed:", f.err)...)
		} else {
			r := f.report
			b = append(b,
				fmt.Sprintf("Restored  %6d", r.Restored),
				fmt.Sprintf("Replaced  %6d", r.Replaced),
				fmt.Sprintf("Skipped   %6d   (already in the target folder)", r.Skipped),
				fmt.Sprintf("Failed    %6d", r.Failed), "")
			b = append(b, components.Wrap(components.Safe(fmt.Sprintf("Into %s, folder %q; %d items selected from restore point %s.",
				r.TargetUser, r.TargetFolder, r.Selected, r.Snapshot)), components.BodyWidth)...)
			b = append(b, bulletList(st.Warn.Render, r.Errors, 4)...)
		}
		help = keys.Help(keys.Back)
	}
	return components.Frame{Title: "STRONGROOM restore", Right: f.created + " UTC", Body: b, Message: s.msg, Kind: s.kind, Help: help}.Render(st)
}

// choiceRow draws a value cycled with space: "> label  < value >".
func choiceRow(st styles.Styles, label, value string, focused bool) string {
	v := "< " + value + " >"
	if focused {
		return styles.Pointer + " " + st.Heading.Render(components.Fit(label, 16)) + " " + st.Focus.Render(v)
	}
	return "  " + st.Text.Render(components.Fit(label, 16)) + " " + v
}

// bulletList draws up to max of lines as bullets, each cut to the body's
// width, and how many more there are.
func bulletList(style func(...string) string, lines []string, max int) []string {
	var b []string
	for i, l := range lines {
		if i == max {
			return append(b, style(fmt.Sprintf("%s and %d more", styles.Bullet, len(lines)-i)))
		}
		b = append(b, style(components.Fit(styles.Bullet+" "+components.Safe(l), components.BodyWidth)))
	}
	return b
}
