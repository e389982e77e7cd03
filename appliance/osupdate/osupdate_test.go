package osupdate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tree computed here must be the one veritysetup writes, for sizes
// around the level boundaries (128 hashes per 4 KiB block).
func TestVerityMatchesVeritysetup(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	for _, blocks := range []int{1, 2, 127, 128, 129, 300, 16385} {
		t.Run(fmt.Sprint(blocks), func(t *testing.T) {
			data := filepath.Join(dir, fmt.Sprintf("data%d", blocks))
			hash := filepath.Join(dir, fmt.Sprintf("hash%d", blocks))
			writeRandom(t, data, blocks*4096, uint64(blocks))
			salt := fmt.Sprintf("%064x", blocks*7)
			want := veritysetupFormat(t, data, hash, salt)
			df, _ := os.Open(data)
			defer df.Close()
			hf, _ := os.Open(hash)
			defer hf.Close()
			got, err := VerifyVerity(df, hf, want, nil)
			if err != nil {
				t.Fatalf("VerifyVerity: %v", err)
			}
			if got != want {
				t.Fatalf("root hash %s, veritysetup says %s", got, want)
			}
		})
	}
}

func TestVerityDetectsDamage(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	data, hash := filepath.Join(dir, "data"), filepath.Join(dir, "hash")
	writeRandom(t, data, 200*4096, 1)
	root := veritysetupFormat(t, data, hash, strings.Repeat("ab", 32))
	check := func(name string, mutate func()) {
		t.Helper()
		orig := map[string][]byte{}
		for _, p := range []string{data, hash} {
			orig[p], _ = os.ReadFile(p)
		}
		mutate()
		df, _ := os.Open(data)
		hf, _ := os.Open(hash)
		_, err := VerifyVerity(df, hf, root, nil)
		df.Close()
		hf.Close()
		if err == nil {
			t.Errorf("%s: VerifyVerity accepted it", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
		for p, b := range orig {
			os.WriteFile(p, b, 0o644)
		}
	}
	flip := func(path string, off int64) func() {
		return func() {
			f, _ := os.OpenFile(path, os.O_RDWR, 0)
			defer f.Close()
			var b [1]byte
			f.ReadAt(b[:], off)
			b[0] ^= 0x40
			f.WriteAt(b[:], off)
		}
	}
	check("a byte of the last data block", flip(data, 199*4096+17))
	check("a byte of the first data block", flip(data, 5))
	check("a byte of the leaf hashes", flip(hash, 4096*2+64))
	check("a byte of the salt", flip(hash, 90))
	check("truncated data", func() { os.Truncate(data, 100*4096) })
}

func TestCompareVersionsAndEntryOrder(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2026.11.26.043000", "2026.11.26.043000", 0},
		{"2026.11.26.043001", "2026.11.26.043000", 1},
		{"2026.11.9.000000", "2026.11.26.000000", -1},
		{"10", "9", 1},
		{"1.2", "1.2.1", -1},
		{"strongroom-b.efi", "strongroom-a.efi", 1},
	} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	// What systemd-boot boots next: the newest entry with tries left; an
	// exhausted one only after everything else.
	es := []Entry{
		{Slot: SlotA, File: "strongroom-a.efi", TriesLeft: -1, ImageVersion: "1"},
		{Slot: SlotB, File: "strongroom-b+0-3.efi", TriesLeft: 0, TriesDone: 3, ImageVersion: "2"},
	}
	sortEntries(es)
	if es[0].Slot != SlotA {
		t.Errorf("slot b out of tries sorted first: %+v", es)
	}
	es[1].TriesLeft, es[1].File = 2, "strongroom-b+2-1.efi"
	sortEntries(es)
	if es[0].Slot != SlotB {
		t.Errorf("newer slot b with tries left not first: %+v", es)
	}
	for name, want := range map[string][3]int{
		"strongroom-a.efi": {-1, 0, 1}, "strongroom-b+3.efi": {3, 0, 1}, "STRONGROOM-B+2-1.EFI": {2, 1, 1},
		"strongroom-c.efi": {0, 0, 0}, "strongroom-a+x.efi": {0, 0, 0}, "strongroom-a.conf": {0, 0, 0}, "other.efi": {0, 0, 0},
	} {
		_, left, done, ok := parseEntryName(name)
		got := [3]int{left, done, 0}
		if ok {
			got[2] = 1
		}
		if !ok {
			got = [3]int{0, 0, 0}
		}
		if got != want {
			t.Errorf("parseEntryName(%q) = %v, want %v", name, got, want)
		}
	}
}

// The whole life of an update on a disk made of files: install v2 into slot
// b, boot it on trial, refuse a second update during the trial, refuse to
// confirm an unhealthy boot, confirm a healthy one, roll back to a, and let
// an exhausted trial fall back.
func TestApplyBootConfirmRollback(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	key := newSigner(t, dir, "update")
	v1 := newBuild(t, dir, "2026.11.01.000000", 300)
	v2 := newBuild(t, dir, "2026.11.20.120000", 420)
	d := newDisk(t, key)
	d.install(t, v1, SlotA)
	d.boot(t, v1, SlotA)
	bundle := filepath.Join(dir, "v2.sru")
	m := v2.pack(t, key, bundle)
	if m.RootHash != v2.rootHash || m.ImageVersion != v2.version {
		t.Fatalf("manifest %+v does not describe build %s (%s)", m, v2.version, v2.rootHash)
	}

	st, err := d.sys.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Slot != SlotA || st.ImageVersion != v1.version || st.Trial || st.NextBoot != SlotA {
		t.Fatalf("status before: %+v", st)
	}

	var steps []string
	res, err := d.sys.Apply(context.Background(), bundle, ApplyOptions{Progress: func(p Progress) {
		if len(steps) == 0 || steps[len(steps)-1] != p.Step {
			steps = append(steps, p.Step)
		}
		if p.Total > 0 && (p.Done < 0 || p.Done > p.Total) {
			t.Errorf("progress %d of %d", p.Done, p.Total)
		}
	}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	t.Logf("apply: %s; steps: %q", res.Message, steps)
	if res.Slot != SlotB || !slices.Contains(steps, "verifying slot b") {
		t.Errorf("result %+v, steps %q", res, steps)
	}
	// Slot b holds v2 byte for byte; slot a is untouched.
	for part, src := range map[string]string{"sr-root-b": v2.squashfs, "sr-verity-b": v2.verity, "sr-root-a": v1.squashfs} {
		want, _ := os.ReadFile(src)
		got, _ := os.ReadFile(filepath.Join(d.sys.PartDir, part))
		if !bytes.Equal(got[:len(want)], want) {
			t.Errorf("%s does not hold %s", part, filepath.Base(src))
		}
	}
	if files := d.entryFiles(t); !slices.Equal(files, []string{"strongroom-a.efi", "strongroom-b+3.efi"}) {
		t.Fatalf("entries after apply: %q", files)
	}
	st, _ = d.sys.Status()
	if st.NextBoot != SlotB || st.Entry(SlotB).State != Trial || st.Entry(SlotB).ImageVersion != v2.version {
		t.Fatalf("status after apply: %+v", st)
	}
	// Rolling back to an update that never booted would leave no
	// known-good slot.
	if _, err := d.sys.Rollback(); err == nil || !strings.Contains(err.Error(), "not been confirmed") {
		t.Errorf("Rollback to an unconfirmed slot: %v", err)
	}

	// First boot of b, on trial.
	d.boot(t, v2, SlotB)
	st, _ = d.sys.Status()
	if !st.Trial || st.Slot != SlotB {
		t.Fatalf("status on trial: %+v", st)
	}
	if _, err := d.sys.Apply(context.Background(), bundle, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "trial") {
		t.Errorf("Apply during a trial: %v", err)
	}
	d.sys.Healthy = func(context.Context) error { return errors.New("agent socket does not answer") }
	if _, err := d.sys.MarkGood(context.Background()); !errors.Is(err, ErrUnhealthy) {
		t.Errorf("MarkGood on an unhealthy trial boot: %v, want ErrUnhealthy", err)
	}
	if files := d.entryFiles(t); !slices.Contains(files, "strongroom-b+2-1.efi") {
		t.Fatalf("entries after a failed check: %q", files)
	}
	d.sys.Healthy = nil
	res, err = d.sys.MarkGood(context.Background())
	if err != nil {
		t.Fatalf("MarkGood: %v", err)
	}
	t.Log(res.Message)
	if files := d.entryFiles(t); !slices.Equal(files, []string{"strongroom-a.efi", "strongroom-b.efi"}) {
		t.Fatalf("entries after confirming: %q", files)
	}
	if res, err := d.sys.MarkGood(context.Background()); err != nil || !strings.Contains(res.Message, "nothing to confirm") {
		t.Errorf("MarkGood on a confirmed boot: %v, %v", res, err)
	}

	// The same or an older bundle is refused.
	if _, err := d.sys.Apply(context.Background(), bundle, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "running already") {
		t.Errorf("Apply of the running version: %v", err)
	}
	old := filepath.Join(dir, "v1.sru")
	v1.pack(t, key, old)
	if _, err := d.sys.Apply(context.Background(), old, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "older") {
		t.Errorf("Apply of an older version: %v", err)
	}

	// Roll back: a boots next, b stays installed but out of tries.
	res, err = d.sys.Rollback()
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	t.Log(res.Message)
	st, _ = d.sys.Status()
	if st.NextBoot != SlotA || st.Entry(SlotB).State != Bad || st.Entry(SlotA).State != Trial {
		t.Fatalf("status after rollback: %+v", st)
	}
	// Not restarted yet: the running slot was rolled back from, so
	// nothing is installed and nothing is confirmed.
	if _, err := d.sys.Apply(context.Background(), bundle, ApplyOptions{AllowDowngrade: true}); err == nil || !strings.Contains(err.Error(), "restart first") {
		t.Errorf("Apply after a rollback without restart: %v", err)
	}
	if res, err := d.sys.MarkGood(context.Background()); err != nil || !strings.Contains(res.Message, "nothing to confirm") {
		t.Errorf("MarkGood after a rollback without restart: %v, %v", res, err)
	}
	d.boot(t, v1, SlotA)
	if _, err := d.sys.Rollback(); err == nil {
		t.Error("rolled back to a slot that is out of tries")
	}
	if _, err := d.sys.MarkGood(context.Background()); err != nil {
		t.Fatalf("MarkGood after the rollback: %v", err)
	}

	// Update again, and let every trial boot fail: systemd-boot counts b
	// down to zero and a is first again.
	if _, err := d.sys.Apply(context.Background(), bundle, ApplyOptions{}); err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	for i := 0; i < 3; i++ {
		st, _ = d.sys.Status()
		if st.NextBoot != SlotB {
			t.Fatalf("boot %d: next boot %s, want b (%q)", i+1, st.NextBoot, d.entryFiles(t))
		}
		d.boot(t, v2, SlotB) // the boot fails before MarkGood
	}
	st, _ = d.sys.Status()
	if st.NextBoot != SlotA {
		t.Fatalf("after 3 failed boots of b the next boot is %s (%q)", st.NextBoot, d.entryFiles(t))
	}
}

func TestApplyRefusesBadBundles(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	key := newSigner(t, dir, "update")
	other := newSigner(t, dir, "someone-else")
	v0 := newBuild(t, dir, "0", 48)
	v1 := newBuild(t, dir, "1", 64)
	v2 := newBuild(t, dir, "2", 96)
	good := filepath.Join(dir, "v2.sru")
	v2.pack(t, key, good)
	raw, _ := os.ReadFile(good)

	cases := map[string]func() string{
		"signed by another key": func() string {
			p := filepath.Join(dir, "foreign.sru")
			v2.pack(t, other, p)
			return p
		},
		"a root byte changed": func() string {
			b := bytes.Clone(raw)
			// The root file system is the fifth member: after the headers
			// and the kernel images; change a byte near the end, inside it.
			i := bytes.LastIndex(b, []byte("root.verity"))
			b[i-4096] ^= 1
			p := filepath.Join(dir, "damaged.sru")
			os.WriteFile(p, b, 0o644)
			return p
		},
		"the manifest edited": func() string {
			b := bytes.Replace(raw, []byte(`"image_version": "2"`), []byte(`"image_version": "9"`), 1)
			p := filepath.Join(dir, "edited.sru")
			os.WriteFile(p, b, 0o644)
			return p
		},
		"truncated": func() string {
			p := filepath.Join(dir, "short.sru")
			os.WriteFile(p, raw[:len(raw)/2], 0o644)
			return p
		},
		"not a bundle": func() string {
			p := filepath.Join(dir, "zeros")
			os.WriteFile(p, make([]byte, 8192), 0o644)
			return p
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDisk(t, key)
			d.install(t, v1, SlotA)
			d.install(t, v0, SlotB) // the version to roll back to
			d.boot(t, v1, SlotA)
			before, _ := os.ReadFile(filepath.Join(d.sys.PartDir, "sr-root-b"))
			_, err := d.sys.Apply(context.Background(), mk(), ApplyOptions{})
			if err == nil {
				t.Fatal("Apply accepted it")
			}
			t.Logf("refused: %v", err)
			// Both slots and their entries are as they were.
			if files := d.entryFiles(t); !slices.Equal(files, []string{"strongroom-a.efi", "strongroom-b.efi"}) {
				t.Errorf("entries after a refused update: %q", files)
			}
			if after, _ := os.ReadFile(filepath.Join(d.sys.PartDir, "sr-root-b")); !bytes.Equal(before, after) {
				t.Error("a refused bundle changed slot b")
			}
		})
	}

	// No entry for the running slot (a damaged ESP): removing the other
	// slot's entry would leave nothing to boot.
	d := newDisk(t, key)
	d.install(t, v0, SlotB)
	d.boot(t, v1, SlotA)
	if _, err := d.sys.Apply(context.Background(), good, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "no boot entry") {
		t.Errorf("Apply without an entry for the running slot: %v", err)
	}
	if files := d.entryFiles(t); !slices.Equal(files, []string{"strongroom-b.efi"}) {
		t.Errorf("entries: %q", files)
	}

	d = newDisk(t, key)
	d.install(t, v1, SlotA)
	d.boot(t, v1, SlotA)
	short := filepath.Join(d.sys.PartDir, "sr-root-b")
	os.Truncate(short, 64*4096) // the slot is smaller than the bundle's root
	if _, err := d.sys.Apply(context.Background(), good, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("Apply into a too small slot: %v", err)
	}
}

func TestFindBundlesOnDisks(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	key := newSigner(t, dir, "update")
	other := newSigner(t, dir, "other")
	v2 := newBuild(t, dir, "2", 16)
	d := newDisk(t, key)
	for _, name := range []string{"vda", "vdb", "vdc", "vdd"} {
		os.Mkdir(filepath.Join(d.sys.BlockDir, name), 0o755)
	}
	os.WriteFile(filepath.Join(d.sys.DevDir, "vda"), make([]byte, 1<<20), 0o644)
	v2.pack(t, key, filepath.Join(d.sys.DevDir, "vdb"))
	v2.pack(t, other, filepath.Join(d.sys.DevDir, "vdc"))
	// vdd has no device node (a disk that went away).
	cs, err := d.sys.Find()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("found %d candidates, want 2: %+v", len(cs), cs)
	}
	if cs[0].Path != filepath.Join(d.sys.DevDir, "vdb") || cs[0].Err != nil || cs[0].Manifest.ImageVersion != "2" {
		t.Errorf("vdb: %+v", cs[0])
	}
	if cs[1].Err == nil || !strings.Contains(cs[1].Err.Error(), "not signed") {
		t.Errorf("vdc (foreign signature): %+v", cs[1])
	}
}

func TestNotAppliance(t *testing.T) {
	dir := t.TempDir()
	s := NewSystem()
	s.Cmdline = filepath.Join(dir, "cmdline")
	os.WriteFile(s.Cmdline, []byte("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n"), 0o644)
	if _, err := s.Status(); !errors.Is(err, ErrNotAppliance) {
		t.Errorf("Status on a plain machine: %v", err)
	}
}

// An explicit downgrade must boot next even though systemd-boot prefers
// the newer version: the running entry steps back; if the old version then
// fails every try, both are out of tries and the newer boots again.
func TestDowngradeBootsNext(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	key := newSigner(t, dir, "update")
	v1 := newBuild(t, dir, "1", 32)
	v2 := newBuild(t, dir, "2", 40)
	d := newDisk(t, key)
	d.install(t, v2, SlotA)
	d.boot(t, v2, SlotA)
	old := filepath.Join(dir, "v1.sru")
	v1.pack(t, key, old)
	if _, err := d.sys.Apply(context.Background(), old, ApplyOptions{AllowDowngrade: true}); err != nil {
		t.Fatalf("downgrade: %v", err)
	}
	st, _ := d.sys.Status()
	if st.NextBoot != SlotB {
		t.Fatalf("after a downgrade the next boot is %s (%q), want b", st.NextBoot, d.entryFiles(t))
	}
	for i := 0; i < 3; i++ {
		d.boot(t, v1, SlotB) // every try fails before MarkGood
	}
	if st, _ = d.sys.Status(); st.NextBoot != SlotA {
		t.Fatalf("after 3 failed tries of the downgrade the next boot is %s (%q), want a", st.NextBoot, d.entryFiles(t))
	}
}
