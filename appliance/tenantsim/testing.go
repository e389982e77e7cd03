package tenantsim

import "testing"

// NewTest generates a tenant from cfg, serves it on a free loopback port
// and closes it when the test ends. It fails the test on any error.
func NewTest(t testing.TB, cfg Config) *Sim {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("tenantsim.New: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("tenantsim.Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
