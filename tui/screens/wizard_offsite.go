package screens

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// Rows of the offsite screen: the fields, then the path-style switch and
// the two buttons.
const (
	offEndpoint = iota
	offBucket
	offRegion
	offAccess
	offSecret
	offCA
	offPathStyle
	offTest
	offNext
	offRows
)

// offsiteStep is the offsite screen's state. Every field empty means no
// offsite copy.
type offsiteStep struct {
	fields    [offPathStyle]components.Field
	pathStyle bool
	focus     int
	// tested is the last bucket test's values and err its outcome.
	tested *setup.Offsite
	err    error
}

func (o *offsiteStep) init() {
	o.fields = [offPathStyle]components.Field{
		{Label: "Endpoint", Width: 44, Max: 200},
		{Label: "Bucket", Width: 32, Max: 63},
		{Label: "Region", Width: 20, Max: 40},
		{Label: "Access key", Width: 32, Max: 128},
		{Label: "Secret key", Width: 32, Max: 200, Mask: true},
		{Label: "CA file", Width: 44, Max: 300},
	}
}

func (o *offsiteStep) value() setup.Offsite {
	f := func(i int) string { return strings.TrimSpace(o.fields[i].Value) }
	return setup.Offsite{
		Endpoint: f(offEndpoint), Bucket: f(offBucket), Region: f(offRegion), AccessKey: f(offAccess),
		SecretKey: f(offSecret), CAFile: f(offCA), PathStyle: o.pathStyle,
	}
}

// empty reports whether the operator chose no offsite copy.
func (o *offsiteStep) empty() bool {
	for _, f := range o.fields {
		if strings.TrimSpace(f.Value) != "" {
			return false
		}
	}
	return true
}

// passed reports whether the current values reached a bucket with
// versioning and Object Lock.
func (o *offsiteStep) passed() bool {
	return o.tested != nil && *o.tested == o.value() && o.err == nil
}

// plan is the offsite part of the plan: nil for none.
func (o *offsiteStep) plan() *setup.Offsite {
	if o.empty() {
		return nil
	}
	v := o.value()
	return &v
}

type offsiteMsg struct {
	o   setup.Offsite
	err error
}

func (m offsiteMsg) answer(w *Wizard) tea.Cmd {
	o := &w.offsite
	o.tested, o.err = &m.o, m.err
	if !w.answered(m.err, "%v") {
		return nil
	}
	return w.moveOn(&o.focus, offNext, "Bucket reached: versioning and Object Lock are on. Copies will be locked in COMPLIANCE mode.")
}

func (w *Wizard) offsiteKey(msg tea.KeyMsg) tea.Cmd {
	o := &w.offsite
	if focusMove(msg, &o.focus, offRows) {
		return nil
	}
	switch {
	case o.focus == offPathStyle && key.Matches(msg, keys.Toggle):
		o.pathStyle = !o.pathStyle
		return nil
	case key.Matches(msg, keys.Enter):
		return w.offsiteEnter()
	}
	if o.focus < len(o.fields) && o.fields[o.focus].Update(msg) {
		w.msg = ""
	}
	return nil
}

func (w *Wizard) offsiteEnter() tea.Cmd {
	o := &w.offsite
	switch o.focus {
	case offTest:
		if o.empty() {
			w.say(components.Info, "Nothing to test: fill in the bucket's settings, or choose Next to go on without an offsite copy.")
			return nil
		}
		v := o.value()
		if err := setup.ValidateOffsite(v); err != nil {
			w.say(components.Problem, "%v", err)
			return nil
		}
		return w.call("Reaching the bucket and reading its versioning and Object Lock...", func(ctx context.Context) tea.Msg {
			return offsiteMsg{v, w.be.TestOffsite(ctx, v)}
		})
	case offNext:
		if o.empty() {
			return w.next()
		}
		if !o.passed() {
			o.focus = offTest
			w.say(components.Problem, "Test the bucket first: it must be reachable with versioning and Object Lock on. Or empty every field for no offsite copy.")
			return nil
		}
		return w.next()
	case offEndpoint:
		if o.empty() {
			o.focus = offNext
			w.say(components.Info, "No offsite copy: Next goes on without one.")
			return nil
		}
	}
	o.focus++
	return nil
}

func (w *Wizard) offsiteView() ([]string, string) {
	o := &w.offsite
	st := w.st
	b := []string{st.Heading.Render("Offsite copy to an S3 bucket with Object Lock (optional)")}
	for _, l := range components.Wrap("A copy in another building survives fire, flood or theft of this box. "+
		"Leave every field empty to go on without one.", components.BodyWidth) {
		b = append(b, st.Dim.Render(l))
	}
	b = append(b, "")
	for i, f := range o.fields {
		b = append(b, f.View(st, 12, o.focus == i))
	}
	box := "[ ]"
	if o.pathStyle {
		box = "[x]"
	}
	line := "  " + components.Fit("Path-style", 12) + " " + box + " bucket in the path (MinIO, Ceph, versitygw)"
	if o.focus == offPathStyle {
		line = styles.Pointer + line[1:]
	}
	b = append(b, line, "")
	b = append(b, w.button("Test bucket", o.focus == offTest)+"   "+w.button("Next", o.focus == offNext), "")
	switch {
	case o.empty():
		b = append(b, "Offsite: none (the vault stays on this box only).")
	case o.tested == nil || *o.tested != o.value():
		b = append(b, "Bucket: not tested with these values.")
	case o.err != nil:
		b = append(b, st.Error.Render("Bucket: refused; see the message below."))
	default:
		b = append(b, st.OK.Render("Bucket: versioning and Object Lock on."))
	}
	return b, keys.Help(keys.Up, keys.Enter, keys.Toggle, keys.Back, keys.Abort)
}
