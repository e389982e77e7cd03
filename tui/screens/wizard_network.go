package screens

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
)

// netStep is the network screen's state.
type netStep struct {
	state  *setup.NetworkState
	err    error
	mode   setup.NetworkMode
	iface  int // index into state.Physical()
	fields [3]components.Field
	focus  int // 0 mode, 1 interface, 2.. static fields
	// pending is the plan applied and waiting for y (keep) or n; left is
	// the seconds until it is put back by itself; gen tells the current
	// countdown's ticks from a finished one's.
	pending *setup.NetworkPlan
	left    int
	gen     int
	// kept is the plan applied and kept: the step may be left with it.
	kept *setup.NetworkPlan
}

// keepSeconds is how long new network settings wait for the operator's y
// before the previous ones are put back, as a display mode change does.
const keepSeconds = 60

// NetworkTickMsg counts down the wait for keeping new network settings.
// The wizard's timer sends them when WizardOptions.Tick is set; one sent
// by hand (gen 0) always counts.
type NetworkTickMsg struct{ gen int }

type netAppliedMsg struct {
	plan  setup.NetworkPlan
	state setup.NetworkState
	err   error
}

type netRevertedMsg struct{ err error }

// samePlan reports whether two plans write the same file.
func samePlan(a, b *setup.NetworkPlan) bool {
	return a != nil && b != nil && a.Mode == b.Mode && a.FileName() == b.FileName() && string(a.Render()) == string(b.Render())
}

func (n *netStep) init() {
	n.fields = [3]components.Field{
		{Label: "Address/prefix", Width: 20, Max: 43},
		{Label: "Gateway", Width: 20, Max: 39},
		{Label: "DNS servers", Width: 40, Max: 100},
	}
}

// rows is the number of focusable rows for the chosen mode.
func (n *netStep) rows() int {
	switch n.mode {
	case setup.DHCP:
		return 2
	case setup.Static:
		return 2 + len(n.fields)
	}
	return 1
}

func (n *netStep) plan() *setup.NetworkPlan {
	p := &setup.NetworkPlan{Mode: n.mode}
	if n.mode == setup.KeepNetwork {
		return p
	}
	if n.state != nil {
		if phys := n.state.Physical(); n.iface < len(phys) {
			p.Interface = phys[n.iface].Name
		}
	}
	if n.mode == setup.Static {
		p.Address = strings.TrimSpace(n.fields[0].Value)
		p.Gateway = strings.TrimSpace(n.fields[1].Value)
		p.DNS = strings.FieldsFunc(n.fields[2].Value, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return p
}

type networkMsg struct {
	state setup.NetworkState
	err   error
}

func (w *Wizard) loadNetwork() tea.Cmd {
	return w.call("Reading the network settings...", func(ctx context.Context) tea.Msg {
		st, err := w.be.Network(ctx)
		return networkMsg{st, err}
	})
}

func (m networkMsg) answer(w *Wizard) tea.Cmd {
	w.net.err = m.err
	if !w.answered(m.err, "Could not read the network: %v") {
		return nil
	}
	w.net.state = &m.state
	// Preselect the interface carrying the default route.
	for i, f := range m.state.Physical() {
		if f.Name == m.state.GatewayDev {
			w.net.iface = i
		}
	}
	return nil
}

func (w *Wizard) applyNetwork(p setup.NetworkPlan) tea.Cmd {
	w.busy = fmt.Sprintf("Applying %s on %s; waiting up to a minute for it to come up...", p.Mode, p.Interface)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		st, err := w.be.ApplyNetwork(ctx, p)
		return netAppliedMsg{p, st, err}
	}
}

func (m netAppliedMsg) answer(w *Wizard) tea.Cmd {
	n := &w.net
	if len(m.state.Interfaces) > 0 {
		n.state = &m.state
	}
	if !w.answered(m.err, "Not applied: %v") {
		return nil
	}
	n.pending, n.left = &m.plan, keepSeconds
	n.gen++
	w.say(components.Good, "Applied: y keeps these settings, n puts the previous ones back.")
	return w.netTimer()
}

func (w *Wizard) netTimer() tea.Cmd {
	if w.opts.Tick <= 0 {
		return nil
	}
	gen := w.net.gen
	return tea.Tick(w.opts.Tick, func(time.Time) tea.Msg { return NetworkTickMsg{gen} })
}

func (m NetworkTickMsg) answer(w *Wizard) tea.Cmd {
	n := &w.net
	if n.pending == nil || (m.gen != 0 && m.gen != n.gen) {
		return nil
	}
	n.left--
	if n.left > 0 {
		return w.netTimer()
	}
	return w.revertNetwork()
}

func (w *Wizard) revertNetwork() tea.Cmd {
	return w.call("Putting the previous network settings back...", func(ctx context.Context) tea.Msg {
		return netRevertedMsg{w.be.RevertNetwork(ctx)}
	})
}

func (m netRevertedMsg) answer(w *Wizard) tea.Cmd {
	w.net.pending = nil
	if !w.answered(m.err, "Could not put the previous network settings back: %v. Restart the appliance to start again from them.") {
		return nil
	}
	cmd := w.loadNetwork()
	w.say(components.Info, "Not kept: the previous network settings are back.")
	return cmd
}

// pendingKey answers the keep question.
func (w *Wizard) pendingKey(msg tea.KeyMsg) tea.Cmd {
	n := &w.net
	switch {
	case key.Matches(msg, keys.Yes):
		n.kept, n.pending = n.pending, nil
		return w.next()
	case key.Matches(msg, keys.No):
		return w.revertNetwork()
	}
	w.say(components.Info, "Keep the new network settings? y keeps them, n puts the previous ones back.")
	return nil
}

func (w *Wizard) networkKey(msg tea.KeyMsg) tea.Cmd {
	n := &w.net
	if n.pending != nil {
		return w.pendingKey(msg)
	}
	if focusMove(msg, &n.focus, n.rows()) {
		return nil
	}
	cycle := func(delta int) {
		switch n.focus {
		case 0:
			n.mode = setup.NetworkMode((int(n.mode) + 3 + delta) % 3)
		case 1:
			if n.state != nil && len(n.state.Physical()) > 0 {
				k := len(n.state.Physical())
				n.iface = (n.iface + k + delta) % k
			}
		}
	}
	switch {
	case key.Matches(msg, keys.Left) && n.focus < 2:
		cycle(-1)
		return nil
	case (key.Matches(msg, keys.Right) || key.Matches(msg, keys.Toggle)) && n.focus < 2:
		cycle(1)
		return nil
	case key.Matches(msg, keys.Enter):
		if n.focus < n.rows()-1 {
			n.focus++
			return nil
		}
		if n.state == nil {
			return w.loadNetwork()
		}
		p := n.plan()
		if err := p.Validate(); err != nil {
			w.say(components.Problem, "%v", err)
			return nil
		}
		if p.Mode == setup.KeepNetwork || samePlan(p, n.kept) {
			return w.next()
		}
		return w.applyNetwork(*p)
	}
	if n.focus >= 2 {
		if n.fields[n.focus-2].Update(msg) {
			w.msg = ""
		}
	}
	return nil
}

func (w *Wizard) networkView() ([]string, string) {
	n := &w.net
	st := w.st
	var b []string
	b = append(b, st.Heading.Render("Current network"))
	if n.state == nil {
		b = append(b, "  (not read yet)")
	} else {
		for _, i := range n.state.Physical() {
			addrs := strings.Join(i.Addresses, " ")
			if addrs == "" {
				addrs = "no address"
			}
			b = append(b, fmt.Sprintf("  %-10s %-8s %-17s %-6s %s", i.Name, i.State, i.MAC, i.Source(), addrs))
		}
		if len(n.state.Physical()) == 0 {
			b = append(b, "  no network interface found")
		}
		gw := "none"
		if n.state.Gateway != "" {
			gw = n.state.Gateway + " via " + n.state.GatewayDev
		}
		dns := "none"
		if len(n.state.DNS) > 0 {
			dns = strings.Join(n.state.DNS, ", ")
		}
		b = append(b, fmt.Sprintf("  Default route: %s   DNS: %s", gw, dns))
		if probs := n.state.Problems(); len(probs) == 0 {
			b = append(b, st.OK.Render("  Check: address, default route and DNS are present."))
		} else {
			for _, p := range probs {
				b = append(b, st.Warn.Render("  ! "+p))
			}
		}
	}
	b = append(b, "")
	b = append(b, st.Heading.Render("Configure"))
	modes := []setup.NetworkMode{setup.KeepNetwork, setup.DHCP, setup.Static}
	var opts []string
	for _, m := range modes {
		mark := "( )"
		if m == n.mode {
			mark = "(*)"
		}
		opts = append(opts, mark+" "+m.String())
	}
	b = append(b, w.row(n.focus == 0, "Mode          ", strings.Join(opts, "   ")))
	if n.mode != setup.KeepNetwork {
		name := "(none)"
		if n.state != nil {
			if phys := n.state.Physical(); n.iface < len(phys) {
				name = phys[n.iface].Name
			}
		}
		b = append(b, w.row(n.focus == 1, "Interface     ", "< "+name+" >"))
	}
	if n.mode == setup.Static {
		for i, f := range n.fields {
			b = append(b, f.View(st, 14, n.focus == i+2))
		}
		b = append(b, st.Dim.Render("  DNS servers: separate several with commas."))
	}
	b = append(b, "")
	switch {
	case n.pending != nil:
		b = append(b, st.Warn.Render(fmt.Sprintf("  %s on %s is applied. Keep it? Without y the previous settings", n.pending.Mode, n.pending.Interface)))
		b = append(b, st.Warn.Render(fmt.Sprintf("  come back by themselves in %d s.", n.left)))
		return b, keys.Help(keys.Yes, keys.No, keys.Abort)
	case n.mode == setup.KeepNetwork:
		b = append(b, st.Dim.Render("  Nothing is written for the network; it stays as shown above."))
	case samePlan(n.plan(), n.kept):
		b = append(b, st.OK.Render("  Applied and kept; enter goes on."))
	default:
		b = append(b, st.Dim.Render("  Enter applies these settings now and shows the result; they are kept"))
		b = append(b, st.Dim.Render("  only when you confirm them within a minute."))
	}
	return b, keys.Help(keys.Up, keys.Left, keys.Enter, keys.Back, keys.Abort)
}

// row draws a labelled row that is changed with left/right.
func (w *Wizard) row(focused bool, label, value string) string {
	if focused {
		return "> " + w.st.Heading.Render(label) + " " + w.st.Focus.Render(value)
	}
	return "  " + w.st.Text.Render(label) + " " + value
}
