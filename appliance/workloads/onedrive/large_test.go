package onedrive_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

// largeHelperEnv names the connection file the helper process reads.
const largeHelperEnv = "STRONGROOM_LARGE_FILE_HELPER"

// largeConn is what the helper needs to reach the simulated tenant.
type largeConn struct {
	BaseURL, Authority, Tenant, CAFile string
	Backup, Restore                    tenantsim.App
	UserID, UserUPN                    string
}

// largeReport is what the helper measured, in KiB.
type largeReport struct {
	BaseHWM, BackupHWM, RestoreHWM int64
	Stored, Restored               int64
	Seconds                        float64
}

// largeSize is the sparse file's size: 2 GiB.
const largeSize = 2 << 30

// TestLargeSparseFileBoundedRSS backs up a 2 GiB sparse file of the
// simulated OneDrive and restores it through an upload session, in a
// child process whose peak resident memory (VmHWM) is read before and
// after each: the file streams through, so the peak grows by a few
// buffers, not by the file. The restored file's SHA-256 and
// quickXorHash, as the simulator computed them from the uploaded
// bytes, are the generated file's.
func TestLargeSparseFileBoundedRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2 GiB twice")
	}
	sim := tenantsim.NewTest(t, tenantsim.Config{Users: 1, Seed: 21, Profile: tenantsim.Profile{FilesPerUser: 2}})
	var conn largeConn
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			conn.UserID, conn.UserUPN = u.ID, u.UPN
			break
		}
	}
	orig, err := sim.AddSparseFile(conn.UserID, "disk.img", largeSize, 77)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conn.BaseURL, conn.Authority, conn.Tenant, conn.CAFile = sim.BaseURL(), sim.AuthorityHost(), sim.TenantID(), filepath.Join(dir, "ca.pem")
	conn.Backup, conn.Restore = sim.BackupApp(), sim.RestoreApp()
	if err := os.WriteFile(conn.CAFile, sim.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(conn)
	connFile := filepath.Join(dir, "conn.json")
	if err := os.WriteFile(connFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLargeSparseFileHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), largeHelperEnv+"="+connFile)
	out, err := cmd.CombinedOutput()
	var rep largeReport
	if i := bytes.LastIndex(out, []byte("REPORT ")); err != nil || i < 0 || json.Unmarshal(bytes.SplitN(out[i+7:], []byte("\n"), 2)[0], &rep) != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	t.Logf("peak RSS %d MiB after setup, +%d MiB over the backup of 2 GiB, +%d MiB over the restore (%.1fs)",
		rep.BaseHWM>>10, (rep.BackupHWM-rep.BaseHWM)>>10, (rep.RestoreHWM-rep.BackupHWM)>>10, rep.Seconds)
	if rep.Stored != largeSize || rep.Restored != largeSize {
		t.Fatalf("stored %d and restored %d bytes, want %d", rep.Stored, rep.Restored, largeSize)
	}
	got, err := sim.FileInfo(conn.UserID, "Back/disk.img")
	if err != nil || got.Size != orig.Size || got.SHA256 != orig.SHA256 || got.QuickXor != orig.QuickXor {
		t.Fatalf("restored file %+v (%v), want %+v", got, err, orig)
	}
	// A few buffers, not the file: the vault's segment buffer (64 MiB),
	// the upload chunk (10 MiB) and a 4 MiB chunk decoded at a time,
	// doubled by the collector's default target (GOGC=100): 160 MiB.
	// Holding the file would add 2048 MiB.
	const bound = 160 << 10 // KiB
	if grew := rep.RestoreHWM - rep.BaseHWM; grew > bound {
		t.Fatalf("peak RSS grew by %d MiB streaming a 2 GiB file, want under %d MiB", grew>>10, bound>>10)
	}
}

// TestLargeSparseFileHelper is the child process of
// TestLargeSparseFileBoundedRSS; alone it does nothing.
func TestLargeSparseFileHelper(t *testing.T) {
	connFile := os.Getenv(largeHelperEnv)
	if connFile == "" {
		t.Skip("the child process of TestLargeSparseFileBoundedRSS")
	}
	var conn largeConn
	b, err := os.ReadFile(connFile)
	if err == nil {
		err = json.Unmarshal(b, &conn)
	}
	if err != nil {
		t.Fatal(err)
	}
	client := func(app tenantsim.App) *graph.Client {
		g, err := graph.New(graph.Config{TenantID: conn.Tenant, BaseURL: conn.BaseURL, AuthorityHost: conn.Authority, CAFile: conn.CAFile,
			App: graph.App{ClientID: app.ClientID, ClientSecret: app.ClientSecret}, Timeout: 5 * time.Minute}, graph.GovernorOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	backup, restore := client(conn.Backup), client(conn.Restore)
	v := largeVault(t)
	ctx := context.Background()
	if _, err := backup.Users(ctx); err != nil { // sign in, TLS: part of the baseline
		t.Fatal(err)
	}
	start := time.Now()
	rep := largeReport{BaseHWM: vmHWM(t)}
	w, err := v.NewWriter("large", nil)
	if err != nil {
		t.Fatal(err)
	}
	unit := workloads.Unit{ID: conn.UserID, Name: conn.UserUPN, OwnerID: conn.UserID}
	if res, err := onedrive.BackupDrive(ctx, backup, w, workloads.EmptyPrevious{}, unit, onedrive.Options{NoVersions: true}); err != nil || res.Failed != 0 {
		t.Fatalf("backup: %v %+v", err, res)
	}
	snap, err := w.Commit(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rep.BackupHWM = vmHWM(t)
	items, err := v.Items(snap)
	if err != nil {
		t.Fatal(err)
	}
	var big []vault.Item
	for _, it := range items {
		if it.Meta["kind"] == "file" && it.Meta["name"] == "disk.img" {
			big, rep.Stored = append(big, it), it.Size
		}
	}
	res, err := onedrive.RestoreFiles(ctx, restore, v, big, workloads.RestoreOptions{TargetUserID: conn.UserID, TargetFolder: "Back"})
	if err != nil || res.Restored != 1 {
		t.Fatalf("restore: %v %+v", err, res)
	}
	rep.Restored, rep.RestoreHWM, rep.Seconds = res.Bytes, vmHWM(t), time.Since(start).Seconds()
	out, _ := json.Marshal(rep)
	fmt.Println("REPORT " + string(out))
}

// largeVault is a vault with the appliance's default segment and chunk
// sizes on three temporary disks.
func largeVault(t *testing.T) *vault.Vault {
	t.Helper()
	var disks []string
	for _, n := range []string{"a", "b", "c"} {
		d := filepath.Join(t.TempDir(), "disk"+n)
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(vault.Options{Disks: disks, Key: res.RecoveryKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// vmHWM is this process's peak resident set size in KiB.
func vmHWM(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
