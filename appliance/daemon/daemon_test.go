package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAnswering: no configuration means no daemon to wait for; a
// configured daemon that does not answer is an error naming its socket
// once the wait is over.
func TestAnswering(t *testing.T) {
	dir := t.TempDir()
	if err := Answering(context.Background(), filepath.Join(dir, "none.yaml"), time.Second); err != nil {
		t.Errorf("without a configuration: %v", err)
	}
	cfg := filepath.Join(dir, "strongroom.yaml")
	os.WriteFile(cfg, []byte("tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\napi_socket: agent.sock\n"), 0o600)
	start := time.Now()
	err := Answering(context.Background(), cfg, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "agent.sock")) {
		t.Errorf("without a daemon: %v; want an error naming the socket", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Answering waited %s for a wait of 100ms", time.Since(start))
	}
}
