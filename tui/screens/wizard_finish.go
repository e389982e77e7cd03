package screens

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
)

type vaultMsg struct {
	v   setup.VaultInit
	err error
}

type commitMsg struct{ err error }

// plan assembles what Commit writes.
func (w *Wizard) plan() setup.Plan {
	p := setup.Plan{
		ConfigPath: w.opts.ConfigPath, KeyFile: w.opts.KeyFile, StateDir: w.opts.StateDir,
		Disks: w.disks.paths(), Tenant: w.tenant.value(),
		Interval: w.sched.windows.Interval, Rollback: w.sched.windows.Rollback, Audit: w.sched.windows.Audit,
		Offsite: w.offsite.plan(),
	}
	if np := w.net.plan(); np.Mode != setup.KeepNetwork {
		p.Network = np
	}
	if w.created != nil {
		p.RecoveryKey = w.created.RecoveryKey
	}
	p.Adopted = w.disks.adopt != nil
	return p
}

func (w *Wizard) summaryKey(msg tea.KeyMsg) tea.Cmd {
	if !key.Matches(msg, keys.Enter) {
		return nil
	}
	if err := w.plan().Validate(); err != nil {
		w.say(components.Problem, "%v", err)
		return nil
	}
	disks := w.disks.paths()
	if w.disks.adopt != nil {
		// Nothing is created: the key step asks for the vault's key.
		w.created = nil
		w.keyIn = components.Field{Label: "Recovery key", Width: 58, Max: 120}
		w.msg = ""
		return w.enter(StepKey)
	}
	return w.call("Creating the vault on "+fmt.Sprint(len(disks))+" disks...", func(ctx context.Context) tea.Msg {
		v, err := w.be.InitVault(ctx, disks)
		return vaultMsg{v, err}
	})
}

func (m vaultMsg) answer(w *Wizard) tea.Cmd {
	if !w.answered(m.err, "The vault could not be created: %v") {
		return nil
	}
	w.created = &m.v
	w.keyIn.Value = ""
	w.msg = ""
	return w.enter(StepKey)
}

// lastGroup is the part of the key the operator types back.
func lastGroup(k string) string {
	parts := strings.Split(k, "-")
	return parts[len(parts)-1]
}

// adoptedMsg is AdoptVault's answer: the vault on the chosen disks opened
// with the key the operator typed.
type adoptedMsg struct {
	v   setup.VaultInit
	err error
}

func (m adoptedMsg) answer(w *Wizard) tea.Cmd {
	if !w.answered(m.err, "%v") {
		return nil
	}
	w.created = &m.v
	p := w.plan()
	w.keyIn.Value = ""
	return w.call("Writing the configuration for vault "+w.disks.adopt.Short()+"...", func(ctx context.Context) tea.Msg {
		return commitMsg{w.be.Commit(ctx, p)}
	})
}

func (w *Wizard) keyKey(msg tea.KeyMsg) tea.Cmd {
	if !key.Matches(msg, keys.Enter) {
		if w.keyIn.Update(msg) {
			w.msg = ""
		}
		return nil
	}
	if w.disks.adopt != nil {
		typed := strings.TrimSpace(w.keyIn.Value)
		if typed == "" {
			w.say(components.Problem, "Type the vault's recovery key, as written down when it was set up.")
			return nil
		}
		disks := w.disks.paths()
		return w.call("Opening vault "+w.disks.adopt.Short()+" with the key...", func(ctx context.Context) tea.Msg {
			v, err := w.be.AdoptVault(ctx, disks, typed)
			return adoptedMsg{v, err}
		})
	}
	if w.created == nil {
		return nil
	}
	typed := strings.ToLower(strings.TrimSpace(w.keyIn.Value))
	if typed != lastGroup(w.created.RecoveryKey) {
		w.keyIn.Value = ""
		w.say(components.Problem, "That is not the last group of the key. Check what you wrote down and type it again.")
		return nil
	}
	p := w.plan()
	return w.call("Writing the recovery key file and the configuration...", func(ctx context.Context) tea.Msg {
		return commitMsg{w.be.Commit(ctx, p)}
	})
}

func (m commitMsg) answer(w *Wizard) tea.Cmd {
	if !w.answered(m.err, "Writing the configuration failed: %v. Fix it and press enter to try again.") {
		return nil
	}
	w.done = true
	// The key has been shown and written: drop it from memory.
	w.created.RecoveryKey = ""
	path := w.opts.ConfigPath
	return func() tea.Msg { return SetupDoneMsg{ConfigPath: path} }
}

func (w *Wizard) summaryView() ([]string, string) {
	st := w.st
	p := w.plan()
	heading := "Check, then press enter to create the vault"
	if w.disks.adopt != nil {
		heading = "Check, then press enter to use the vault on these disks"
	}
	b := []string{st.Heading.Render(heading), ""}
	netLine := "keep current settings (nothing written)"
	if p.Network != nil {
		netLine = p.Network.Mode.String() + " on " + p.Network.Interface
		if p.Network.Mode == setup.Static {
			netLine += fmt.Sprintf(", %s via %s, DNS %s", p.Network.Address, p.Network.Gateway, strings.Join(p.Network.DNS, ","))
		}
	}
	b = append(b, "Network     "+netLine)
	sel := w.disks.selected()
	var names []string
	for _, d := range sel {
		names = append(names, d.Name)
	}
	layout := ""
	if a := w.disks.adopt; a != nil {
		layout = fmt.Sprintf("vault %s already on them, layout %d+%d: used as it is", a.Short(), a.K, a.M)
	} else if pv, err := w.be.PreviewLayout(len(sel)); err == nil {
		pv = pv.On(sel)
		layout = fmt.Sprintf("layout %s, %s usable, %s", pv.Layout, units.Bytes(pv.Usable), pv.Survives)
	}
	b = append(b, fmt.Sprintf("Disks       %d: %s", len(sel), strings.Join(names, ", ")))
	b = append(b, "            "+layout)
	b = append(b, "Tenant      "+p.Tenant.TenantID)
	b = append(b, "Backup app  "+p.Tenant.ClientID+" (sign-in tested)")
	b = append(b, fmt.Sprintf("Schedule    back up every %s", shortDuration(p.Interval)))
	b = append(b, fmt.Sprintf("Retention   every point %s, monthly %s (locked: longer only)", days(p.Rollback), days(p.Audit)))
	offLine := "none"
	if o := p.Offsite; o != nil {
		offLine = "bucket " + o.Bucket + " at " + o.Endpoint + " (tested)"
	}
	b = append(b, "Offsite     "+offLine)
	b = append(b, "Files       "+p.ConfigPath)
	if w.be.SealsSecrets() {
		b = append(b, "            recovery key and secrets sealed to this box's TPM")
	} else {
		b = append(b, "            "+p.KeyFile+" (recovery key, 0600)")
	}
	b = append(b, "")
	if w.disks.adopt != nil {
		for _, l := range components.Wrap("Enter asks for the vault's recovery key; with it the vault on the disks above is used as it is. "+
			"Nothing has been written so far; esc goes back.", components.BodyWidth) {
			b = append(b, st.Warn.Render(l))
		}
		return b, keys.Help(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "use vault")), keys.Back, keys.Abort)
	}
	for _, l := range components.Wrap("Enter creates the vault on the disks above and shows its recovery key once. "+
		"Nothing has been written so far; esc goes back.", components.BodyWidth) {
		b = append(b, st.Warn.Render(l))
	}
	return b, keys.Help(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "create vault")), keys.Back, keys.Abort)
}

// shortDuration drops zero minutes and seconds: 4h, 90m, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// days formats a retention window in days or years.
func days(d time.Duration) string {
	h := d.Hours()
	if y := h / (365 * 24); y >= 1 && y == float64(int(y)) {
		return fmt.Sprintf("%dy", int(y))
	}
	return fmt.Sprintf("%dd", int(h/24))
}

func (w *Wizard) keyView() ([]string, string) {
	st := w.st
	b := []string{st.Heading.Render("The vault's recovery key"), ""}
	if a := w.disks.adopt; a != nil {
		for _, l := range components.Wrap(fmt.Sprintf("The chosen disks hold vault %s. Type its recovery key as it was written down "+
			"when the vault was set up: groups of four letters and digits with their dashes. It opens the vault; this box "+
			"then seals it to its own TPM.", a.Short()), components.BodyWidth) {
			b = append(b, l)
		}
		b = append(b, "")
		b = append(b, w.keyIn.View(st, 62, true))
		return b, keys.Help(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open vault")), keys.Back, keys.Abort)
	}
	if w.created != nil {
		b = append(b, fmt.Sprintf("Vault %s created, layout %s.", w.created.VaultID, w.created.Layout))
		b = append(b, "")
		b = append(b, "  "+st.Secret.Render(" "+w.created.RecoveryKey+" "))
		b = append(b, "")
		for _, l := range components.Wrap("Write this key down now and keep it away from this appliance. It is shown "+
			"only this once. Every backup is encrypted: without this key nothing can be read or restored, "+
			"for example after the system disk is lost.", components.BodyWidth) {
			b = append(b, l)
		}
		b = append(b, "")
		b = append(b, "To confirm you have it, type the last group of the key (after the last dash).")
		b = append(b, "")
		b = append(b, w.keyIn.View(st, 22, true))
	}
	return b, keys.Help(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")), keys.Abort)
}
