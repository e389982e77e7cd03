package screens

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
)

// diskStep is the disk screen's state. Choices are kept by path, so a
// rescan (going back and forth) keeps them.
type diskStep struct {
	list   []setup.Disk
	loaded bool
	cursor int
	chosen map[string]bool
}

// selected returns the chosen disks in list order.
func (d *diskStep) selected() []setup.Disk {
	var out []setup.Disk
	for _, x := range d.list {
		if d.chosen[x.Path] && x.Usable() {
			out = append(out, x)
		}
	}
	return out
}

func (d *diskStep) paths() []string {
	var out []string
	for _, x := range d.selected() {
		out = append(out, x.Path)
	}
	return out
}

type disksMsg struct {
	list []setup.Disk
	err  error
}

func (w *Wizard) loadDisks() tea.Cmd {
	w.busy = "Looking for disks..."
	return func() tea.Msg {
		ctx, cancel := w.ctx()
		defer cancel()
		l, err := w.be.Disks(ctx)
		return disksMsg{l, err}
	}
}

func (w *Wizard) gotDisks(m disksMsg) tea.Cmd {
	w.busy = ""
	if m.err != nil {
		w.say(components.Problem, "Could not list the disks: %v", m.err)
		return nil
	}
	w.disks.list, w.disks.loaded = m.list, true
	w.disks.cursor = min(w.disks.cursor, max(len(m.list)-1, 0))
	return nil
}

func (w *Wizard) diskKey(msg tea.KeyMsg) tea.Cmd {
	d := &w.disks
	if len(d.list) > 0 && focusMove(msg, &d.cursor, len(d.list)) {
		return nil
	}
	switch {
	case key.Matches(msg, keys.Toggle):
		if len(d.list) == 0 {
			return nil
		}
		x := d.list[d.cursor]
		if !x.Usable() {
			w.say(components.Problem, "%s cannot be used: %s", x.Name, x.Problem)
			return nil
		}
		d.chosen[x.Path] = !d.chosen[x.Path]
		w.msg = ""
	case key.Matches(msg, keys.Enter):
		if !d.loaded {
			return w.loadDisks()
		}
		n := len(d.selected())
		if n == 0 {
			w.say(components.Problem, "Choose at least one disk: move to it and press space.")
			return nil
		}
		if _, err := w.be.PreviewLayout(n); err != nil {
			w.say(components.Problem, "%v", err)
			return nil
		}
		return w.next()
	}
	return nil
}

func (w *Wizard) diskView() ([]string, string) {
	d := &w.disks
	st := w.st
	b := []string{st.Heading.Render("Choose the data disks for the vault (space to choose)"), ""}
	b = append(b, st.Dim.Render(fmt.Sprintf("      %-12s %10s  %-20s %s", "DISK", "SIZE", "MODEL", "MOUNTED AT")))
	const rows = 9
	top := components.Window(d.cursor, len(d.list), rows)
	for i := top; i < len(d.list) && i < top+rows; i++ {
		x := d.list[i]
		mark := "[ ]"
		if d.chosen[x.Path] && x.Usable() {
			mark = "[x]"
		}
		where := x.Path
		if !x.Usable() {
			where = x.Problem
		}
		line := fmt.Sprintf("%s %-12s %10s  %-20.20s %s", mark, x.Name, units.Bytes(x.SizeBytes), x.Model, where)
		switch {
		case i == d.cursor:
			b = append(b, "> "+st.Focus.Render(components.Fit(line, components.BodyWidth-2)))
		case !x.Usable():
			b = append(b, "  "+st.Dim.Render(line))
		case d.chosen[x.Path]:
			b = append(b, "  "+st.Selected.Render(line))
		default:
			b = append(b, "  "+line)
		}
	}
	if d.loaded && len(d.list) == 0 {
		b = append(b, st.Warn.Render("  No data disk found. Attach disks (the system disk is never offered)."))
	}
	for len(b) < rows+3 {
		b = append(b, "")
	}
	sel := d.selected()
	if len(sel) == 0 {
		b = append(b, "No disk chosen yet.")
		return b, keys.Help(keys.Up, keys.Toggle, keys.Enter, keys.Back, keys.Abort)
	}
	p, err := w.be.PreviewLayout(len(sel))
	if err != nil {
		b = append(b, st.Error.Render(err.Error()))
		return b, keys.Help(keys.Up, keys.Toggle, keys.Enter, keys.Back, keys.Abort)
	}
	var raw uint64
	for _, x := range sel {
		raw += x.SizeBytes
	}
	p = p.On(sel)
	b = append(b, fmt.Sprintf("%d disks chosen: layout %s (%d data + %d parity shards per stripe).", len(sel), p.Layout, p.K, p.M))
	b = append(b, fmt.Sprintf("Usable capacity %s of %s raw; %s.", units.Bytes(p.Usable), units.Bytes(raw), p.Survives))
	if p.Warning != "" {
		for _, l := range components.Wrap("Warning: "+p.Warning+".", components.BodyWidth) {
			b = append(b, st.Warn.Render(l))
		}
	}
	return b, keys.Help(keys.Up, keys.Toggle, keys.Enter, keys.Back, keys.Abort)
}
