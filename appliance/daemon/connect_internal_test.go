package daemon

import (
	"strings"
	"testing"
)

// TestNotRunningNamesTheTPM guards the console's message when the agent's
// unit exited because systemd could not unseal its credentials: it names
// the TPM and the way out, where any other exit points at the journal.
func TestNotRunningNamesTheTPM(t *testing.T) {
	msg := notRunning("/run/strongroom/agent.sock", credentialsExit).Error()
	for _, want := range []string{"TPM did not unseal", "another box", "Secure Boot", "recovery key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("243: %q lacks %q", msg, want)
		}
	}
	for _, exit := range []int{0, 1, 226} {
		msg := notRunning("/run/strongroom/agent.sock", exit).Error()
		if strings.Contains(msg, "TPM") || !strings.Contains(msg, "journalctl -u strongroom-agent") {
			t.Errorf("exit %d: %q", exit, msg)
		}
	}
}
