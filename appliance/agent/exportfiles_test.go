package agent_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
)

// TestExportFiles exports a user's OneDrive as a tar archive and as a
// tree of files, and compares both with the simulated drive byte for
// byte, the manifest with the bytes and versions, and the archive as
// Python's tarfile reads it.
func TestExportFiles(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	user := firstMailboxUser(sim)
	drive, err := sim.DumpDrive(user.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := drive.Files()
	versions := map[string]int{}
	for _, di := range drive.Items {
		if !di.Folder {
			versions[di.Path] = len(di.Versions) - 1
		}
	}
	sel := agent.Selection{Snapshot: full.Snapshot, User: user.UPN, Kind: "files"}

	dest := filepath.Join(dir, "tar")
	rep, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "tar", Dest: dest})
	if err != nil || len(rep.Files) != 1 || rep.Items != len(want) {
		t.Fatalf("export tar: %v %+v, want %d files", err, rep, len(want))
	}
	got, manifest := readTar(t, rep.Files[0])
	checkExport(t, "tar", got, manifest, want, versions)

	if _, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command("python3", "-c", `import sys, tarfile, hashlib
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        print(hashlib.sha256(t.extractfile(m).read()).hexdigest(), m.size, m.name)`, rep.Files[0]).Output()
		if err != nil {
			t.Fatalf("python3 tarfile: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != len(got)+1 {
			t.Errorf("python3 reads %d members, archive/tar %d", len(lines), len(got)+1)
		}
		for _, l := range lines {
			f := strings.SplitN(l, " ", 3)
			if len(f) == 3 && f[2] != "manifest.json" && f[0] != sha(got[f[2]]) {
				t.Errorf("python3 reads %s differently", f[2])
			}
		}
	} else {
		t.Log("no python3: the archive is not checked with tarfile")
	}

	dest = filepath.Join(dir, "tree")
	if _, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "files", Dest: dest}); err != nil {
		t.Fatal(err)
	}
	tree := map[string][]byte{}
	err = filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dest, p)
		tree[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var m agent.Manifest
	if err := json.Unmarshal(tree["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	delete(tree, "manifest.json")
	checkExport(t, "files", tree, m, want, versions)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readTar returns the files of an archive by name, and its manifest.
func readTar(t *testing.T, name string) (map[string][]byte, agent.Manifest) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	var m agent.Manifest
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "manifest.json" {
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, dup := files[h.Name]; dup {
			t.Errorf("%s twice in the archive", h.Name)
		}
		files[h.Name] = b
	}
	return files, m
}

// checkExport compares exported files and their manifest with the drive.
func checkExport(t *testing.T, format string, got map[string][]byte, m agent.Manifest, want map[string][]byte, versions map[string]int) {
	t.Helper()
	if len(got) != len(want) || len(m.Files) != len(want) {
		t.Errorf("%s: %d files and %d manifest entries, the drive holds %d", format, len(got), len(m.Files), len(want))
	}
	for p, b := range want {
		if !bytes.Equal(got[p], b) {
			t.Errorf("%s: %s differs from the drive (%d bytes, want %d)", format, p, len(got[p]), len(b))
		}
	}
	withVersions := 0
	for _, e := range m.Files {
		if e.SHA256 != sha(got[e.Path]) || e.Size != int64(len(got[e.Path])) || e.QuickXorHash == "" || e.Modified == "" {
			t.Errorf("%s: manifest entry %+v does not describe the file", format, e)
		}
		if len(e.Versions) != versions[e.Path] {
			t.Errorf("%s: %s lists %d earlier versions, the drive has %d", format, e.Path, len(e.Versions), versions[e.Path])
		}
		if len(e.Versions) > 0 {
			withVersions++
		}
	}
	if withVersions == 0 {
		t.Errorf("%s: no file with earlier versions in the manifest", format)
	}
}

// TestExportLists exports a site's lists as CSV and JSON and checks the
// CSV's rows and a field against the lists the simulator serves.
func TestExportLists(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c, sites := simSites(t, sim)
	var lists struct {
		Value []struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"value"`
	}
	var siteID string
	for _, s := range sites {
		getJSON(t, c, "/sites/"+url.PathEscape(s.ID)+"/lists", nil, &lists)
		if len(lists.Value) > 0 {
			siteID = s.ID
			break
		}
	}
	if siteID == "" {
		t.Fatal("no simulated site has lists")
	}
	sel := agent.Selection{Snapshot: full.Snapshot, User: siteID, Kind: "lists"}
	dest := filepath.Join(dir, "csv")
	rep, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "csv", Dest: dest})
	if err != nil || rep.Items != len(lists.Value) {
		t.Fatalf("export csv: %v %+v, want %d lists", err, rep, len(lists.Value))
	}
	checked := 0
	for _, l := range lists.Value {
		var items struct {
			Value []struct {
				Fields map[string]any `json:"fields"`
			} `json:"value"`
		}
		getJSON(t, c, "/sites/"+url.PathEscape(siteID)+"/lists/"+url.PathEscape(l.ID)+"/items", url.Values{"$expand": {"fields"}}, &items)
		f, err := os.Open(filepath.Join(dest, l.DisplayName+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(items.Value)+1 {
			t.Fatalf("%s.csv: %d rows, the list has %d items", l.DisplayName, len(rows)-1, len(items.Value))
		}
		col := -1
		for i, h := range rows[0] {
			if h == "Title" {
				col = i
			}
		}
		for i, it := range items.Value {
			if s, ok := it.Fields["Title"].(string); ok && col >= 0 {
				if rows[i+1][col] != s {
					t.Errorf("%s.csv row %d: Title %q, the simulator serves %q", l.DisplayName, i+1, rows[i+1][col], s)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no Title field compared")
	}

	dest = filepath.Join(dir, "json")
	if _, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "json", Dest: dest}); err != nil {
		t.Fatal(err)
	}
	for _, l := range lists.Value {
		var rec struct {
			Items []json.RawMessage `json:"items"`
		}
		b, err := os.ReadFile(filepath.Join(dest, l.DisplayName+".json"))
		if err == nil {
			err = json.Unmarshal(b, &rec)
		}
		if err != nil || len(rec.Items) == 0 {
			t.Errorf("%s.json: %v, %d items", l.DisplayName, err, len(rec.Items))
		}
	}
}

// simSite is a site as the simulator lists it.
type simSite struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	WebURL string `json:"webUrl"`
}

// simSites returns a caller with the backup app's rights and the
// simulated tenant's sites.
func simSites(t *testing.T, sim *tenantsim.Sim) (*graph.Caller, []simSite) {
	t.Helper()
	c := &graph.Caller{G: workloadtest.Client(t, sim, sim.BackupApp())}
	var sites struct {
		Value []simSite `json:"value"`
	}
	getJSON(t, c, "/sites", url.Values{"search": {"*"}}, &sites)
	return c, sites.Value
}

func getJSON(t *testing.T, c *graph.Caller, path string, q url.Values, v any) {
	t.Helper()
	b, err := c.Get(context.Background(), path, q)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}
