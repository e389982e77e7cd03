package simctl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestServeAndRemote: Serve writes the CA next to the connection file and
// describes the tenant; Remote finds the running simulator through that
// file and talks to it.
func TestServeAndRemote(t *testing.T) {
	s, err := tenantsim.New(tenantsim.Config{Users: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "sim.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, &out, s, "127.0.0.1:0", Files{ConfigOut: cfg}) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "serving; interrupt to stop") {
		if time.Now().After(deadline) {
			t.Fatalf("the simulator did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(cfg + ".ca.pem"); err != nil {
		t.Errorf("no CA beside the connection file: %v", err)
	}
	for _, want := range []string{"tenant id:", "agent config:     " + cfg, "(licensed)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("description lacks %q:\n%s", want, out.String())
		}
	}
	r, err := Remote(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Apply(ctx, tenantsim.Scenario{Name: "mail-burst", Count: 1})
	if err != nil || res.ItemsCreated == 0 {
		t.Errorf("a scenario through the connection file: %+v, %v", res, err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve after its context ended: %v", err)
	}
	if _, err := Remote(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "tenant-sim --config-out") {
		t.Errorf("Remote without a connection file: %v; want the remedy", err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
