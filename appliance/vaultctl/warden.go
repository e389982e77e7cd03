package vaultctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/warden"
)

// OpenWarden opens the warden of the configuration. As root, it refuses a
// warden directory that belongs to another user: the warden's service
// runs as that user, and files written by root would lock it out.
func OpenWarden(c config.Vault) (*warden.Warden, error) {
	k, err := ReadKey(c)
	if err != nil {
		return nil, err
	}
	dir := WardenDir(c)
	if st, err := os.Stat(dir); err == nil && os.Geteuid() == 0 {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
			return nil, fmt.Errorf("%s belongs to uid %d, the warden's service user: as root, only 'strongroom warden status' and 'strongroom warden confirm' act on it; restart the service with 'systemctl restart strongroom-warden' to run a round now", dir, sys.Uid)
		}
	}
	return warden.Open(warden.Options{Disks: c.Disks, Key: k, Dir: dir})
}

// WithWarden opens the warden, runs fn and closes the warden. A warden
// held by its running service is refused with a word on why.
func WithWarden(c config.Vault, fn func(w *warden.Warden) error) error {
	w, err := OpenWarden(c)
	if err != nil {
		if errors.Is(err, clock.ErrLocked) {
			return fmt.Errorf("%w: the warden service is running; it does this by itself", err)
		}
		return err
	}
	defer w.Close()
	return fn(w)
}

// Seal runs one seal round and says what it sealed and recorded.
func Seal(out io.Writer, w *warden.Warden) error {
	rep, err := w.Seal()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sealed %d files (%d were already sealed); %d new snapshots and %d new segments recorded\n", rep.Sealed, rep.AlreadySealed, len(rep.NewSnapshots), rep.NewSegments)
	for _, p := range rep.Problems {
		fmt.Fprintln(out, "ALERT:", p)
	}
	return nil
}

// Expire runs one expiry round and says what it removed.
func Expire(out io.Writer, w *warden.Warden) error {
	rep, err := w.Expire()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "expired %d snapshots and %d segments; %d snapshots kept\n", len(rep.Snapshots), len(rep.Segments), rep.Kept)
	for _, id := range rep.Snapshots {
		fmt.Fprintf(out, "  removed snapshot %s\n", id)
	}
	return nil
}

// WardenStatus writes the status the warden last published: its
// description, a line a fact, or the status itself as JSON.
func WardenStatus(o outcome.Output, c config.Vault) error {
	dir := WardenDir(c)
	st, err := warden.ReadStatus(dir)
	if err != nil {
		return fmt.Errorf("no warden status in %s (%w): is the warden running? ('systemctl status strongroom-warden', or 'strongroom warden run')", dir, err)
	}
	return outcome.Show(o, st, func(w io.Writer, st warden.Status) {
		for _, l := range warden.Describe(st) {
			fmt.Fprintln(w, l)
		}
	})
}

// RunWarden seals every interval and expires every expireEvery, saying
// how each round went on out, until ctx ends or the process gets SIGINT or
// SIGTERM.
func RunWarden(ctx context.Context, out io.Writer, w *warden.Warden, interval, expireEvery time.Duration) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	warden.Run(ctx, w, interval, expireEvery, func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) })
}

// Confirm accepts the current wall time on the trusted clock: directly
// when no warden service holds the warden, otherwise by a request the
// running warden takes (as root only, or when the service holds it).
func Confirm(out io.Writer, c config.Vault) error {
	w, err := OpenWarden(c)
	if err == nil {
		defer w.Close()
		if err := w.Confirm(fmt.Sprintf("confirmed by uid %d from the command line", os.Getuid())); err != nil {
			return err
		}
		fmt.Fprintf(out, "Confirmed: the trusted time is now %s; expiry resumes.\n", w.Clock().Now().UTC().Format(time.RFC3339))
		return nil
	}
	if !errors.Is(err, clock.ErrLocked) && os.Geteuid() != 0 {
		return err
	}
	st, err := warden.ConfirmAndWait(context.Background(), WardenDir(c), 15*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Confirmed: the trusted time is now %s; expiry resumes.\n", st.Clock.Trusted.UTC().Format(time.RFC3339))
	return nil
}

// Drill waits, at most wait, until the warden has sealed and recorded a
// snapshot, then attacks the vault as this process's user (never root)
// and says on out, one line an attempt, whether every attack failed and
// every sealed file is unchanged. It fails when any attack went through.
func Drill(out io.Writer, c config.Vault, wait time.Duration) error {
	dir := WardenDir(c)
	st, err := waitForSeal(dir, wait)
	if err != nil {
		return err
	}
	rep, err := warden.RunDrill(c.Disks, dir, st.PID, func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
	})
	if err != nil {
		return err
	}
	if !rep.OK() {
		fmt.Fprintf(out, "attack drill: FAIL: %d of %d attacks went through (%s); %d of %d sealed files changed (%s)\n",
			len(rep.Succeeded), rep.Attacks, strings.Join(rep.Succeeded, "; "), len(rep.Changed), rep.Files, strings.Join(rep.Changed, ", "))
		return errors.New("the attack drill found the vault within the agent's reach")
	}
	fmt.Fprintf(out, "attack drill: PASS: all %d attacks refused; %d sealed files unchanged; the warden (pid %d) kept %d snapshots\n",
		rep.Attacks, rep.Files, st.PID, st.Snapshots)
	return nil
}

// waitForSeal reads the warden's status in dir every two seconds until it
// shows a seal round and a recorded snapshot, or wait has passed.
func waitForSeal(dir string, wait time.Duration) (warden.Status, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := warden.ReadStatus(dir)
		if err == nil && st.Snapshots > 0 && !st.LastSeal.IsZero() {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("the warden has recorded no sealed snapshot within %s (status: %v): run a backup and start the warden first", wait, err)
		}
		time.Sleep(2 * time.Second)
	}
}
