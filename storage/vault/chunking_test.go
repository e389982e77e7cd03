package vault_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/chunk"
	"github.com/strongroom/strongroom/storage/vault"
)

// editLabels rewrites the label of each disk with edit.
func editLabels(t *testing.T, disks []string, edit func(i int, l map[string]any)) {
	t.Helper()
	for i, d := range disks {
		p := filepath.Join(d, "strongroom.disk")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var l map[string]any
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		edit(i, l)
		b, _ = json.Marshal(l)
		os.Chmod(p, 0o644)
		if err := os.WriteFile(p, b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
}

// chunkCount is how many chunks p cuts data into.
func chunkCount(t *testing.T, data []byte, p chunk.Params) int {
	t.Helper()
	c := chunk.New(bytes.NewReader(data), p)
	defer c.Close()
	n := 0
	for {
		if _, err := c.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestVaultChunkingFromLabels guards that a vault keeps the chunking it
// was created with: new vaults record chunk.Default in their labels,
// vaults whose labels predate the field keep chunking with chunk.V1 (so
// new backups still deduplicate against their data, which reads back
// either way), and labels that disagree are refused.
func TestVaultChunkingFromLabels(t *testing.T) {
	data := randomBytes(21, 6<<20)
	cases := []struct {
		name    string
		edit    func(i int, l map[string]any)
		want    chunk.Params
		openErr string
	}{
		{name: "new vault records Default", want: chunk.Default},
		{name: "label without chunking chunks as V1", want: chunk.V1,
			edit: func(_ int, l map[string]any) { delete(l, "chunking") }},
		{name: "labels that disagree are refused", openErr: "chunking",
			edit: func(i int, l map[string]any) {
				if i == 1 {
					l["chunking"] = map[string]any{"min": 1 << 16, "avg": 1 << 17, "max": 1 << 18}
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			disks := testDisks(t, 4)
			res, err := vault.Init(disks)
			if err != nil {
				t.Fatal(err)
			}
			if tc.edit != nil {
				editLabels(t, disks, tc.edit)
			}
			v, err := vault.Open(vault.Options{Disks: disks, Key: res.RecoveryKey, SegmentSize: 1 << 20})
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Fatalf("Open: err = %v, want one naming %q", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			s := putAll(t, v, fixture{"big": data}, time.Time{})
			items, err := v.Items(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(items[0].Chunks), chunkCount(t, data, tc.want); got != want {
				t.Fatalf("item stored as %d chunks, want %d (chunking %+v)", got, want, tc.want)
			}
			checkSnapshot(t, v, s, fixture{"big": data})
		})
	}
}

// TestInitMakesReadableLock guards the first start of a set-up appliance:
// the lock file comes with the vault (so the hand-over to the agent's user
// carries it) and is readable by all, so that whichever of the agent and
// the warden made it, the other can open it and take the lock.
func TestInitMakesReadableLock(t *testing.T) {
	var disks []string
	for i := range 4 {
		disks = append(disks, filepath.Join(t.TempDir(), "d"+strconv.Itoa(i)))
		if err := os.Mkdir(disks[i], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := vault.Init(disks); err != nil {
		t.Fatal(err)
	}
	for _, d := range disks {
		st, err := os.Stat(filepath.Join(d, "lock"))
		if err != nil || st.Mode().Perm()&0o044 != 0o044 {
			t.Fatalf("%s: lock file %v, %v; want one readable by group and others", d, st, err)
		}
	}
}
