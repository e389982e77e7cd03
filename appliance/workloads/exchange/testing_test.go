package exchange_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

// env is a simulated tenant and a vault on temporary disks.
type env struct {
	t       *testing.T
	sim     *tenantsim.Sim
	backup  *graph.Client
	restore *graph.Client
	v       *vault.Vault
	user    workloads.Unit
	w       *workloadtest.Env
}

func newEnv(t *testing.T) *env {
	t.Helper()
	w := workloadtest.New(t, tenantsim.Config{Users: 3, Seed: 7})
	e := &env{t: t, sim: w.Sim, backup: w.Backup, restore: w.Restore, v: w.V, w: w}
	for _, u := range w.Sim.Users() {
		if u.Licensed && !u.Deleted {
			e.user = workloads.Unit{ID: u.ID, Name: u.UPN, DisplayName: u.Name}
			break
		}
	}
	return e
}

// read returns the stored content of an item.
func (e *env) read(it vault.Item) ([]byte, error) { return e.w.Read(it) }

func (e *env) items(s *vault.Snapshot) []vault.Item { return e.w.Items(s) }

// run backs up the env's user on top of prev (nil: first backup) and
// commits the snapshot.
func (e *env) run(prev *vault.Snapshot, o exchange.Options) (workloads.Result, vault.Snapshot) {
	e.t.Helper()
	res, s, err := e.try(prev, o)
	if err != nil {
		e.t.Fatalf("BackupMailbox: %v", err)
	}
	return res, s
}

func (e *env) try(prev *vault.Snapshot, o exchange.Options) (workloads.Result, vault.Snapshot, error) {
	e.t.Helper()
	return e.tryHook(prev, o, nil)
}

// hookSink calls before ahead of every Put and Add (from several
// goroutines at once), so a test can change the tenant at a chosen point
// of a run or make the write fail.
type hookSink struct {
	workloads.Sink
	before func(it vault.Item) error
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

// tryHook is try with before called ahead of every write (nil: none).
func (e *env) tryHook(prev *vault.Snapshot, o exchange.Options, before func(vault.Item) error) (workloads.Result, vault.Snapshot, error) {
	e.t.Helper()
	w, err := e.v.NewWriter("exchange-test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	var sink workloads.Sink = w
	if before != nil {
		sink = hookSink{Sink: w, before: before}
	}
	p := workloads.NewItemsPrevious(e.items(prev), e.read)
	res, err := exchange.BackupMailbox(context.Background(), e.backup, sink, p, e.user, o)
	if err != nil {
		w.Abort()
		return res, vault.Snapshot{}, err
	}
	s, err := w.Commit(time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return res, s, nil
}

// stored maps message id -> stored MIME for the user's mail in s, and
// fails on a message stored twice.
func (e *env) stored(s vault.Snapshot) map[string]vault.Item {
	e.t.Helper()
	out := map[string]vault.Item{}
	prefix := exchange.PathPrefix(e.user.ID) + "mail/"
	for _, it := range e.items(&s) {
		if !strings.HasPrefix(it.Path, prefix) || !strings.HasSuffix(it.Path, ".eml") {
			continue
		}
		id := it.Meta["item_id"]
		if _, dup := out[id]; dup {
			e.t.Fatalf("message %s stored twice", id)
		}
		out[id] = it
	}
	return out
}

func (e *env) dump() tenantsim.MailboxDump {
	e.t.Helper()
	d, err := e.sim.DumpMailbox(e.user.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// checkMail asserts that s holds exactly the sim's current mail, byte for
// byte, each message under its current folder.
func (e *env) checkMail(s vault.Snapshot) {
	e.t.Helper()
	d := e.dump()
	got := e.stored(s)
	for _, m := range d.Messages {
		it, ok := got[m.ID]
		if !ok {
			e.t.Errorf("message %s (%s in %s) not in snapshot", m.ID, m.Subject, m.FolderPath)
			continue
		}
		want := exchange.PathPrefix(e.user.ID) + "mail/" + workloads.EscapeID(m.FolderID) + "/" + workloads.EscapeID(m.ID) + ".eml"
		if it.Path != want || it.Meta["folder"] != m.FolderPath {
			e.t.Errorf("message %s stored at %s (folder %q), want %s (folder %q)", m.ID, it.Path, it.Meta["folder"], want, m.FolderPath)
		}
		b, err := e.read(it)
		if err != nil {
			e.t.Fatal(err)
		}
		if !bytes.Equal(b, m.MIME) {
			e.t.Errorf("message %s: stored MIME (%d bytes) differs from the mailbox (%d bytes)", m.ID, len(b), len(m.MIME))
		}
		delete(got, m.ID)
	}
	for id, it := range got {
		e.t.Errorf("snapshot holds message %s at %s that the mailbox no longer has", id, it.Path)
	}
}

// counters returns the sim's requests by endpoint class since base.
func requestsSince(s *tenantsim.Sim, base tenantsim.Counters) map[string]int64 {
	now := s.Counters()
	out := map[string]int64{}
	for class := range now.Requests {
		if d := now.Total(class, 0) - base.Total(class, 0); d != 0 {
			out[class] = d
		}
	}
	return out
}
