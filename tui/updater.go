package tui

import (
	"io"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

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
