package simctl

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	pr, pw := io.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, pw, s, "127.0.0.1:0", Files{ConfigOut: cfg})
		pw.Close()
	}()
	// Serve's description ends with the line saying it serves.
	var said []string
	lines := bufio.NewScanner(pr)
	for lines.Scan() && lines.Text() != "serving; interrupt to stop" {
		said = append(said, lines.Text())
	}
	go io.Copy(io.Discard, pr)
	description := strings.Join(said, "\n")
	for _, want := range []string{"tenant id:", "agent config:     " + cfg, "(licensed)"} {
		if !strings.Contains(description, want) {
			t.Errorf("description lacks %q:\n%s", want, description)
		}
	}
	if _, err := os.Stat(cfg + ".ca.pem"); err != nil {
		t.Errorf("no CA beside the connection file: %v", err)
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
