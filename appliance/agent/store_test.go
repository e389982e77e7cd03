package agent_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/storage/vault"
)

// hookSink calls before ahead of every write BackupMailbox makes.
type hookSink struct {
	workloads.Sink
	before func(vault.Item) error
}

func (h hookSink) Put(it vault.Item, r io.Reader) (vault.Item, error) {
	if err := h.before(it); err != nil {
		return it, err
	}
	return h.Sink.Put(it, r)
}

func (h hookSink) Add(it vault.Item) error {
	if err := h.before(it); err != nil {
		return err
	}
	return h.Sink.Add(it)
}

func firstMailboxUser(sim *tenantsim.Sim) tenantsim.UserInfo {
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			return u
		}
	}
	return tenantsim.UserInfo{}
}

// TestAgentStopsOnVaultWriteError guards the rule that a vault that fails
// to store an item ends the run: no restore point is committed (the
// mailbox's items are not carried over on top of what was already
// added), and the error names the checks to make.
func TestAgentStopsOnVaultWriteError(t *testing.T) {
	sim, a, _ := newAgent(t, 4, tenantsim.Config{})
	victim := firstMailboxUser(sim)
	prefix := exchange.PathPrefix(victim.ID)
	var puts atomic.Int64
	agent.SetSinkWrapper(a, func(s workloads.Sink) workloads.Sink {
		return hookSink{Sink: s, before: func(it vault.Item) error {
			if strings.HasPrefix(it.Path, prefix) && strings.HasSuffix(it.Path, ".eml") && puts.Add(1) == 5 {
				return errors.New("injected: chunk missing from the index")
			}
			return nil
		}}
	})
	rep, err := a.Backup(context.Background(), agent.BackupRequest{})
	if err == nil {
		t.Fatalf("a run whose vault writes failed succeeded: %s, %d failed mailboxes", rep.Result, rep.Failed)
	}
	if !strings.Contains(err.Error(), "strongroom vault status") || !strings.Contains(err.Error(), "strongroom vault rebuild-index") {
		t.Errorf("error %q does not name the checks to make", err)
	}
	snaps, err := a.Snapshots(context.Background())
	if err != nil || len(snaps) != 0 {
		t.Fatalf("snapshots after a failed vault write: %v %+v; want none committed", err, snaps)
	}
}

// TestAgentNoDuplicateCarryOver guards the carry-over rule: a user who
// vanishes after BackupMailbox has started writing keeps their data
// exactly once (BackupMailbox carried it per collection) and is marked
// departed.
func TestAgentNoDuplicateCarryOver(t *testing.T) {
	sim, a, _ := newAgent(t, 4, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	victim := firstMailboxUser(sim)
	prefix := exchange.PathPrefix(victim.ID)
	var once sync.Once
	agent.SetSinkWrapper(a, func(s workloads.Sink) workloads.Sink {
		return hookSink{Sink: s, before: func(it vault.Item) error {
			if it.Path == prefix+"_user.json" {
				once.Do(func() {
					if _, err := sim.Apply(tenantsim.Scenario{Name: "deprovision-user", User: victim.ID}); err != nil {
						t.Error(err)
					}
				})
			}
			return nil
		}}
	})
	inc, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !containsStr(inc.Departed, victim.UPN) {
		t.Errorf("user deleted mid-run not departed: %v", inc.Departed)
	}
	count := func(id string) (map[string]int, int) {
		s, err := a.Vault().Snapshot(id)
		if err != nil {
			t.Fatal(err)
		}
		paths := map[string]int{}
		n := 0
		err = a.Vault().EachItem(s, func(it vault.Item) error {
			paths[it.Path]++
			if strings.HasPrefix(it.Path, prefix) {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return paths, n
	}
	_, before := count(full.Snapshot)
	paths, after := count(inc.Snapshot)
	for p, n := range paths {
		if n > 1 {
			t.Errorf("%s recorded %d times", p, n)
		}
	}
	if paths[prefix+"_departed.json"] != 1 || after != before+1 {
		t.Errorf("departed user: %d items before, %d after (marker %d); want every item kept once plus the marker", before, after, paths[prefix+"_departed.json"])
	}
}
