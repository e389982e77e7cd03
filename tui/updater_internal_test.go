package tui

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"testing"
)

// TestMilestoneLogGoesToStderrUnlessTerminal guards the serial-log lines
// the firmware test waits for: stderr that is not a terminal (the
// journal) gets one plain line per milestone, and a terminal, which is
// the console's own screen, gets none.
func TestMilestoneLogGoesToStderrUnlessTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	milestoneLog(w).Info("update: applying version 2026.04.1 from /dev/vdf to slot b")
	w.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := `level=INFO msg="update: applying version 2026.04.1 from /dev/vdf to slot b"` + "\n"; line != want {
		t.Errorf("logged %q, want %q", line, want)
	}

	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test with: %v", err)
	}
	defer tty.Close()
	if l := milestoneLog(tty); l.Enabled(context.Background(), slog.LevelError) {
		t.Error("milestones would be written to a terminal, over the console's screen")
	}
}
