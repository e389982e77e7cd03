package vault_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/vault"
)

// combinations returns every way to pick m of n slots, in lexical order.
func combinations(n, m int) [][]int {
	var out [][]int
	var pick func(start int, cur []int)
	pick = func(start int, cur []int) {
		if len(cur) == m {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for i := start; i < n; i++ {
			pick(i+1, append(cur, i))
		}
	}
	pick(0, nil)
	return out
}

// storedSnapshot is a committed snapshot and the content it must restore.
type storedSnapshot struct {
	snap vault.Snapshot
	data fixture
}

// threeSnapshots stores three snapshots that share content, so later ones
// refer to segments written by earlier ones.
func threeSnapshots(t *testing.T, v *vault.Vault) []storedSnapshot {
	t.Helper()
	big := randomBytes(31, 1500<<10)
	edited := append([]byte(nil), big...)
	copy(edited[700<<10:], "edited in the middle")
	fs := []fixture{
		{"files/big.bin": big, "mail/1.eml": randomBytes(32, 9000), "rand.bin": incompressible(33, 700<<10)},
		{"files/big.bin": edited, "mail/1.eml": randomBytes(32, 9000), "mail/2.eml": randomBytes(34, 4000)},
		{"files/big.bin": big, "files/copy.bin": big, "empty": nil},
	}
	var out []storedSnapshot
	for _, f := range fs {
		out = append(out, storedSnapshot{putAll(t, v, f, time.Time{}), f})
	}
	return out
}

// TestLoseAnyMDisks guards the layout's promise: with any M disks deleted
// every snapshot restores byte-identical, and replacing each lost disk with
// an empty directory brings the vault back to healthy and undegraded.
func TestLoseAnyMDisks(t *testing.T) {
	for _, layout := range []struct {
		name  string
		disks int
	}{
		{name: "4 disks 2+2", disks: 4},
		{name: "6 disks 4+2", disks: 6},
	} {
		t.Run(layout.name, func(t *testing.T) {
			disks, opts, v := initVault(t, layout.disks)
			m := v.Layout().M
			stored := threeSnapshots(t, v)
			closeVault(t, v)
			spare := t.TempDir()
			cur := append([]string(nil), disks...)
			for _, lost := range combinations(len(disks), m) {
				var names []string
				for _, slot := range lost {
					names = append(names, filepath.Base(disks[slot]))
				}
				t.Run("lose "+strings.Join(names, "+"), func(t *testing.T) {
					for _, slot := range lost {
						if err := os.RemoveAll(cur[slot]); err != nil {
							t.Fatal(err)
						}
					}
					opts.Disks = cur
					v := openVault(t, opts)
					if !v.Degraded() {
						t.Fatalf("vault with disks %v deleted does not say it is degraded", lost)
					}
					for _, s := range stored {
						checkSnapshot(t, v, s.snap, s.data)
					}
					var rep vault.ScrubReport
					next := append([]string(nil), cur...)
					for _, slot := range lost {
						fresh := filepath.Join(spare, fmt.Sprintf("%s-%s", filepath.Base(disks[slot]), strings.Join(names, "+")))
						if err := mkdir(fresh); err != nil {
							t.Fatal(err)
						}
						var err error
						if rep, err = v.ReplaceDisk(cur[slot], fresh); err != nil {
							t.Fatalf("replace disk %s with %s: %v", cur[slot], fresh, err)
						}
						next[slot] = fresh
					}
					if !rep.Healthy || len(rep.Unrecoverable) != 0 {
						t.Fatalf("after replacing every lost disk the repair is not healthy: problems %+v, unrecoverable %v, missing slots %v",
							rep.Problems, rep.Unrecoverable, rep.MissingDiskSlots)
					}
					if rep, err := v.Scrub(false); err != nil || !rep.Healthy {
						t.Fatalf("scrub after replace-disk: %v, problems %+v", err, rep.Problems)
					}
					closeVault(t, v)
					cur = next
					opts.Disks = cur
					v = openVault(t, opts)
					if v.Degraded() {
						t.Fatalf("vault reopened on %v after replace-disk is still degraded", cur)
					}
					st, err := v.Status()
					if err != nil {
						t.Fatal(err)
					}
					if st.Degraded || st.DegradedSegments != 0 || st.Snapshots != len(stored) {
						t.Fatalf("status after replace-disk: degraded %v, %d degraded segments, %d snapshots; want healthy with %d",
							st.Degraded, st.DegradedSegments, st.Snapshots, len(stored))
					}
					for _, s := range stored {
						checkSnapshot(t, v, s.snap, s.data)
					}
					closeVault(t, v)
				})
			}
		})
	}
}
