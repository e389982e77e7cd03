package keys

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// Bindings shared by every screen.
var (
	Up     = key.NewBinding(key.WithKeys("up"), key.WithHelp("up/dn", "move"))
	Down   = key.NewBinding(key.WithKeys("down", "tab"), key.WithHelp("up/dn", "move"))
	Left   = key.NewBinding(key.WithKeys("left"), key.WithHelp("lt/rt", "change"))
	Right  = key.NewBinding(key.WithKeys("right"), key.WithHelp("lt/rt", "change"))
	Enter  = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next"))
	Back   = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"))
	Toggle = key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "choose"))
	Format = key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "format"))
	Erase  = key.NewBinding(key.WithKeys("backspace"), key.WithHelp("bksp", "erase"))
	Abort  = key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))
)

// Status screen actions.
var (
	Backup      = key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "backup"))
	RestoreTest = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restore test"))
	Scrub       = key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "scrub"))
	Clock       = key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clock"))
	Browse      = key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "browse"))
	Quit        = key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit"))
	Descend     = key.NewBinding(key.WithKeys("enter", "right"), key.WithHelp("enter", "open"))
	Ascend      = key.NewBinding(key.WithKeys("backspace", "left"), key.WithHelp("bksp", "up"))
	ReplaceDisk = key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "disk"))
	Retention   = key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "retention"))
	Choose      = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose"))
	Restore     = key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "restore"))
	RollBack    = key.NewBinding(key.WithKeys("B"), key.WithHelp("B", "roll back"))
	Cycle       = key.NewBinding(key.WithKeys(" ", "left", "right"), key.WithHelp("space", "change"))
	Confirm     = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm"))
	Leave       = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave it running"))
	Update      = key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "update"))
)

// Update screen actions. Confirmations take y or n, so that a key pressed
// twice by mistake (enter, enter) never installs or rolls back anything.
var (
	Install  = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "install"))
	Rollback = key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "roll back"))
	Rescan   = key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "find disks"))
	List     = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "back to the list"))
	Yes      = key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes"))
	No       = key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n", "no"))
)

// Help renders bindings as "key label" pairs for the help line, skipping
// disabled ones and repeats of the same key text.
func Help(bs ...key.Binding) string {
	var parts []string
	seen := map[string]bool{}
	for _, b := range bs {
		if !b.Enabled() || seen[b.Help().Key] {
			continue
		}
		seen[b.Help().Key] = true
		parts = append(parts, b.Help().Key+" "+b.Help().Desc)
	}
	return strings.Join(parts, "  ")
}
