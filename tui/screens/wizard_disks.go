package screens

import (
	"context"
	"fmt"
	"sort"
	"strings"

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
	// format is the formatting being confirmed, nil when none.
	format *formatConfirm
	// adopt is the vault the chosen disks carry (disks moved from another
	// box), set when the step is left; nil for a new vault.
	adopt *setup.VaultOnDisk
}

// formatConfirm is a disk about to be formatted. The operator types the
// disk's name; a disk that holds something also needs the word "erase"
// typed at a second prompt, so no single slip of the keyboard destroys
// data.
type formatConfirm struct {
	disk  setup.Disk
	erase bool // at the second prompt
	typed components.Field
}

// eraseWord is what the second confirmation takes.
const eraseWord = "erase"

type formattedMsg struct {
	disk setup.Disk
	err  error
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

// paths are the chosen disks' directories: in list order for a new vault,
// in the order of the vault's own disks for one the disks carry (its state
// directory stays on its first disk).
func (d *diskStep) paths() []string {
	sel := d.selected()
	if d.adopt != nil {
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].Vault.Index < sel[j].Vault.Index })
	}
	var out []string
	for _, x := range sel {
		out = append(out, x.Path)
	}
	return out
}

type disksMsg struct {
	list []setup.Disk
	err  error
}

func (w *Wizard) loadDisks() tea.Cmd {
	return w.call("Looking for disks...", func(ctx context.Context) tea.Msg {
		l, err := w.be.Disks(ctx)
		return disksMsg{l, err}
	})
}

func (m disksMsg) answer(w *Wizard) tea.Cmd {
	if !w.answered(m.err, "Could not list the disks: %v") {
		return nil
	}
	w.disks.list, w.disks.loaded = m.list, true
	w.disks.format = nil
	w.disks.cursor = min(w.disks.cursor, max(len(m.list)-1, 0))
	return nil
}

// startFormat asks for the first confirmation of formatting x.
func (w *Wizard) startFormat(x setup.Disk) {
	if !x.Formattable {
		w.say(components.Problem, "%s is in use (mounted at %s): it is not formatted again.", x.Name, x.Path)
		return
	}
	w.disks.format = &formatConfirm{disk: x, typed: components.Field{Label: "Disk name", Width: 12, Max: 32}}
	w.msg = ""
}

// formatKey handles a key while a format is being confirmed; esc cancels
// (Wizard.back).
func (w *Wizard) formatKey(msg tea.KeyMsg) tea.Cmd {
	f := w.disks.format
	if !key.Matches(msg, keys.Enter) {
		if f.typed.Update(msg) {
			w.msg = ""
		}
		return nil
	}
	typed := strings.TrimSpace(f.typed.Value)
	f.typed.Value = ""
	switch {
	case !f.erase && typed != f.disk.Name:
		w.say(components.Problem, "That is not %s: type the disk's name exactly, or esc to leave it alone.", f.disk.Name)
		return nil
	case !f.erase && f.disk.Contents != "":
		f.erase = true
		f.typed = components.Field{Label: "Type " + eraseWord, Width: 12, Max: 16}
		return nil
	case f.erase && !strings.EqualFold(typed, eraseWord):
		w.say(components.Problem, "Not erased: type %q to destroy what %s holds, or esc to leave it alone.", eraseWord, f.disk.Name)
		return nil
	}
	req := setup.FormatRequest{Device: f.disk.Device, Erase: f.erase}
	return w.call("Formatting "+f.disk.Name+"...", func(ctx context.Context) tea.Msg {
		d, err := w.be.FormatDisk(ctx, req)
		return formattedMsg{d, err}
	})
}

func (m formattedMsg) answer(w *Wizard) tea.Cmd {
	w.disks.format = nil
	if !w.answered(m.err, "Not formatted: %v") {
		return nil
	}
	w.disks.chosen[m.disk.Path] = true
	cmd := w.loadDisks()
	w.say(components.Good, "%s is now %s on %s, chosen for the vault.", m.disk.Name, m.disk.Label, m.disk.Path)
	return cmd
}

func (w *Wizard) diskKey(msg tea.KeyMsg) tea.Cmd {
	d := &w.disks
	if d.format != nil {
		return w.formatKey(msg)
	}
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
	case key.Matches(msg, keys.Format):
		if len(d.list) > 0 {
			w.startFormat(d.list[d.cursor])
		}
	case key.Matches(msg, keys.Enter):
		if !d.loaded {
			return w.loadDisks()
		}
		n := len(d.selected())
		if n == 0 {
			w.say(components.Problem, "Choose at least one disk: move to it and press space.")
			return nil
		}
		adopt, err := setup.Adoption(d.selected())
		if err != nil {
			w.say(components.Problem, "%v", err)
			return nil
		}
		if d.adopt = adopt; adopt != nil {
			return w.next()
		}
		if err := setup.SharedDevice(d.selected()); err != nil {
			w.say(components.Problem, "%v", err)
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
	b := []string{st.Heading.Render("Choose the data disks for the vault (space to choose, f to format)"), ""}
	b = append(b, st.Dim.Render(fmt.Sprintf("      %-8s %9s  %-14s %-10s %s", "DISK", "SIZE", "MODEL", "SERIAL", "MOUNTED AT")))
	const rows = 9
	top := components.Window(d.cursor, len(d.list), rows)
	for i := top; i < len(d.list) && i < top+rows; i++ {
		x := d.list[i]
		mark := "[ ]"
		if d.chosen[x.Path] && x.Usable() {
			mark = "[x]"
		}
		where := x.Path
		switch {
		case !x.Usable():
			where = x.Problem
		case x.Vault != nil:
			where = fmt.Sprintf("vault %s, %d/%d", x.Vault.Short(), x.Vault.Index+1, x.Vault.K+x.Vault.M)
		}
		line := components.Fit(fmt.Sprintf("%s %-8s %9s  %-14.14s %-10.10s %s", mark, x.Name, units.Bytes(x.SizeBytes), x.Model, x.Serial, where), components.BodyWidth-2)
		switch {
		case i == d.cursor:
			b = append(b, "> "+st.Focus.Render(line))
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
	if d.format != nil {
		return w.formatView(b)
	}
	help := keys.Help(keys.Up, keys.Toggle, keys.Format, keys.Enter, keys.Back, keys.Abort)
	sel := d.selected()
	if len(sel) == 0 {
		b = append(b, "No disk chosen yet.")
		return b, help
	}
	if adopt, err := setup.Adoption(sel); err != nil {
		for _, l := range components.Wrap(err.Error(), components.BodyWidth) {
			b = append(b, st.Warn.Render(l))
		}
		return b, help
	} else if adopt != nil {
		for _, l := range components.Wrap(fmt.Sprintf("%d disks of vault %s chosen: it is used as it is (layout %d+%d, every restore point kept); its recovery key opens it.",
			len(sel), adopt.Short(), adopt.K, adopt.M), components.BodyWidth) {
			b = append(b, l)
		}
		return b, help
	}
	p, err := w.be.PreviewLayout(len(sel))
	if err != nil {
		b = append(b, st.Error.Render(err.Error()))
		return b, help
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
	return b, help
}

// formatView is the confirmation below the disk list while a format is
// pending.
func (w *Wizard) formatView(b []string) ([]string, string) {
	st := w.st
	f := w.disks.format
	x := f.disk
	id := x.Model
	if x.Serial != "" {
		id = strings.TrimSpace(id + ", serial " + x.Serial)
	}
	if id != "" {
		id = " (" + id + ")"
	}
	var text string
	if !f.erase {
		text = fmt.Sprintf("Format %s, %s%s, for the vault? Type its name, %s, and press enter.", x.Name, units.Bytes(x.SizeBytes), id, x.Name)
	} else {
		text = fmt.Sprintf("%s is NOT blank: it holds %s. Formatting destroys everything on it. Type %q to erase it.", x.Name, x.Contents, eraseWord)
	}
	for _, l := range components.Wrap(text, components.BodyWidth) {
		b = append(b, st.Warn.Render(l))
	}
	b = append(b, f.typed.View(st, 14, true))
	return b, keys.Help(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")), keys.Back, keys.Abort)
}
