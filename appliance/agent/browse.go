package agent

import (
	"context"

	"github.com/strongroom/strongroom/appliance/catalog"
)

// List is a directory-style listing of a snapshot by display path
// (user/Mail/Inbox/...).
func (a *Agent) List(ctx context.Context, snapshot, dir string) (string, []catalog.Node, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	s, err := a.v.Snapshot(orLatest(snapshot))
	if err != nil {
		return "", nil, err
	}
	nodes, err := a.cat.List(s.ID, dir)
	return s.ID, nodes, err
}

// Find searches a snapshot's catalog; limit 0 means no limit.
func (a *Agent) Find(ctx context.Context, snapshot string, q catalog.Query, limit int) (string, []catalog.Entry, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	s, err := a.v.Snapshot(orLatest(snapshot))
	if err != nil {
		return "", nil, err
	}
	var out []catalog.Entry
	err = a.cat.Find(s.ID, q, func(e catalog.Entry) error {
		out = append(out, e)
		if limit > 0 && len(out) >= limit {
			return catalog.ErrStop
		}
		return nil
	})
	return s.ID, out, err
}

func orLatest(s string) string {
	if s == "" {
		return "latest"
	}
	return s
}
