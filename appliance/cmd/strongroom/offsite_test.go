package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/offsite/localstore"
)

// TestOffsiteDisasterDrill: the operator's whole path through the built
// binary: copy the vault to a real S3 Object Lock bucket, lose every
// disk, list and restore straight from the bucket, rebuild the vault on
// new disks with 'vault recover --from-offsite' and restore byte-identical.
func TestOffsiteDisasterDrill(t *testing.T) {
	srv := localstore.ForTest(t)
	tv := newTestVault(t)
	for _, id := range tv.snaps { // bench ingest keeps nothing: give them a lock to copy
		mustRun(t, append(tv.args("vault", "retain"), id, "--for", "2d")...)
	}
	mustRun(t, tv.args("warden", "seal")...)
	cfgPath := writeOffsiteConfig(t, tv, srv)

	r := mustRun(t, "offsite", "sync", "--config", cfgPath)
	if !strings.Contains(r.stdout, "2 of 2 restore points offsite") {
		t.Fatalf("offsite sync said:\n%s", r.stdout)
	}
	mustRun(t, "offsite", "verify", "--config", cfgPath)
	r = mustRun(t, "offsite", "status", "--config", cfgPath, "--json")
	var st offsite.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Runs != 2 || st.Last.SnapshotsOffsite != 2 || st.ObjectsCopied == 0 || st.LastError != "" {
		t.Fatalf("offsite status --json: %+v (%v)\n%s", st, err, r.stdout)
	}
	if r := run(t, nil, "vault", "recover", "--config", cfgPath, "--snapshots"); r.code != exitUsage {
		t.Fatalf("vault recover without --from-offsite: exit %d, want %d\n%s", r.code, exitUsage, r.stderr)
	}

	// The fire.
	for _, d := range tv.disks {
		immutable.ClearTree(d)
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	recover := []string{"vault", "recover", "--from-offsite", "--config", cfgPath}
	r = mustRun(t, append(recover, "--snapshots")...)
	for _, id := range tv.snaps {
		if !strings.Contains(r.stdout, id) {
			t.Errorf("restore points listed from the bucket lack %s:\n%s", id, r.stdout)
		}
	}
	direct := filepath.Join(tv.dir, "from-bucket")
	mustRun(t, append(recover, "--restore", tv.snaps[0], "--dest", direct)...)
	compareTrees(t, tv.src, direct)

	var newDisks []string
	for i := 1; i <= 6; i++ {
		d := filepath.Join(tv.dir, fmt.Sprintf("new%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		newDisks = append(newDisks, "--disk", d)
	}
	r = mustRun(t, append(append(recover, newDisks...), "--key-file", tv.key)...)
	if !strings.Contains(r.stdout, "Recovered vault") || !strings.Contains(r.stdout, "2 restore points") {
		t.Fatalf("vault recover onto new disks said:\n%s", r.stdout)
	}
	rehydrated := filepath.Join(tv.dir, "from-new-disks")
	mustRun(t, append(append([]string{"vault", "restore"}, newDisks...), "--key-file", tv.key, "latest", rehydrated)...)
	compareTrees(t, tv.src, rehydrated)
}

// writeOffsiteConfig writes a configuration with the test vault and an
// offsite: section for srv; the secret goes to its own 0600 file.
func writeOffsiteConfig(t *testing.T, tv *testVault, srv *localstore.Server) string {
	t.Helper()
	secret := filepath.Join(tv.dir, "offsite.secret")
	if err := os.WriteFile(secret, []byte(srv.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`vault:
  disks: [%s]
  key_file: %s
offsite:
  endpoint: %s
  bucket: %s
  access_key: %s
  secret_key_file: %s
  path_style: true
  ca_file: %s
  state_dir: %s
`, strings.Join(tv.disks, ", "), tv.key, srv.Endpoint, srv.Bucket, srv.AccessKey, secret, srv.CAFile, filepath.Join(tv.dir, "offsite-state"))
	p := filepath.Join(tv.dir, "strongroom.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOffsiteServicePinsTheEndpoint: what strongroom-offsite.service runs.
// allow-endpoint (as root before the copier) writes the endpoint's
// addresses and asks systemctl to allow exactly localhost and them (a
// stand-in systemctl records the call: the real one is exercised on the
// booted image); 'offsite run --pinned' then reaches the bucket only at
// the pinned addresses, and exits, for its restart to resolve again, when
// none of them answers.
func TestOffsiteServicePinsTheEndpoint(t *testing.T) {
	srv := localstore.ForTest(t)
	tv := newTestVault(t)
	cfgPath := writeOffsiteConfig(t, tv, srv)
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	fake := "#!/bin/sh\necho \"$@\" >>" + calls + "\n"
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	pinned := filepath.Join(tv.dir, "endpoint-addresses")
	r := run(t, env, "offsite", "allow-endpoint", "--config", cfgPath, "--pinned", pinned)
	if r.code != 0 || !strings.Contains(r.stdout, "127.0.0.1 pinned to 127.0.0.1") {
		t.Fatalf("allow-endpoint: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got, _ := os.ReadFile(calls)
	want := "set-property --runtime strongroom-offsite.service IPAddressAllow= IPAddressAllow=localhost IPAddressAllow=127.0.0.1/32\n"
	if string(got) != want {
		t.Errorf("systemctl called with\n%q\nwant\n%q", got, want)
	}
	if b, _ := os.ReadFile(pinned); string(b) != "127.0.0.1\n" {
		t.Errorf("pinned addresses file: %q", b)
	}
	// The store moved: the pinned address no longer answers.
	if err := os.WriteFile(pinned, []byte("127.0.0.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "offsite", "run", "--config", cfgPath, "--pinned", pinned)
	if r.code == 0 || !strings.Contains(r.stderr+r.stdout, "pinned addresses") || !strings.Contains(r.stderr, "resolves the endpoint again") {
		t.Fatalf("offsite run with unanswering pinned addresses: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "offsite", "run", "--config", cfgPath, "--pinned", filepath.Join(tv.dir, "absent")); r.code == 0 || !strings.Contains(r.stderr, "offsite allow-endpoint") {
		t.Fatalf("offsite run without its pinned file: exit %d\n%s", r.code, r.stderr)
	}
}
