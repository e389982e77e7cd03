package osupdate

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests use the real tools the image build uses: veritysetup for hash
// trees and objcopy on systemd's EFI stub for kernel images. make test
// installs them and sets STRONGROOM_REQUIRE_IMAGE_TOOLS=1, which turns a
// missing tool into a failure instead of a skip.
const stubPath = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

func requireTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, tool := range []string{"veritysetup", "objcopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat(stubPath); err != nil {
		missing = append(missing, stubPath)
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing %s (Debian: cryptsetup-bin, binutils, systemd-boot-efi; make deps installs them)", strings.Join(missing, ", "))
	if os.Getenv("STRONGROOM_REQUIRE_IMAGE_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// writeRandom writes n bytes from a seeded generator.
func writeRandom(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	b := make([]byte, n)
	r := mrand.New(mrand.NewPCG(seed, seed^0x5354524e))
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

var rootHashLine = regexp.MustCompile(`(?m)^Root hash:\s*([0-9a-f]+)`)

// veritysetupFormat builds the hash tree of data with the real veritysetup
// and returns the root hash it printed.
func veritysetupFormat(t *testing.T, data, hash, salt string) string {
	t.Helper()
	out, err := exec.Command("veritysetup", "format", data, hash,
		"--data-block-size=4096", "--hash-block-size=4096", "--salt="+salt).CombinedOutput()
	if err != nil {
		t.Fatalf("veritysetup format: %v\n%s", err, out)
	}
	m := rootHashLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no root hash in veritysetup output:\n%s", out)
	}
	return string(m[1])
}

// makeUKI builds a kernel image (systemd's EFI stub with .osrel and
// .cmdline sections, as image/build.sh does) booting slot with rootHash.
func makeUKI(t *testing.T, dir string, slot Slot, rootHash, version string) string {
	t.Helper()
	osrel := filepath.Join(dir, "osrel-"+string(slot)+"-"+version)
	cmdl := filepath.Join(dir, "cmdline-"+string(slot)+"-"+version)
	if err := os.WriteFile(osrel, []byte(fmt.Sprintf("NAME=\"Strongroom\"\nID=strongroom\nIMAGE_ID=strongroom\nIMAGE_VERSION=%s\nVERSION_ID=\"v%s\"\n", version, version)), 0o644); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("roothash=%s systemd.verity_root_data=/dev/disk/by-partlabel/sr-root-%s systemd.verity_root_hash=/dev/disk/by-partlabel/sr-verity-%s strongroom.slot=%s ro",
		rootHash, slot, slot, slot)
	if err := os.WriteFile(cmdl, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, fmt.Sprintf("uki-%s-%s.efi", slot, version))
	if b, err := exec.Command("objcopy",
		"--add-section", ".osrel="+osrel, "--change-section-vma", ".osrel=0x20000000",
		"--add-section", ".cmdline="+cmdl, "--change-section-vma", ".cmdline=0x20010000",
		stubPath, out).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, b)
	}
	return out
}

// signer is a key pair with a self-signed certificate, like the image's
// Secure Boot test key.
type signer struct {
	key      *rsa.PrivateKey
	certPath string
	keyPath  string
}

func newSigner(t *testing.T, dir, name string) *signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := &signer{key: key, certPath: filepath.Join(dir, name+".pem"), keyPath: filepath.Join(dir, name+".key")}
	if err := os.WriteFile(s.certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// build is one image version's outputs, as image/build.sh leaves them.
type build struct {
	squashfs, verity, ukiA, ukiB, rootHash, version string
}

// newBuild makes a root "file system" of blocks 4 KiB blocks of seeded
// random bytes, its hash tree and both slots' kernel images.
func newBuild(t *testing.T, dir, version string, blocks int) *build {
	t.Helper()
	b := &build{version: version, squashfs: filepath.Join(dir, "root-"+version+".squashfs"), verity: filepath.Join(dir, "root-"+version+".verity")}
	var seed uint64
	for _, c := range version {
		seed = seed*31 + uint64(c)
	}
	writeRandom(t, b.squashfs, blocks*4096, seed)
	b.rootHash = veritysetupFormat(t, b.squashfs, b.verity, fmt.Sprintf("%064x", seed))
	b.ukiA = makeUKI(t, dir, SlotA, b.rootHash, version)
	b.ukiB = makeUKI(t, dir, SlotB, b.rootHash, version)
	return b
}

func (b *build) pack(t *testing.T, s *signer, out string) *Manifest {
	t.Helper()
	var buf bytes.Buffer
	m, err := Pack(PackOptions{Squashfs: b.squashfs, Verity: b.verity, UKIA: b.ukiA, UKIB: b.ukiB, Key: s.key, Out: &buf})
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return m
}

// disk is a boot disk in a directory: slot partitions as fixed-size files,
// an ESP directory, the kernel command line and image release of the
// running system.
type disk struct {
	dir string
	sys *System
}

const partSize = 4 << 20

func newDisk(t *testing.T, s *signer) *disk {
	t.Helper()
	dir := t.TempDir()
	d := &disk{dir: dir, sys: &System{
		PartDir:  filepath.Join(dir, "by-partlabel"),
		ESP:      filepath.Join(dir, "efi"),
		Cmdline:  filepath.Join(dir, "cmdline"),
		Release:  filepath.Join(dir, "image-release"),
		Cert:     s.certPath,
		BlockDir: filepath.Join(dir, "sys-block"),
		DevDir:   filepath.Join(dir, "dev"),
	}}
	for _, p := range []string{d.sys.PartDir, filepath.Join(d.sys.ESP, entriesDir), d.sys.BlockDir, d.sys.DevDir} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"sr-root-a", "sr-verity-a", "sr-root-b", "sr-verity-b"} {
		f, err := os.Create(filepath.Join(d.sys.PartDir, name))
		if err != nil {
			t.Fatal(err)
		}
		size := int64(partSize)
		if strings.HasPrefix(name, "sr-verity") {
			size = 256 << 10
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return d
}

// install puts build b into slot as if the image had been built with it:
// partitions, a confirmed boot entry.
func (d *disk) install(t *testing.T, b *build, slot Slot) {
	t.Helper()
	for src, part := range map[string]string{b.squashfs: "sr-root-" + string(slot), b.verity: "sr-verity-" + string(slot)} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(filepath.Join(d.sys.PartDir, part), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	uki := b.ukiA
	if slot == SlotB {
		uki = b.ukiB
	}
	data, err := os.ReadFile(uki)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.sys.ESP, entriesDir, entryName(slot, -1)), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// boot makes the disk look like a system that booted build b from slot, the
// way systemd-boot does it: an entry with a counter is counted down first.
func (d *disk) boot(t *testing.T, b *build, slot Slot) {
	t.Helper()
	line := fmt.Sprintf("BOOT_IMAGE=x roothash=%s strongroom.slot=%s ro quiet\n", b.rootHash, slot)
	if err := os.WriteFile(d.sys.Cmdline, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	rel := fmt.Sprintf("IMAGE_VERSION=%s\nVERSION_ID=v%s\n", b.version, b.version)
	if err := os.WriteFile(d.sys.Release, []byte(rel), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(d.sys.ESP, entriesDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		s, left, done, ok := parseEntryName(de.Name())
		if !ok || s != slot || left <= 0 {
			continue
		}
		next := fmt.Sprintf("%s%s+%d-%d.efi", entryPrefix, s, left-1, done+1)
		if err := os.Rename(filepath.Join(dir, de.Name()), filepath.Join(dir, next)); err != nil {
			t.Fatal(err)
		}
	}
}

func (d *disk) entryFiles(t *testing.T) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(d.sys.ESP, entriesDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
