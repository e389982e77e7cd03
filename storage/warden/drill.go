package warden

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/storage/immutable"
)

// An Attack is one thing code running as the agent's user might try to
// make the warden delete or expire locked data early. Do returns nil when
// the attempt went through, which must never happen once the warden has
// sealed the vault.
type Attack struct {
	Name string
	Do   func() error
}

// Attacks lists the attempts of the drill (issue 11's attack test): hide,
// rename, remove, truncate, replace by a link or lock out the vault's
// sealed directories and files on every disk; truncate, read, remove or
// rewrite the warden's ledger and clock (1 h, 23.9 h and 100 years ahead)
// and forge a confirmation; stop, kill or terminate the warden (pid, when
// known). They change nothing where they fail as they must.
func Attacks(disks []string, wardenDir string, wardenPID int) []Attack {
	var out []Attack
	add := func(name string, do func() error) { out = append(out, Attack{Name: name, Do: do}) }
	for _, d := range disks {
		snaps, segs := filepath.Join(d, "snapshots"), filepath.Join(d, "segments")
		group := filepath.Join(segs, "0000")
		add("rename "+snaps, func() error { return os.Rename(snaps, filepath.Join(d, ".hidden")) })
		add("rename "+segs, func() error { return os.Rename(segs, filepath.Join(d, ".s")) })
		add("rename "+group, func() error { return os.Rename(group, filepath.Join(segs, ".0")) })
		add("rename the disk "+d, func() error { return os.Rename(d, d+".old") })
		add("remove "+snaps, func() error { return os.RemoveAll(snaps) })
		add("remove "+segs, func() error { return os.RemoveAll(segs) })
		add("replace "+snaps+" by a link", func() error {
			if err := os.Remove(snaps); err != nil {
				return err
			}
			return os.Symlink("/tmp", snaps)
		})
		add("lock out "+snaps+" (chmod 000)", func() error { return os.Chmod(snaps, 0) })
		add("lock out "+group+" (chmod 000)", func() error { return os.Chmod(group, 0) })
		add("rename the label of "+d, func() error { return os.Rename(filepath.Join(d, "strongroom.disk"), filepath.Join(d, "label.old")) })
		for _, dir := range []string{snaps, group} {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				p := filepath.Join(dir, e.Name())
				if sealed, _ := immutable.IsSet(p); !e.Type().IsRegular() || !sealed {
					// Only what the warden sealed is out of reach; the
					// agent's newest files are its own until then.
					continue
				}
				add("remove "+p, func() error { return os.Remove(p) })
				add("truncate "+p, func() error { return os.Truncate(p, 0) })
				add("rename "+p, func() error { return os.Rename(p, p+".old") })
				add("overwrite "+p, func() error {
					f, err := os.OpenFile(p, os.O_WRONLY, 0)
					if err != nil {
						return err
					}
					defer f.Close()
					_, err = f.Write([]byte("ransom"))
					return err
				})
			}
		}
	}
	ledger, clockPath := filepath.Join(wardenDir, ledgerFile), filepath.Join(wardenDir, "clock.json")
	add("truncate the ledger", func() error { return os.Truncate(ledger, 0) })
	add("read the ledger", func() error { _, err := os.ReadFile(ledger); return err })
	add("remove the ledger", func() error { return os.Remove(ledger) })
	add("remove the ledger head", func() error { return os.Remove(filepath.Join(wardenDir, headFile)) })
	for _, ahead := range []time.Duration{time.Hour, 23*time.Hour + 54*time.Minute, 100 * 365 * 24 * time.Hour} {
		add(fmt.Sprintf("write the clock %s ahead", ahead), func() error {
			st := fmt.Sprintf(`{"version":2,"trusted":%q,"jump_pending":false}`, time.Now().Add(ahead).UTC().Format(time.RFC3339))
			return os.WriteFile(clockPath, []byte(st), 0o644)
		})
	}
	add("remove the clock state", func() error { return os.Remove(clockPath) })
	add("make the clock state unreadable", func() error { return os.Chmod(clockPath, 0) })
	add("rename the warden's directory", func() error { return os.Rename(wardenDir, wardenDir+".old") })
	add("forge an operator's confirmation", func() error {
		return os.WriteFile(filepath.Join(wardenDir, confirmFile), []byte("confirmed\n"), 0o644)
	})
	if wardenPID > 0 {
		for _, sig := range []syscall.Signal{syscall.SIGSTOP, syscall.SIGKILL, syscall.SIGTERM} {
			add(fmt.Sprintf("send %v to the warden (pid %d)", sig, wardenPID), func() error { return syscall.Kill(wardenPID, sig) })
		}
	}
	return out
}

// DrillReport is what RunDrill found.
type DrillReport struct {
	Attacks   int      `json:"attacks"`
	Succeeded []string `json:"succeeded"` // attacks that went through: each one is a defect
	Files     int      `json:"files"`     // sealed files compared before and after
	Changed   []string `json:"changed"`   // sealed files changed or gone after the attacks
}

// OK reports whether every attack failed and every sealed file is intact.
func (r DrillReport) OK() bool { return len(r.Succeeded) == 0 && len(r.Changed) == 0 }

// RunDrill fingerprints every sealed file on the disks (SHA-256), runs
// every attack, and compares again. Run it as the agent's user, after the
// warden has sealed: it is meant to prove the attacks fail, and it does
// real damage where they do not.
func RunDrill(disks []string, wardenDir string, wardenPID int, logf func(format string, args ...any)) (DrillReport, error) {
	var rep DrillReport
	before, err := fingerprints(disks)
	if err != nil {
		return rep, err
	}
	if len(before) == 0 {
		return rep, errors.New("no sealed file on the disks: run the drill after a backup the warden has sealed")
	}
	attacks := Attacks(disks, wardenDir, wardenPID)
	rep.Attacks = len(attacks)
	for _, a := range attacks {
		if err := a.Do(); err == nil {
			rep.Succeeded = append(rep.Succeeded, a.Name)
			logf("attack SUCCEEDED: %s", a.Name)
		} else {
			logf("attack refused: %s: %v", a.Name, err)
		}
	}
	after, err := fingerprints(disks)
	if err != nil {
		return rep, err
	}
	rep.Files = len(before)
	for p, sum := range before {
		if after[p] != sum {
			rep.Changed = append(rep.Changed, p)
		}
	}
	sort.Strings(rep.Changed)
	return rep, nil
}

// fingerprints hashes every sealed (immutable) file on the disks: shards,
// manifests, retention records, labels, keyfiles.
func fingerprints(disks []string) (map[string][32]byte, error) {
	out := map[string][32]byte{}
	for _, d := range disks {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrPermission) {
					return nil
				}
				return err
			}
			if e.IsDir() && (e.Name() == "spool" || e.Name() == "state" || e.Name() == "lost+found") {
				return filepath.SkipDir
			}
			if !e.Type().IsRegular() || strings.HasSuffix(p, ".tmp") || e.Name() == "lock" {
				return nil
			}
			if sealed, _ := immutable.IsSet(p); !sealed {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
			var sum [32]byte
			copy(sum[:], h.Sum(nil))
			out[p] = sum
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
