package tui

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/appliance/osupdate"
	"github.com/strongroom/strongroom/tui/screens"
)

// SystemUpdater is the update screen's Updater on the appliance: the boot
// disk through osupdate, and a restart through systemd.
type SystemUpdater struct {
	*osupdate.System
}

var _ screens.Updater = SystemUpdater{}

// NewSystemUpdater returns the Updater of the running appliance. Outside
// an appliance image its Status reports osupdate.ErrNotAppliance, and the
// screen says so.
func NewSystemUpdater() SystemUpdater { return SystemUpdater{osupdate.NewSystem()} }

// Reboot asks systemd to restart the machine; it returns once the restart
// is queued.
func (SystemUpdater) Reboot() error {
	out, err := exec.Command("systemctl", "reboot").CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl reboot: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// milestoneLog is where Run logs the update screen's milestones: stderr,
// which the console's unit sends to the journal (and the journal to the
// serial console), one plain line each without a time (the journal adds
// it). When stderr is a terminal, it is the screen the console draws on,
// so the lines are dropped.
func milestoneLog(stderr *os.File) *slog.Logger {
	if _, err := unix.IoctlGetTermios(int(stderr.Fd()), unix.TCGETS); err == nil {
		return slog.New(slog.DiscardHandler)
	}
	return newMilestoneLog(stderr)
}

func newMilestoneLog(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}
