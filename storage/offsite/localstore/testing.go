package localstore

import (
	"os"
	"testing"
)

// RequireEnv, set to 1 (as 'make test' does), makes a missing versitygw
// fail a test instead of skipping it.
const RequireEnv = "STRONGROOM_REQUIRE_S3"

// ForTest starts a server for one test and stops it at the end. Without
// a versitygw binary the test is skipped, or fails under RequireEnv=1.
func ForTest(t testing.TB) *Server {
	t.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v (%s=1 makes this a failure)", err, RequireEnv)
		}
		t.Skipf("%v", err)
	}
	dir := t.TempDir()
	logf, err := os.Create(dir + "/versitygw.log")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(dir+"/s3", "strongroom-offsite", logf)
	if err != nil {
		logf.Close()
		b, _ := os.ReadFile(dir + "/versitygw.log")
		t.Fatalf("%v\nserver log:\n%s", err, b)
	}
	t.Cleanup(func() { s.Close(); logf.Close() })
	return s
}
