package screens

import (
	"context"
	"fmt"
	"path"
	"sort"
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

// Browser first lists the restore points (newest first, the latest
// chosen), then the chosen one like a file tree by display path: users,
// then their workloads (Mail, Contacts, Calendar) and folders, then items.
type Browser struct {
	svc Service
	st  styles.Styles

	// Choosing the restore point.
	choosing   bool
	snaps      []api.SnapshotSummary
	snapCursor int

	// Listing the chosen one.
	snapshot string
	created  time.Time
	dir      string
	nodes    []api.Node
	cursor   int
	loading  bool
	err      error
}

func newBrowser(svc Service, st styles.Styles) *Browser {
	return &Browser{svc: svc, st: st, choosing: true}
}

type snapshotsMsg struct {
	snaps []api.SnapshotSummary
	err   error
}

type listMsg struct {
	dir      string
	snapshot string
	nodes    []api.Node
	err      error
}

// Snapshot is the restore point being listed, "" while choosing one.
func (b *Browser) Snapshot() string {
	if b.choosing {
		return ""
	}
	return b.snapshot
}

// Dir is the display path listed.
func (b *Browser) Dir() string { return b.dir }

func (b *Browser) loadSnapshots() tea.Cmd {
	b.loading = true
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		snaps, err := b.svc.Snapshots(ctx)
		return snapshotsMsg{snaps, err}
	}
}

func (b *Browser) gotSnapshots(m snapshotsMsg) {
	b.loading = false
	b.err = m.err
	if m.err != nil {
		return
	}
	b.snaps = append([]api.SnapshotSummary(nil), m.snaps...)
	sort.SliceStable(b.snaps, func(i, j int) bool { return b.snaps[i].Created.After(b.snaps[j].Created) })
	b.snapCursor = 0
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
	if key.Matches(msg, keys.Quit) {
		return nil, true
	}
	if b.choosing {
		return b.chooseKey(msg)
	}
	if key.Matches(msg, keys.Back) {
		// One step back: to the list of restore points.
		b.choosing, b.nodes, b.dir, b.err, b.loading = true, nil, "", nil, false
		return nil, false
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
		if isItem(n) {
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

func (b *Browser) chooseKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	if key.Matches(msg, keys.Back) {
		return nil, true
	}
	if b.loading || len(b.snaps) == 0 {
		return nil, false
	}
	if focusMove(msg, &b.snapCursor, len(b.snaps)) {
		return nil, false
	}
	if key.Matches(msg, keys.Choose) {
		s := b.snaps[b.snapCursor]
		b.choosing, b.snapshot, b.created, b.nodes, b.dir, b.err = false, s.ID, s.Created, nil, "", nil
		return b.load(""), false
	}
	return nil, false
}

// isItem reports whether a node is a single item rather than a folder.
func isItem(n api.Node) bool { return n.Leaf != nil && n.Items == 1 }

// selection is what R on the focused row restores, with a description
// for the form. ok is false when nothing restorable is focused.
func (b *Browser) selection() (sel api.Selection, what string, ok bool) {
	if b.choosing || b.loading || len(b.nodes) == 0 {
		return sel, "", false
	}
	n := b.nodes[b.cursor]
	parts := strings.Split(strings.Trim(n.View, "/"), "/")
	sel = api.Selection{Snapshot: b.snapshot, User: parts[0]}
	if isItem(n) {
		sel.Paths = []string{n.Leaf.Path}
		return sel, "the item " + n.View, true
	}
	if len(parts) > 1 {
		switch parts[1] {
		case "Mail":
			sel.Kind = "mail"
		case "Contacts":
			sel.Kind = "contacts"
		case "Calendar":
			sel.Kind = "calendar"
		default:
			return sel, "", false
		}
	}
	if len(parts) > 2 {
		sel.Folder = strings.Join(parts[2:], "/")
	}
	switch {
	case sel.Folder != "":
		what = fmt.Sprintf("the folder %s (%d items)", n.View, n.Items)
	case sel.Kind != "":
		what = fmt.Sprintf("all %s of %s (%d items)", sel.Kind, sel.User, n.Items)
	default:
		what = fmt.Sprintf("the whole mailbox %s (%d items)", sel.User, n.Items)
	}
	return sel, what, true
}

// View draws the list of restore points or the listing.
func (b *Browser) View(msg string, kind components.MessageKind) string {
	if b.choosing {
		return b.snapshotsView(msg, kind)
	}
	st := b.st
	where := "/" + b.dir
	body := []string{st.Heading.Render(components.Fit(components.Safe("Restore point "+b.created.UTC().Format("2006-01-02 15:04")+"  "+where), components.BodyWidth)), ""}
	switch {
	case b.err != nil:
		body = append(body, components.Wrap(components.Safe("Cannot list: "+b.err.Error()), components.BodyWidth)...)
	case b.loading && b.nodes == nil:
		body = append(body, "Reading the catalog...")
	case len(b.nodes) == 0:
		body = append(body, "Empty: nothing is here.")
	}
	rows := components.BodyLines - len(body)
	top := components.Window(b.cursor, len(b.nodes), rows)
	for i := top; i < len(b.nodes) && i < top+rows; i++ {
		n := b.nodes[i]
		name := components.Safe(n.Name)
		if !isItem(n) {
			name += "/"
		}
		line := fmt.Sprintf("%-46.46s %7d items %10s", name, n.Items, units.Bytes(n.Bytes))
		if i == b.cursor {
			body = append(body, styles.Pointer+" "+st.Focus.Render(line))
		} else {
			body = append(body, "  "+line)
		}
	}
	help := []key.Binding{keys.Up, keys.Descend, keys.Ascend}
	if _, _, ok := b.selection(); ok {
		help = append(help, keys.Restore)
	}
	if _, _, ok := b.rollbackTarget(); ok {
		help = append(help, keys.RollBack)
	}
	help = append(help, keys.Back)
	return components.Frame{Title: "STRONGROOM browse", Right: fmt.Sprintf("%d entries", len(b.nodes)), Body: body, Message: msg, Kind: kind,
		Help: keys.Help(help...)}.Render(st)
}

func (b *Browser) snapshotsView(msg string, kind components.MessageKind) string {
	st := b.st
	body := []string{st.Heading.Render("Choose a restore point"), ""}
	switch {
	case b.err != nil:
		body = append(body, components.Wrap(components.Safe("Cannot read the restore points: "+b.err.Error()), components.BodyWidth)...)
	case b.loading:
		body = append(body, "Reading the restore points...")
	case len(b.snaps) == 0:
		body = append(body, "No restore point yet: run a backup first (b on the status screen).")
	default:
		body = append(body, st.Dim.Render(fmt.Sprintf("  %-16s  %-8s %9s %10s  %-16s", "Made (UTC)", "Result", "Items", "Size", "Kept until")))
	}
	rows := components.BodyLines - len(body)
	top := components.Window(b.snapCursor, len(b.snaps), rows)
	for i := top; i < len(b.snaps) && i < top+rows; i++ {
		s := b.snaps[i]
		result := s.Result
		if result == "" {
			result = "-"
		}
		line := fmt.Sprintf("%-16s  %-8.8s %9d %10s  %-16s", s.Created.UTC().Format("2006-01-02 15:04"), components.Safe(result), s.Items,
			units.Bytes(max(s.Bytes, 0)), s.RetainUntil.UTC().Format("2006-01-02 15:04"))
		if i == 0 {
			line += " latest"
		}
		if i == b.snapCursor {
			body = append(body, styles.Pointer+" "+st.Focus.Render(line))
		} else {
			body = append(body, "  "+line)
		}
	}
	return components.Frame{Title: "STRONGROOM browse", Right: fmt.Sprintf("%d restore points", len(b.snaps)), Body: body, Message: msg, Kind: kind,
		Help: keys.Help(keys.Up, keys.Choose, keys.Back)}.Render(st)
}
