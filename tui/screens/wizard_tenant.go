package screens

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
)

// Rows of the tenant screen.
const (
	tenImport = iota
	tenID
	tenClient
	tenSecret
	tenTest
	tenNext
	tenRows
)

// tenantStep is the tenant screen's state.
type tenantStep struct {
	fields [4]components.Field // import path, tenant id, client id, secret
	focus  int
	// endpoints come from an imported connection file (a simulator).
	baseURL, authority, caFile string
	// check is the last sign-in test, valid for the values in checked.
	check   *setup.TenantCheck
	checked setup.Tenant
}

func (t *tenantStep) init() {
	t.fields = [4]components.Field{
		{Label: "Connection file", Width: 50, Max: 300},
		{Label: "Tenant id", Width: 38, Max: 36},
		{Label: "Client id", Width: 38, Max: 36},
		{Label: "Client secret", Width: 38, Max: 200, Mask: true},
	}
	t.focus = tenID
}

func (t *tenantStep) value() setup.Tenant {
	return setup.Tenant{
		TenantID: strings.TrimSpace(t.fields[1].Value), ClientID: strings.TrimSpace(t.fields[2].Value), ClientSecret: t.fields[3].Value,
		GraphBaseURL: t.baseURL, AuthorityHost: t.authority, CAFile: t.caFile,
	}
}

// passed reports whether the current values signed in and hold every
// permission.
func (t *tenantStep) passed() bool {
	return t.check != nil && t.checked == t.value() && len(t.check.Missing) == 0
}

type importMsg struct {
	t   setup.Tenant
	err error
}

type tenantMsg struct {
	t     setup.Tenant
	check setup.TenantCheck
	err   error
}

func (m importMsg) answer(w *Wizard) tea.Cmd {
	if !w.answered(m.err, "Could not import: %v") {
		return nil
	}
	t := &w.tenant
	t.fields[1].Value, t.fields[2].Value, t.fields[3].Value = m.t.TenantID, m.t.ClientID, m.t.ClientSecret
	t.baseURL, t.authority, t.caFile = m.t.GraphBaseURL, m.t.AuthorityHost, m.t.CAFile
	return w.moveOn(&t.focus, tenTest, "Connection details imported. Test the sign-in next.")
}

func (m tenantMsg) answer(w *Wizard) tea.Cmd {
	t := &w.tenant
	if m.err != nil {
		t.check = nil
	}
	if !w.answered(m.err, "%v") {
		return nil
	}
	t.check, t.checked = &m.check, m.t
	if len(m.check.Missing) > 0 {
		w.say(components.Problem, "Signed in, but the app lacks: %s. Grant them (API permissions, Application, admin consent) and test again.",
			strings.Join(m.check.Missing, ", "))
		return nil
	}
	return w.moveOn(&t.focus, tenNext, "Signed in; the app holds every permission the backup needs.")
}

func (w *Wizard) tenantKey(msg tea.KeyMsg) tea.Cmd {
	t := &w.tenant
	if focusMove(msg, &t.focus, tenRows) {
		return nil
	}
	if key.Matches(msg, keys.Enter) {
		switch t.focus {
		case tenImport:
			path := strings.TrimSpace(t.fields[0].Value)
			if path == "" {
				t.focus++
				return nil
			}
			w.busy = "Reading " + path + "..."
			return func() tea.Msg {
				v, err := w.be.ImportConnection(path)
				return importMsg{v, err}
			}
		case tenTest:
			v := t.value()
			if err := setup.ValidateTenant(v); err != nil {
				w.say(components.Problem, "%v", err)
				return nil
			}
			return w.call("Signing in to the tenant and reading the app's permissions...", func(ctx context.Context) tea.Msg {
				c, err := w.be.TestTenant(ctx, v)
				return tenantMsg{v, c, err}
			})
		case tenNext:
			if err := setup.ValidateTenant(t.value()); err != nil {
				w.say(components.Problem, "%v", err)
				return nil
			}
			if !t.passed() {
				t.focus = tenTest
				w.say(components.Problem, "Test the sign-in first: it must succeed with every permission granted.")
				return nil
			}
			return w.next()
		default:
			t.focus++
		}
		return nil
	}
	if t.focus < len(t.fields) && t.fields[t.focus].Update(msg) {
		w.msg = ""
		if t.focus != tenImport && t.check != nil && t.checked != t.value() {
			t.check = nil
		}
	}
	return nil
}

func (w *Wizard) tenantView() ([]string, string) {
	t := &w.tenant
	st := w.st
	b := []string{
		st.Heading.Render("Connect the Microsoft 365 tenant"),
		st.Dim.Render("The backup app registration needs application permissions, read only:"),
	}
	for _, l := range components.Wrap(strings.Join(setup.BackupRoles(), ", ")+" (with admin consent).", components.BodyWidth) {
		b = append(b, st.Dim.Render(l))
	}
	b = append(b, "",
		t.fields[0].View(st, 16, t.focus == tenImport),
		st.Dim.Render("  Optional: a file written by 'strongroom tenant-sim --config-out'."),
		"",
	)
	for i := 1; i < len(t.fields); i++ {
		b = append(b, t.fields[i].View(st, 16, t.focus == i))
	}
	if t.baseURL != "" {
		b = append(b, st.Dim.Render("  Graph endpoint "+t.baseURL+" (from the connection file)"))
	}
	b = append(b, "")
	b = append(b, w.button("Test sign-in", t.focus == tenTest)+"   "+w.button("Next", t.focus == tenNext))
	b = append(b, "")
	switch {
	case t.check == nil:
		b = append(b, "Sign-in: not tested yet.")
	case t.checked != t.value():
		b = append(b, "Sign-in: values changed since the last test; test again.")
	default:
		held := "none"
		if len(t.check.Held) > 0 {
			held = strings.Join(t.check.Held, ", ")
		}
		b = append(b, components.Wrap("Permissions held: "+held, components.BodyWidth)...)
		if len(t.check.Missing) == 0 {
			b = append(b, st.OK.Render("Missing: none"))
		} else {
			b = append(b, st.Error.Render("Missing: "+strings.Join(t.check.Missing, ", ")))
		}
	}
	return b, keys.Help(keys.Up, keys.Enter, keys.Back, keys.Abort)
}
