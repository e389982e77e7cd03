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
	r, err := in[agent.BackupRequest](req)
	if err != nil {
		return nil, err
	}
	rep, err := l.a.Backup(ctx, r)
	return recode[BackupReport](nilIfNil(rep), err)
}

// Snapshots implements Service.
func (l *Local) Snapshots(ctx context.Context) ([]SnapshotSummary, error) {
	s, err := l.a.Snapshots(ctx)
	out, cerr := recode[[]SnapshotSummary](s, nil)
	if cerr != nil {
		return nil, cerr
	}
	return *out, refused(err)
}

// List implements Service.
func (l *Local) List(ctx context.Context, snapshot, dir string) (string, []Node, error) {
	id, nodes, err := l.a.List(ctx, snapshot, dir)
	out, cerr := recode[[]Node](nodes, nil)
	if cerr != nil {
		return "", nil, cerr
	}
	return id, *out, refused(err)
}

// Find implements Service.
func (l *Local) Find(ctx context.Context, snapshot string, q Query, limit int) (string, []Entry, error) {
	cq, err := in[catalog.Query](q)
	if err != nil {
		return "", nil, err
	}
	id, entries, err := l.a.Find(ctx, snapshot, cq, limit)
	out, cerr := recode[[]Entry](entries, nil)
	if cerr != nil {
		return "", nil, cerr
	}
	return id, *out, refused(err)
}

// Restore implements Service.
func (l *Local) Restore(ctx context.Context, req RestoreRequest) (*RestoreReport, error) {
	r, err := in[agent.RestoreRequest](req)
	if err != nil {
		return nil, err
	}
	rep, err := l.a.Restore(ctx, r)
	return recode[RestoreReport](nilIfNil(rep), err)
}

// Rollback implements Service.
func (l *Local) Rollback(ctx context.Context, req RollbackRequest) (*RollbackReport, error) {
	r, err := in[agent.RollbackRequest](req)
	if err != nil {
		return nil, err
	}
	rep, err := l.a.Rollback(ctx, r)
	return recode[RollbackReport](nilIfNil(rep), err)
}

// Export implements Service.
func (l *Local) Export(ctx context.Context, req ExportRequest) (*ExportReport, error) {
	r, err := in[agent.ExportRequest](req)
	if err != nil {
		return nil, err
	}
	rep, err := l.a.Export(ctx, r)
	return recode[ExportReport](nilIfNil(rep), err)
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
