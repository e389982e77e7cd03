package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	if errors.Is(err, catalog.ErrNoPath) {
		user, _, _ := strings.Cut(strings.Trim(dir, "/"), "/")
		if _, uerr := a.cat.List(s.ID, user); errors.Is(uerr, catalog.ErrNoPath) {
			return s.ID, nil, fmt.Errorf("restore point %s holds nothing of %q (no such user, mailbox or site in it)\n  what to do: 'strongroom ls %s' lists the users and sites it holds", s.ID, user, s.ID)
		}
		return s.ID, nil, fmt.Errorf("restore point %s holds nothing at %q\n  what to do: 'strongroom ls %s %s' lists what it holds of %s", s.ID, strings.Trim(dir, "/"), s.ID, shellQuote(user), user)
	}
	return s.ID, nodes, err
}

// shellQuote quotes s for a command line when it needs it.
func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\&;|<>()*?[]#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
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
