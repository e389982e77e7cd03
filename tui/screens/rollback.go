package screens

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// rollbackForm puts a OneDrive or a site's libraries back to the last
// clean restore point before the damage began: it asks when, shows what a
// dry run would do, and rolls back only once that is confirmed.
type rollbackForm struct {
	req     api.RollbackRequest // without Before
	what    string              // "the OneDrive of anna@contoso.com"
	before  components.Field
	phase   phase
	preview *api.RollbackReport // the dry run, shown for confirmation
	report  *api.RollbackReport
	err     error
}

type rollbackMsg struct {
	rep *api.RollbackReport
	err error
	dry bool
}

func (m rollbackMsg) apply(s *Status) { s.gotRollback(m) }

// RollingBack reports whether the rollback form is open.
func (s *Status) RollingBack() bool { return s.rollback != nil }

// rollbackTarget is what B on the browser's focused row rolls back: a
// user's OneDrive, or a site's libraries (one, inside it).
func (b *Browser) rollbackTarget() (req api.RollbackRequest, what string, ok bool) {
	if b.choosing || b.loading || len(b.nodes) == 0 {
		return req, "", false
	}
	parts := strings.Split(strings.Trim(b.nodes[b.cursor].View, "/"), "/")
	if len(parts) < 2 {
		return req, "", false
	}
	switch parts[1] {
	case "OneDrive":
		return api.RollbackRequest{User: parts[0]}, "the OneDrive of " + parts[0], true
	case "Libraries":
		// The catalog shows a site as its URL without the scheme, with
		// its slashes as ∕.
		req.Site = "https://" + strings.ReplaceAll(parts[0], "∕", "/")
		what = "every library of " + req.Site
		if len(parts) > 2 {
			req.Library = parts[2]
			what = fmt.Sprintf("the library %q of %s", req.Library, req.Site)
		}
		return req, what, true
	}
	return req, "", false
}

func (s *Status) openRollback() {
	req, what, ok := s.browse.rollbackTarget()
	if !ok {
		s.say(components.Info, "Move to a user's OneDrive or a site's library to roll it back.")
		return
	}
	// The damage began after the restore point being browsed, unless the
	// operator says otherwise.
	after := s.browse.created.Add(time.Minute).UTC().Format(time.RFC3339)
	s.rollback = &rollbackForm{req: req, what: what,
		before: components.Field{Label: "Damage began", Value: after, Width: 25, Max: 25}}
	s.msg = ""
}

func (s *Status) rollbackKey(msg tea.KeyMsg) tea.Cmd {
	f := s.rollback
	start := func() tea.Cmd { return s.startRollback(false) }
	if cmd, handled := s.afterEdit(msg, actionFlow{phase: &f.phase, start: start, close: func() { s.rollback = nil },
		left: "The rollback goes on; its result will show here.",
		wait: "Wait: the rollback is running (esc leaves it running)."}); handled {
		return cmd
	}
	switch {
	case key.Matches(msg, keys.Back):
		s.rollback = nil
		s.say(components.Info, "Rollback cancelled; nothing was changed.")
	case key.Matches(msg, keys.Enter):
		if _, err := units.ParseDate(strings.TrimSpace(f.before.Value)); err != nil {
			s.say(components.Problem, "Damage began: %s", components.Safe(err.Error()))
			return nil
		}
		return s.startRollback(true)
	default:
		if f.before.Update(msg) {
			s.msg = ""
		}
	}
	return nil
}

// startRollback asks the agent for a dry run, or for the rollback itself.
func (s *Status) startRollback(dry bool) tea.Cmd {
	req := s.rollback.req
	req.Before, _ = units.ParseDate(strings.TrimSpace(s.rollback.before.Value))
	req.DryRun = dry
	busy := "Rolling back..."
	if dry {
		busy = "Checking what the rollback would do..."
	}
	return s.launch("rollback", busy, func(ctx context.Context) tea.Msg {
		rep, err := s.svc.Rollback(ctx, req)
		return rollbackMsg{rep: rep, err: err, dry: dry}
	})
}

func (s *Status) gotRollback(m rollbackMsg) {
	f := s.rollback
	switch {
	case m.dry && m.err != nil:
		s.say(components.Problem, "Cannot roll back: %s", components.Safe(m.err.Error()))
	case m.dry:
		if f != nil {
			f.preview, f.phase = m.rep, phaseConfirm
		}
		s.say(components.Info, "Check what the rollback will do, then press enter to start it.")
	case m.err != nil:
		s.say(components.Problem, "Rollback failed: %s", components.Safe(m.err.Error()))
	case m.rep.Failed > 0:
		s.say(components.Warning, "Rollback finished with %d failures.", m.rep.Failed)
	default:
		s.say(components.Good, "Rollback finished: %s.", rollbackCounts(m.rep))
	}
	if !m.dry && f != nil && f.phase == phaseRunning {
		f.phase, f.report, f.err = phaseDone, m.rep, m.err
	}
}

func rollbackCounts(r *api.RollbackReport) string {
	return fmt.Sprintf("%d files restored (%s), %d quarantined, %d unchanged", len(r.Restored), units.Bytes(r.Bytes), len(r.Quarantined), r.Unchanged)
}

// listSome draws up to four of names under a label, and how many more.
func listSome(st styles.Styles, label string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	return append([]string{fmt.Sprintf("%s (%d):", label, len(names))}, bulletList(st.Dim.Render, names, 4)...)
}

func (s *Status) rollbackView() string {
	f := s.rollback
	st := s.st
	b := []string{st.Heading.Render("Roll back after ransomware or a bad sync"), ""}
	b = append(b, components.Wrap(components.Safe("What: "+f.what), components.BodyWidth)...)
	b = append(b, "")
	var help string
	switch f.phase {
	case phaseEdit:
		b = append(b, fieldsWithNote(st, []components.Field{f.before}, 0,
			"When the damage began (UTC: YYYY-MM-DD or 2026-03-14T09:30:00Z). Every file changed since is put back to its "+
				"version in the last clean restore point before then; files created since are moved to a quarantine folder, "+
				"never deleted. Enter shows what would change; nothing changes until you confirm.")...)
		help = keys.Help(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "preview")), keys.Back)
	case phaseConfirm:
		p := f.preview
		b = append(b, components.Fit(fmt.Sprintf("Clean restore point %s, from %s UTC", p.Snapshot, p.SnapshotTime.UTC().Format("2006-01-02 15:04")), components.BodyWidth))
		b = append(b, "Would do: "+rollbackCounts(p), "")
		b = append(b, listSome(st, "Put back", p.Restored)...)
		b = append(b, listSome(st, "Moved to quarantine", p.Quarantined)...)
		b = append(b, "", st.Warn.Render("Press enter to roll back, esc to change the time."))
		help = keys.Help(keys.Confirm, keys.Back)
	case phaseRunning:
		b = append(b, "Rolling back...")
		b = append(b, s.jobLines("rollback")...)
		help = keys.Help(keys.Leave)
	case phaseDone:
		if f.err != nil {
			b = append(b, failure(st, "The rollback failed:", f.err)...)
		} else {
			r := f.report
			b = append(b, "Done: "+rollbackCounts(r))
			if r.QuarantineFolder != "" {
				b = append(b, components.Fit("Quarantine folder: "+components.Safe(r.QuarantineFolder), components.BodyWidth))
			}
			b = append(b, bulletList(st.Warn.Render, r.Errors, 4)...)
		}
		help = keys.Help(keys.Back)
	}
	return components.Frame{Title: "STRONGROOM rollback", Body: b, Message: s.msg, Kind: s.kind, Help: help}.Render(st)
}
