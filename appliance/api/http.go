package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Handler serves a Service as JSON over HTTP: POST /v1/<method> with the
// arguments as a JSON object, answering the result or {"error": "..."}.
// Each call must be allowed by p for the caller Serve found; Handler on a
// server that records no caller lets p judge an unknown one.
func Handler(s Service, p Policy) http.Handler {
	mux := http.NewServeMux()
	for name, fn := range methods(s) {
		need, ok := access[name]
		if !ok {
			need = Operate
		}
		mux.HandleFunc("POST /v1/"+name, serve(fn, p, need))
	}
	return mux
}

// method answers one call: it decodes the arguments in body, if it takes
// any, and calls the service.
type method func(ctx context.Context, body json.RawMessage) (any, error)

// methods maps each method name of the API to the service call it makes.
func methods(s Service) map[string]method {
	return map[string]method{
		"status": func(ctx context.Context, _ json.RawMessage) (any, error) { return s.Status(ctx) },
		"backup": withArgs(func(ctx context.Context, req BackupRequest) (any, error) {
			// The daemon finishes a run whose client went away (a CLI
			// interrupted or disconnected): it is the daemon's job.
			return s.Backup(context.WithoutCancel(ctx), req)
		}),
		"snapshots": func(ctx context.Context, _ json.RawMessage) (any, error) { return s.Snapshots(ctx) },
		"list": withArgs(func(ctx context.Context, req listArgs) (any, error) {
			id, nodes, err := s.List(ctx, req.Snapshot, req.Dir)
			return listResult{Snapshot: id, Nodes: nodes}, err
		}),
		"find": withArgs(func(ctx context.Context, req findArgs) (any, error) {
			id, entries, err := s.Find(ctx, req.Snapshot, req.Query, req.Limit)
			return findResult{Snapshot: id, Entries: entries}, err
		}),
		"restore": withArgs(func(ctx context.Context, req RestoreRequest) (any, error) { return s.Restore(ctx, req) }),
		"rollback": withArgs(func(ctx context.Context, req RollbackRequest) (any, error) {
			// Half a rollback is worse than none: it finishes when the client
			// goes away.
			return s.Rollback(context.WithoutCancel(ctx), req)
		}),
		"export": withArgs(func(ctx context.Context, req ExportRequest) (any, error) { return s.Export(ctx, req) }),
		"restore-test": withArgs(func(ctx context.Context, req struct{ Sample int }) (any, error) {
			return s.RestoreTest(ctx, req.Sample)
		}),
		"scrub": withArgs(func(ctx context.Context, req struct{ Repair bool }) (any, error) {
			return s.Scrub(context.WithoutCancel(ctx), req.Repair)
		}),
		"report": withArgs(func(ctx context.Context, req struct{ Since time.Time }) (any, error) {
			return s.Report(ctx, req.Since)
		}),
		"delete-snapshot": withArgs(func(ctx context.Context, req struct{ ID string }) (any, error) {
			return struct{}{}, s.DeleteSnapshot(ctx, req.ID)
		}),
		"replace-disk": withArgs(func(ctx context.Context, req struct{ Old, New string }) (any, error) {
			return s.ReplaceDisk(ctx, req.Old, req.New)
		}),
		"set-retention": withArgs(func(ctx context.Context, req struct{ Rollback, Audit time.Duration }) (any, error) {
			return s.SetRetention(ctx, req.Rollback, req.Audit)
		}),
		"confirm-clock": func(ctx context.Context, _ json.RawMessage) (any, error) { return struct{}{}, s.ConfirmClock(ctx) },
	}
}

// withArgs makes a method that decodes its body into an A and calls fn
// with it.
func withArgs[A any](fn func(ctx context.Context, args A) (any, error)) method {
	return func(ctx context.Context, body json.RawMessage) (any, error) {
		var args A
		if err := decode(body, &args); err != nil {
			return nil, err
		}
		return fn(ctx, args)
	}
}

// serve answers a request with fn's result as JSON, or with status 422 and
// the error and its remedy, or 403 when p does not allow the caller.
func serve(fn method, p Policy, need Access) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := p(CallerOf(r.Context()), need); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error(),
				"remedy": "Operations on the agent (backup, restore, export, disk and retention changes) are for root, at the console or over ssh, and the agent's own user."})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var out any
		if err == nil {
			out, err = fn(r.Context(), body)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			e := wireError(err)
			json.NewEncoder(w).Encode(errorBody{Error: e.Msg, Remedy: e.Remedy, Fields: e.Fields})
			return
		}
		json.NewEncoder(w).Encode(out)
	}
}

type listArgs struct {
	Snapshot string
	Dir      string
}
type listResult struct {
	Snapshot string
	Nodes    []Node
}
type findArgs struct {
	Snapshot string
	Query    Query
	Limit    int
}
type findResult struct {
	Snapshot string
	Entries  []Entry
}

func decode(b json.RawMessage, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("bad request: %w", err)
	}
	return nil
}

// Remote is a Service reached over the agent's unix socket.
type Remote struct {
	hc *http.Client
}

// Dial returns a client of the agent listening on socket; it fails when
// nothing answers there.
func Dial(socket string) (*Remote, error) {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	r := &Remote{hc: &http.Client{Transport: tr}}
	conn, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		return nil, err
	}
	conn.Close()
	return r, nil
}

// errorBody is a refused call's answer.
type errorBody struct {
	Error  string   `json:"error"`
	Remedy string   `json:"remedy,omitempty"`
	Fields []string `json:"fields,omitempty"` // request fields to change
}

// RemoteError is an error the agent reported. Fields, when set, names the
// request's fields (JSON names) to change: the CLI says which flags.
type RemoteError struct {
	Msg, Remedy string
	Fields      []string
}

func (e *RemoteError) Error() string { return e.Msg }

func (r *Remote) call(ctx context.Context, name string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent/v1/"+name, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("agent socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error == "" {
			return fmt.Errorf("agent answered HTTP %d", resp.StatusCode)
		}
		return &RemoteError{Msg: e.Error, Remedy: e.Remedy, Fields: e.Fields}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Status implements Service.
func (r *Remote) Status(ctx context.Context) (*Status, error) {
	var out Status
	return &out, r.call(ctx, "status", nil, &out)
}

// Backup implements Service.
func (r *Remote) Backup(ctx context.Context, req BackupRequest) (*BackupReport, error) {
	var out BackupReport
	return &out, r.call(ctx, "backup", req, &out)
}

// Snapshots implements Service.
func (r *Remote) Snapshots(ctx context.Context) ([]SnapshotSummary, error) {
	var out []SnapshotSummary
	return out, r.call(ctx, "snapshots", nil, &out)
}

// List implements Service.
func (r *Remote) List(ctx context.Context, snapshot, dir string) (string, []Node, error) {
	var out listResult
	err := r.call(ctx, "list", listArgs{Snapshot: snapshot, Dir: dir}, &out)
	return out.Snapshot, out.Nodes, err
}

// Find implements Service.
func (r *Remote) Find(ctx context.Context, snapshot string, q Query, limit int) (string, []Entry, error) {
	var out findResult
	err := r.call(ctx, "find", findArgs{Snapshot: snapshot, Query: q, Limit: limit}, &out)
	return out.Snapshot, out.Entries, err
}

// Restore implements Service.
func (r *Remote) Restore(ctx context.Context, req RestoreRequest) (*RestoreReport, error) {
	var out RestoreReport
	return &out, r.call(ctx, "restore", req, &out)
}

// Export implements Service.
func (r *Remote) Export(ctx context.Context, req ExportRequest) (*ExportReport, error) {
	var out ExportReport
	return &out, r.call(ctx, "export", req, &out)
}

// Rollback implements Service.
func (r *Remote) Rollback(ctx context.Context, req RollbackRequest) (*RollbackReport, error) {
	var out RollbackReport
	return &out, r.call(ctx, "rollback", req, &out)
}

// RestoreTest implements Service.
func (r *Remote) RestoreTest(ctx context.Context, sample int) (*RestoreTestReport, error) {
	var out RestoreTestReport
	return &out, r.call(ctx, "restore-test", struct{ Sample int }{sample}, &out)
}

// Scrub implements Service.
func (r *Remote) Scrub(ctx context.Context, repair bool) (*ScrubReport, error) {
	var out ScrubReport
	return &out, r.call(ctx, "scrub", struct{ Repair bool }{repair}, &out)
}

// ConfirmClock implements Service.
func (r *Remote) ConfirmClock(ctx context.Context) error {
	return r.call(ctx, "confirm-clock", nil, nil)
}

// Report implements Service.
func (r *Remote) Report(ctx context.Context, since time.Time) (*Report, error) {
	var out Report
	return &out, r.call(ctx, "report", struct{ Since time.Time }{since}, &out)
}

// DeleteSnapshot implements Service.
func (r *Remote) DeleteSnapshot(ctx context.Context, id string) error {
	return r.call(ctx, "delete-snapshot", struct{ ID string }{id}, nil)
}

// ReplaceDisk implements Service.
func (r *Remote) ReplaceDisk(ctx context.Context, oldDir, newDir string) (*ScrubReport, error) {
	var out ScrubReport
	return &out, r.call(ctx, "replace-disk", struct{ Old, New string }{oldDir, newDir}, &out)
}

// SetRetention implements Service.
func (r *Remote) SetRetention(ctx context.Context, rollback, audit time.Duration) (*RetentionChange, error) {
	var out RetentionChange
	return &out, r.call(ctx, "set-retention", struct{ Rollback, Audit time.Duration }{rollback, audit}, &out)
}

var _ Service = (*Remote)(nil)
