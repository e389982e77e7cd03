package warden

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/durable"
)

// Status returns what the warden would publish now.
func (w *Warden) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.statusLocked()
}

func (w *Warden) statusLocked() Status {
	st := w.status
	st.Updated = time.Now().UTC()
	st.PID = os.Getpid()
	st.Clock = w.clock.Status()
	st.Records = w.ledger.seq
	st.Rebuilt = w.rebuilt
	st.Snapshots, st.Segments = 0, 0
	for _, s := range w.ledger.snaps {
		if !s.Expired {
			st.Snapshots++
		}
	}
	for _, s := range w.ledger.segs {
		if !s.Expired {
			st.Segments++
		}
	}
	var alerts []string
	if st.Clock.JumpPending {
		_, why := w.clock.ExpiryAllowed()
		alerts = append(alerts, "trusted clock frozen: "+why)
	}
	if w.rebuilt != "" {
		alerts = append(alerts, "ledger: "+w.rebuilt)
	}
	if m := w.custody.Missing(); len(m) > 0 {
		alerts = append(alerts, "disks missing: "+strings.Join(m, ", "))
	}
	alerts = append(alerts, w.problems...)
	alerts = append(alerts, w.notes...)
	if st.LastError != "" {
		alerts = append(alerts, st.LastError)
	}
	st.Alerts = alerts
	return st
}

// publishLocked writes the status file, readable by the agent. w.mu is
// held.
func (w *Warden) publishLocked() {
	b, err := json.MarshalIndent(w.statusLocked(), "", "  ")
	if err == nil {
		durable.WriteFile(filepath.Join(w.opts.Dir, StatusFile), append(b, '\n'), 0o644)
	}
}

// ReadStatus reads the status a warden published in dir.
func ReadStatus(dir string) (Status, error) {
	var st Status
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// confirmFile is the request an operator leaves in the warden's directory
// to confirm the trusted clock (and a rebuilt ledger).
const confirmFile = "confirm.request"

// RequestConfirm leaves a confirmation request for the warden running on
// dir, as an operator at the console (root) does. The warden acts on it
// within a few seconds and removes it.
func RequestConfirm(dir string) error {
	return durable.WriteFile(filepath.Join(dir, confirmFile), fmt.Appendf(nil, "confirmed at %s by uid %d\n", time.Now().UTC().Format(time.RFC3339), os.Getuid()), 0o600)
}

// ErrNothingToConfirm is returned by Confirm when neither the clock nor
// the ledger awaits a confirmation.
var ErrNothingToConfirm = errors.New("nothing awaits confirmation: the trusted clock runs and the ledger is whole")

// Confirm accepts the current system time as trusted and a rebuilt ledger
// as the record from now on. It is an operator's action: the agent has no
// way to ask for it.
func (w *Warden) Confirm(note string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	did := false
	if err := w.clock.Confirm(); err == nil {
		did = true
	} else if !errors.Is(err, clock.ErrNoJumpPending) {
		return err
	}
	if w.rebuilt != "" {
		if err := w.ledger.append(record{At: w.clock.Now(), Kind: kindConfirm, Note: note}); err != nil {
			return err
		}
		w.rebuilt = ""
		did = true
	}
	w.publishLocked()
	if !did {
		return ErrNothingToConfirm
	}
	return nil
}

// HandleRequests acts on a confirmation request left by RequestConfirm. A
// request owned by anyone but root or the warden's own user is removed and
// reported, not obeyed.
func (w *Warden) HandleRequests() (string, error) {
	p := filepath.Join(w.opts.Dir, confirmFile)
	st, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer os.Remove(p)
	sys, _ := st.Sys().(*syscall.Stat_t)
	if sys == nil || !st.Mode().IsRegular() || !slices.Contains(w.opts.RequestOwners, int(sys.Uid)) {
		return "", fmt.Errorf("ignored a confirmation request not made by root (%s)", p)
	}
	b, _ := os.ReadFile(p)
	note := strings.TrimSpace(string(b))
	if err := w.Confirm(note); err != nil {
		return "", err
	}
	return "confirmed: the trusted time is now " + w.clock.Now().UTC().Format(time.RFC3339) + " (" + note + ")", nil
}

// ConfirmAndWait leaves a confirmation request in dir and waits, at most
// timeout, for the running warden to take it; it returns the status the
// warden then published.
func ConfirmAndWait(ctx context.Context, dir string, timeout time.Duration) (Status, error) {
	if err := RequestConfirm(dir); err != nil {
		return Status{}, fmt.Errorf("leave a confirmation for the warden in %s: %w", dir, err)
	}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(timeout)
	for {
		select {
		case <-ctx.Done():
			return Status{}, ctx.Err()
		case <-deadline:
			return Status{}, fmt.Errorf("the warden has not taken the confirmation within %s; is it running? ('systemctl status strongroom-warden')", timeout)
		case <-t.C:
		}
		if _, err := os.Lstat(filepath.Join(dir, confirmFile)); errors.Is(err, os.ErrNotExist) {
			st, err := ReadStatus(dir)
			if err == nil && (st.Clock.JumpPending || st.Rebuilt != "") {
				return st, errors.New("the warden did not accept the confirmation; see 'journalctl -u strongroom-warden'")
			}
			return st, nil
		}
	}
}
