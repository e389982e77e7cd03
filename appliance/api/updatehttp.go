package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// The update service's protocol: POST /v1/os/<call>; apply answers a
// stream of JSON lines, each a progress step, ending with the result or
// the error.
type osLine struct {
	Progress *OSProgress `json:"progress,omitempty"`
	Result   *OSResult   `json:"result,omitempty"`
	Error    string      `json:"error,omitempty"`
	Kind     string      `json:"kind,omitempty"` // "not-appliance"
}

func osError(err error) osLine {
	l := osLine{Error: err.Error()}
	if errors.Is(err, ErrNotAppliance) {
		l.Kind = "not-appliance"
	}
	return l
}

// UpdateHandler serves u to callers p allows to operate (on the
// appliance: root only).
func UpdateHandler(u Updater, p Policy) http.Handler {
	mux := http.NewServeMux()
	answer := func(name string, fn func(r *http.Request) (any, error)) {
		mux.HandleFunc("POST /v1/os/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if err := p(CallerOf(r.Context()), Operate); err != nil {
				w.WriteHeader(http.StatusForbidden)
				json.NewEncoder(w).Encode(osLine{Error: err.Error()})
				return
			}
			out, err := fn(r)
			if err != nil {
				w.WriteHeader(http.StatusUnprocessableEntity)
				json.NewEncoder(w).Encode(osError(err))
				return
			}
			json.NewEncoder(w).Encode(out)
		})
	}
	answer("status", func(*http.Request) (any, error) { return u.Status() })
	answer("find", func(*http.Request) (any, error) { return u.Find() })
	answer("rollback", func(*http.Request) (any, error) { return u.Rollback() })
	answer("reboot", func(*http.Request) (any, error) { return struct{}{}, u.Reboot() })
	mux.HandleFunc("POST /v1/os/apply", func(w http.ResponseWriter, r *http.Request) {
		if err := p(CallerOf(r.Context()), Operate); err != nil {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(osLine{Error: err.Error()})
			return
		}
		var args struct {
			Path string `json:"path"`
			OSApplyOptions
		}
		if err := json.NewDecoder(r.Body).Decode(&args); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(osLine{Error: "bad request: " + err.Error()})
			return
		}
		serveApply(w, r.Context(), u, args.Path, args.OSApplyOptions)
	})
	return mux
}

// serveApply runs an installation, streaming its progress. It goes on
// when the console goes away: a half-written slot helps nobody.
func serveApply(w http.ResponseWriter, ctx context.Context, u Updater, path string, o OSApplyOptions) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	flusher, _ := w.(http.Flusher)
	lines := make(chan osLine, 16)
	o.Progress = func(p OSProgress) {
		select {
		case lines <- osLine{Progress: &p}:
		default: // a slow reader misses steps, not the result
		}
	}
	go func() {
		res, err := u.Apply(context.WithoutCancel(ctx), path, o)
		if err != nil {
			lines <- osError(err)
		} else {
			lines <- osLine{Result: res}
		}
		close(lines)
	}()
	enc := json.NewEncoder(w)
	for l := range lines {
		enc.Encode(l)
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// ServeUpdates answers update calls on l with u, each allowed by p.
func ServeUpdates(l net.Listener, u Updater, p Policy) error {
	srv := &http.Server{Handler: UpdateHandler(u, p), ConnContext: withCaller}
	return srv.Serve(l)
}

// RemoteUpdater is the update service reached over its socket.
type RemoteUpdater struct {
	socket string
	hc     *http.Client
}

// DialUpdater returns a client of the update service on socket. It does
// not connect until the first call, so a console starts while the service
// is still starting. It talks only to a service that runs as root (the
// server's peer credentials), never to a socket another user put there.
func DialUpdater(socket string) *RemoteUpdater {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", socket)
		if err != nil {
			return nil, err
		}
		if c := withCaller(context.Background(), conn); !CallerOf(c).Known || CallerOf(c).UID != 0 {
			conn.Close()
			return nil, fmt.Errorf("%s is not served by root (user id %d): refusing to use it", socket, CallerOf(c).UID)
		}
		return conn, nil
	}}
	return &RemoteUpdater{socket: socket, hc: &http.Client{Transport: tr}}
}

func (r *RemoteUpdater) post(ctx context.Context, name string, in any) (*http.Response, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://update/v1/os/"+name, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the update service does not answer on %s (%v): check 'systemctl status strongroom-update'", r.socket, err)
	}
	return resp, nil
}

func remoteOSError(l osLine) error {
	if l.Kind == "not-appliance" {
		return ErrNotAppliance
	}
	return errors.New(l.Error)
}

func (r *RemoteUpdater) call(name string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := r.post(ctx, name, struct{}{})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var l osLine
		if json.NewDecoder(resp.Body).Decode(&l) != nil || l.Error == "" {
			return fmt.Errorf("the update service answered HTTP %d", resp.StatusCode)
		}
		return remoteOSError(l)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Status implements Updater.
func (r *RemoteUpdater) Status() (*OSStatus, error) {
	var st OSStatus
	if err := r.call("status", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Find implements Updater.
func (r *RemoteUpdater) Find() ([]OSCandidate, error) {
	var c []OSCandidate
	return c, r.call("find", &c)
}

// Rollback implements Updater.
func (r *RemoteUpdater) Rollback() (*OSResult, error) {
	var res OSResult
	if err := r.call("rollback", &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Reboot implements Updater.
func (r *RemoteUpdater) Reboot() error { return r.call("reboot", &struct{}{}) }

// Apply implements Updater.
func (r *RemoteUpdater) Apply(ctx context.Context, path string, o OSApplyOptions) (*OSResult, error) {
	resp, err := r.post(ctx, "apply", struct {
		Path string `json:"path"`
		OSApplyOptions
	}{path, o})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l osLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("the update service sent %q: %w", sc.Text(), err)
		}
		switch {
		case l.Progress != nil:
			if o.Progress != nil {
				o.Progress(*l.Progress)
			}
		case l.Result != nil:
			return l.Result, nil
		case l.Error != "":
			return nil, remoteOSError(l)
		}
	}
	return nil, fmt.Errorf("the update service ended the installation without a result (%v): check 'journalctl -u strongroom-update'", sc.Err())
}

var _ Updater = (*RemoteUpdater)(nil)
