package screens

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/tui/components"
	"github.com/strongroom/strongroom/tui/keys"
	"github.com/strongroom/strongroom/tui/styles"
)

// Browser lists the latest snapshot like a file tree: users, then their
// workloads and folders, then items.
type Browser struct {
	svc      Service
	st       styles.Styles
	snapshot string
	dir      string
	nodes    []catalog.Node
	cursor   int
	loading  bool
	err      error
}

func newBrowser(svc Service, st styles.Styles) *Browser { return &Browser{svc: svc, st: st} }

type listMsg struct {
	dir      string
	snapshot string
	nodes    []catalog.Node
	err      error
}

func (b *Browser) load(dir string) tea.Cmd {
	b.loading = true
	snap := b.snapshot
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		id, nodes, err := b.svc.List(ctx, snap, dir)
		return listMsg{dir, id, nodes, err}
	}
}

func (b *Browser) got(m listMsg) {
	b.loading = false
	if m.err != nil {
		b.err = m.err
		return
	}
	b.err = nil
	b.snapshot, b.dir, b.nodes, b.cursor = m.snapshot, m.dir, nil, 0
	for _, n := range m.nodes {
		// Dot entries hold the backup's own state (delta links), not
		// the user's data.
		if !strings.HasPrefix(n.Name, ".") {
			b.nodes = append(b.nodes, n)
		}
	}
}

// key handles a key; closed reports that the browser should close.
func (b *Browser) key(msg tea.KeyMsg) (cmd tea.Cmd, closed bool) {
	if key.Matches(msg, keys.Back) || key.Matches(msg, keys.Quit) {
		return nil, true
	}
	if b.loading {
		return nil, false
	}
	if len(b.nodes) > 0 && focusMove(msg, &b.cursor, len(b.nodes)) {
		return nil, false
	}
	switch {
	case key.Matches(msg, keys.Descend):
		if len(b.nodes) == 0 {
			return nil, false
		}
		n := b.nodes[b.cursor]
		if n.Leaf != nil && n.Items == 1 {
			return nil, false
		}
		return b.load(n.View), false
	case key.Matches(msg, keys.Ascend):
		if b.dir == "" {
			return nil, false
		}
		parent := path.Dir(b.dir)
		if parent == "." {
			parent = ""
		}
		return b.load(parent), false
	}
	return nil, false
}

// View draws the listing.
func (b *Browser) View(msg string, kind components.MessageKind) string {
	st := b.st
	where := "/" + b.dir
	body := []string{st.Heading.Render(components.Fit("Snapshot "+b.snapshot+"  "+where, components.BodyWidth)), ""}
	switch {
	case b.err != nil:
		body = append(body, components.Wrap("Cannot list: "+b.err.Error(), components.BodyWidth)...)
	case b.loading && b.nodes == nil:
		body = append(body, "Reading the catalog...")
	case len(b.nodes) == 0:
		body = append(body, "Empty: no backup has been made yet, or nothing is here.")
	}
	rows := components.BodyLines - len(body)
	top := components.Window(b.cursor, len(b.nodes), rows)
	for i := top; i < len(b.nodes) && i < top+rows; i++ {
		n := b.nodes[i]
		name := n.Name
		if n.Leaf == nil || n.Items > 1 {
			name += "/"
		}
		line := fmt.Sprintf("%-46.46s %7d items %10s", name, n.Items, components.Bytes(uint64(n.Bytes)))
		if i == b.cursor {
			body = append(body, styles.Pointer+" "+st.Focus.Render(line))
		} else {
			body = append(body, "  "+line)
		}
	}
	return components.Frame{Title: "STRONGROOM browse", Right: fmt.Sprintf("%d entries", len(b.nodes)), Body: body, Message: msg, Kind: kind,
		Help: keys.Help(keys.Up, keys.Descend, keys.Ascend, keys.Back)}.Render(st)
}
