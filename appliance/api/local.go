package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

// Local serves the API from an agent in this process (tests, the demo and
// the CLI when no daemon runs). Arguments and results pass through the
// same JSON encoding as on the socket, so a command behaves the same
// either way and the agent's own types never reach a client.
type Local struct{ a *agent.Agent }

// NewLocal returns the API of a.
func NewLocal(a *agent.Agent) *Local { return &Local{a: a} }

// recode converts v, one of the agent's types, into its wire type W (or
// back) through JSON. A result that comes with an error is kept: reports
// of partial work say what was done.
func recode[W any](v any, err error) (*W, error) {
	if v == nil {
		return nil, refused(err)
	}
	err = refused(err)
	b, merr := json.Marshal(v)
	if merr != nil {
		return nil, fmt.Errorf("encode %T: %w", v, merr)
	}
	var w W
	if merr := json.Unmarshal(b, &w); merr != nil {
		return nil, fmt.Errorf("decode %T into %T: %w", v, w, merr)
	}
	return &w, err
}

// wireError is err as a client sees it: what to change and what to do.
func wireError(err error) *RemoteError {
	var re *RemoteError
	if errors.As(err, &re) {
		return re
	}
	e := &RemoteError{Msg: err.Error(), Remedy: vault.Remedy(err)}
	var inv *agent.Invalid
	if errors.As(err, &inv) {
		e.Fields = inv.Fields
	}
	return e
}

// refused keeps an agent's error as it is, except that a refused request
// becomes the RemoteError naming its fields, as on the socket.
func refused(err error) error {
	var inv *agent.Invalid
	if errors.As(err, &inv) {
		return wireError(err)
	}
	return err
}

// in converts a wire request into the agent's type A.
func in[A any](req any) (A, error) {
	a, err := recode[A](req, nil)
	if err != nil {
		var zero A
		return zero, err
	}
	return *a, nil
}

// call converts the wire request req into the agent's request A, runs do
// with it and converts do's report into the wire report W.
func call[A, W, R any](ctx context.Context, req any, do func(context.Context, A) (*R, error)) (*W, error) {
	a, err := in[A](req)
	if err != nil {
		return nil, err
	}
	rep, err := do(ctx, a)
	return recode[W](nilIfNil(rep), err)
}

// listed converts the entries v of the listing id into the wire type W.
// A listing that does not convert is reported as nothing but that error.
func listed[W any](id string, v any, err error) (string, []W, error) {
	out, cerr := recode[[]W](v, nil)
	if cerr != nil {
		return "", nil, cerr
	}
	return id, *out, refused(err)
}

// nilIfNil keeps a typed nil pointer from becoming a non-nil any.
func nilIfNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// Status implements Service.
func (l *Local) Status(ctx context.Context) (*Status, error) {
	st, err := l.a.Status(ctx)
	return recode[Status](nilIfNil(st), err)
}

// Backup implements Service.
func (l *Local) Backup(ctx context.Context, req BackupRequest) (*BackupReport, error) {
	return call[agent.BackupRequest, BackupReport](ctx, req, l.a.Backup)
}

// Snapshots implements Service.
func (l *Local) Snapshots(ctx context.Context) ([]SnapshotSummary, error) {
	s, err := l.a.Snapshots(ctx)
	_, out, err := listed[SnapshotSummary]("", s, err)
	return out, err
}

// List implements Service.
func (l *Local) List(ctx context.Context, snapshot, dir string) (string, []Node, error) {
	id, nodes, err := l.a.List(ctx, snapshot, dir)
	return listed[Node](id, nodes, err)
}

// Find implements Service.
func (l *Local) Find(ctx context.Context, snapshot string, q Query, limit int) (string, []Entry, error) {
	cq, err := in[catalog.Query](q)
	if err != nil {
		return "", nil, err
	}
	id, entries, err := l.a.Find(ctx, snapshot, cq, limit)
	return listed[Entry](id, entries, err)
}

// Restore implements Service.
func (l *Local) Restore(ctx context.Context, req RestoreRequest) (*RestoreReport, error) {
	return call[agent.RestoreRequest, RestoreReport](ctx, req, l.a.Restore)
}

// Rollback implements Service.
func (l *Local) Rollback(ctx context.Context, req RollbackRequest) (*RollbackReport, error) {
	return call[agent.RollbackRequest, RollbackReport](ctx, req, l.a.Rollback)
}

// Export implements Service.
func (l *Local) Export(ctx context.Context, req ExportRequest) (*ExportReport, error) {
	return call[agent.ExportRequest, ExportReport](ctx, req, l.a.Export)
}

// RestoreTest implements Service.
func (l *Local) RestoreTest(ctx context.Context, sample int) (*RestoreTestReport, error) {
	rep, err := l.a.RestoreTest(ctx, sample)
	return recode[RestoreTestReport](nilIfNil(rep), err)
}

// Scrub implements Service.
func (l *Local) Scrub(ctx context.Context, repair bool) (*ScrubReport, error) {
	rep, err := l.a.Scrub(ctx, repair)
	return recode[ScrubReport](nilIfNil(rep), err)
}

// ConfirmClock implements Service.
func (l *Local) ConfirmClock(ctx context.Context) error { return l.a.ConfirmClock(ctx) }

// Report implements Service.
func (l *Local) Report(ctx context.Context, since time.Time) (*Report, error) {
	rep, err := l.a.Report(ctx, since)
	return recode[Report](nilIfNil(rep), err)
}

// DeleteSnapshot implements Service.
func (l *Local) DeleteSnapshot(ctx context.Context, id string) error {
	return l.a.DeleteSnapshot(ctx, id)
}

// ReplaceDisk implements Service.
func (l *Local) ReplaceDisk(ctx context.Context, oldDir, newDir string) (*ScrubReport, error) {
	rep, err := l.a.ReplaceDisk(ctx, oldDir, newDir)
	return recode[ScrubReport](nilIfNil(rep), err)
}

// SetRetention implements Service.
func (l *Local) SetRetention(ctx context.Context, rollback, audit time.Duration) (*RetentionChange, error) {
	ch, err := l.a.SetRetention(ctx, rollback, audit)
	return recode[RetentionChange](nilIfNil(ch), err)
}

var _ Service = (*Local)(nil)
