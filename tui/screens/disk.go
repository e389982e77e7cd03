package screens

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// diskPick is the disk form's first phase, before phaseEdit (typing the
// new directory).
const diskPick phase = -1

// diskForm replaces a missing disk of the vault with an empty directory
// on a new disk.
type diskForm struct {
	cursor int
	old    api.DiskStatus // the disk chosen
	path   components.Field
	phase  phase
	report *api.ScrubReport
	err    error
}

type replaceMsg struct {
	rep *api.ScrubReport
	err error
}

// ReplacingDisk reports whether the replace-disk form is open.
func (s *Status) ReplacingDisk() bool { return s.disk != nil }

func (s *Status) openDisk() {
	if s.status == nil {
		s.say(components.Info, "Wait for the agent's status: the disks are not known yet.")
		return
	}
	f := &diskForm{phase: diskPick, path: components.Field{Label: "New directory", Width: 44, Max: 200}}
	for i, d := range s.status.Vault.Disks {
		if !d.Present {
			f.cursor = i
			break
		}
	}
	s.disk = f
	s.msg = ""
	if s.missingDisks() == 0 {
		s.say(components.Info, "No disk is missing: there is nothing to replace.")
	}
}

func (s *Status) disks() []api.DiskStatus {
	if s.status == nil {
		return nil
	}
	return s.status.Vault.Disks
}

func (s *Status) missingDisks() int {
	n := 0
	for _, d := range s.disks() {
		if !d.Present {
			n++
		}
	}
	return n
}

func (s *Status) diskKey(msg tea.KeyMsg) tea.Cmd {
	f := s.disk
	start := func() tea.Cmd {
		old, dir := f.old.Path, f.path.Value
		return s.launch("disk replacement", "Rebuilding the lost disk's shards...", func(ctx context.Context) tea.Msg {
			rep, err := s.svc.ReplaceDisk(ctx, old, dir)
			return replaceMsg{rep, err}
		})
	}
	if cmd, handled := s.afterEdit(msg, actionFlow{phase: &f.phase, start: start, close: func() { s.disk = nil },
		left: "The rebuild goes on; its progress shows under Running.",
		wait: "Wait: the rebuild is running (esc leaves it running)."}); handled {
		return cmd
	}
	if f.phase == diskPick {
		s.pickDiskKey(msg)
		return nil
	}
	switch {
	case key.Matches(msg, keys.Back):
		f.phase = diskPick
		s.msg = ""
	case key.Matches(msg, keys.Enter):
		if problem := s.checkNewDisk(); problem != "" {
			s.say(components.Problem, "%s", problem)
			return nil
		}
		f.path.Value = filepath.Clean(strings.TrimSpace(f.path.Value))
		f.phase = phaseConfirm
		s.say(components.Warning, "Check the disks, then press enter to rebuild.")
	default:
		if f.path.Update(msg) {
			s.msg = ""
		}
	}
	return nil
}

// pickDiskKey handles a key while the missing disk is being chosen.
func (s *Status) pickDiskKey(msg tea.KeyMsg) {
	f, disks := s.disk, s.disks()
	switch {
	case key.Matches(msg, keys.Back):
		s.disk = nil
		s.say(components.Info, "Nothing was changed.")
	case len(disks) > 0 && focusMove(msg, &f.cursor, len(disks)):
		s.msg = ""
	case key.Matches(msg, keys.Choose) && f.cursor < len(disks):
		d := disks[f.cursor]
		if d.Present {
			s.say(components.Problem, "Disk %d (%s) is present: only a disk marked MISSING can be replaced.", d.Index, components.Safe(d.Path))
			return
		}
		f.old, f.phase = d, phaseEdit
		s.say(components.Info, "Type the path of the empty directory on the new disk.")
	}
}

// checkNewDisk returns why the typed directory cannot take the lost
// disk's place, or "".
func (s *Status) checkNewDisk() string {
	p := strings.TrimSpace(s.disk.path.Value)
	switch {
	case p == "":
		return "Type the directory on the new disk, e.g. /srv/disk5."
	case !filepath.IsAbs(p):
		return fmt.Sprintf("%q is not an absolute path: start it with /.", components.Safe(p))
	}
	p = filepath.Clean(p)
	if p == "/" {
		return "Not the root directory: mount the new disk and give its directory."
	}
	for _, d := range s.disks() {
		if filepath.Clean(d.Path) == p {
			return fmt.Sprintf("%s is already disk %d of the vault: give the new disk's directory.", components.Safe(p), d.Index)
		}
	}
	return ""
}

func (s *Status) gotReplace(m replaceMsg) {
	f := s.disk
	what := "The disk"
	if f != nil && f.phase == phaseRunning {
		what = fmt.Sprintf("Disk %d", f.old.Index)
		f.phase, f.report, f.err = phaseDone, m.rep, m.err
	}
	switch {
	case m.err != nil:
		s.say(components.Problem, "Replacing the disk failed: %s", components.Safe(m.err.Error()))
	case m.rep != nil && !m.rep.Healthy:
		s.say(components.Warning, "%s was replaced, but %d problems remain and %d segments are unrecoverable.", what, len(m.rep.Problems), len(m.rep.Unrecoverable))
	default:
		rebuilt := 0
		if m.rep != nil {
			rebuilt = m.rep.Repaired
		}
		s.say(components.Good, "%s was replaced: %d shards rebuilt; the vault is healthy.", what, rebuilt)
	}
}

func (s *Status) diskView() string {
	f := s.disk
	st := s.st
	b := []string{st.Heading.Render("Replace a disk"), ""}
	disks := s.disks()
	for i, d := range disks {
		state := st.OK.Render("ok     ")
		if !d.Present {
			state = st.Error.Render("MISSING")
		}
		free := ""
		if d.Present {
			free = units.Bytes(d.FreeBytes) + " free"
		}
		line := fmt.Sprintf("Disk %d  %-40.40s ", d.Index, components.Safe(d.Path)) + state + "  " + free
		switch {
		case f.phase == diskPick && i == f.cursor:
			b = append(b, styles.Pointer+" "+line)
		case f.phase != diskPick && d.Index == f.old.Index && d.Path == f.old.Path:
			b = append(b, "* "+line)
		default:
			b = append(b, "  "+line)
		}
	}
	b = append(b, "")
	help := ""
	switch f.phase {
	case diskPick:
		for _, l := range components.Wrap("Choose the missing disk. Its shards are rebuilt from the other disks' parity onto "+
			"an empty directory on the new disk, which then takes its place.", components.BodyWidth) {
			b = append(b, l)
		}
		help = keys.Help(keys.Up, keys.Choose, keys.Back)
	case phaseEdit:
		b = append(b, f.path.View(st, 14, true), "")
		for _, l := range components.Wrap("Format and mount the new disk first; the directory must exist and be empty.", components.BodyWidth) {
			b = append(b, l)
		}
		help = keys.Help(keys.Enter, keys.Erase, keys.Back)
	case phaseConfirm:
		b = append(b, components.Safe(fmt.Sprintf("Replace disk %d (%s)", f.old.Index, f.old.Path)), components.Safe("   with "+f.path.Value), "")
		for _, l := range components.Wrap("Every segment is read and the lost shards are written to the new disk. This "+
			"can take hours; backups wait until it ends. The configuration then names the new directory.", components.BodyWidth) {
			b = append(b, st.Warn.Render(l))
		}
		help = keys.Help(keys.Confirm, keys.Back)
	case phaseRunning:
		b = append(b, components.Safe(fmt.Sprintf("Rebuilding disk %d onto %s...", f.old.Index, f.path.Value)))
		b = append(b, s.jobLines("replace-disk")...)
		if s.status != nil {
			v := s.status.Vault
			b = append(b, fmt.Sprintf("Degraded segments: %d of %d", v.DegradedSegments, v.Segments))
		}
		help = keys.Help(keys.Leave)
	case phaseDone:
		if f.err != nil {
			b = append(b, failure(st, "The disk was not replaced:", f.err)...)
		}
		if r := f.report; r != nil {
			b = append(b, fmt.Sprintf("Segments checked %8d", r.Segments), fmt.Sprintf("Shards rebuilt   %8d", r.Repaired),
				fmt.Sprintf("Problems         %8d", len(r.Problems)), fmt.Sprintf("Unrecoverable    %8d", len(r.Unrecoverable)))
			if r.Healthy {
				b = append(b, "", st.OK.Render("The vault is healthy."))
			} else {
				b = append(b, "", st.Error.Render("The vault is not healthy: run a scrub (s) and check the alerts."))
			}
		}
		help = keys.Help(keys.Back)
	}
	right := units.Count(len(disks), "disk") + fmt.Sprintf(", %d missing", s.missingDisks())
	return components.Frame{Title: "STRONGROOM replace disk", Right: right, Body: b, Message: s.msg, Kind: s.kind, Help: help}.Render(st)
}
