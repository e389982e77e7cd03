package osupdate

import (
	"archive/tar"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"
)

// Names of the files in a bundle, in the order they are stored.
const (
	fileManifest  = "manifest.json"
	fileSignature = "manifest.sig"
	fileUKIA      = "uki-a.efi"
	fileUKIB      = "uki-b.efi"
	fileRoot      = "root.squashfs"
	fileVerity    = "root.verity"
)

func ukiFile(s Slot) string {
	if s == SlotA {
		return fileUKIA
	}
	return fileUKIB
}

// manifestLimit bounds what is read of a manifest or signature.
const manifestLimit = 1 << 20

// Manifest describes a bundle. It is signed; every other file is checked
// against its size and SHA-256 here.
type Manifest struct {
	Format       int          `json:"format"`
	ImageVersion string       `json:"image_version"`
	Version      string       `json:"version"`
	RootHash     string       `json:"root_hash"`
	Files        []BundleFile `json:"files"`
}

// BundleFile is one payload file of a bundle.
type BundleFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func (m *Manifest) file(name string) (BundleFile, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return BundleFile{}, false
}

// PackOptions name the build outputs a bundle is made of.
type PackOptions struct {
	Squashfs, Verity string // root file system and its dm-verity hash device
	UKIA, UKIB       string // signed kernel images booting slot a and slot b
	Key              crypto.Signer
	Out              io.Writer
}

// Pack checks the build outputs against each other (the hash tree matches
// the root, both kernel images name that root hash and their own slot,
// both carry the same version) and writes a signed bundle.
func Pack(o PackOptions) (*Manifest, error) {
	root, err := os.Open(o.Squashfs)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	hashDev, err := os.Open(o.Verity)
	if err != nil {
		return nil, err
	}
	defer hashDev.Close()
	rootHash, err := VerifyVerity(root, hashDev, "", nil)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", o.Squashfs, o.Verity, err)
	}
	m := &Manifest{Format: 1, RootHash: rootHash}
	for _, s := range []struct {
		slot Slot
		path string
	}{{SlotA, o.UKIA}, {SlotB, o.UKIB}} {
		f, err := os.Open(s.path)
		if err != nil {
			return nil, err
		}
		k, err := ReadKernelImage(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		if m.ImageVersion == "" {
			m.ImageVersion, m.Version = k.OSRel["IMAGE_VERSION"], k.OSRel["VERSION_ID"]
			if !plainVersion(m.ImageVersion) {
				return nil, fmt.Errorf("%s: IMAGE_VERSION %q: want digits and dots only (systemd-boot and this appliance must order versions alike)", s.path, m.ImageVersion)
			}
		}
		if err := checkKernelImage(k, s.slot, rootHash, m.ImageVersion); err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
	}
	payload := []struct{ name, path string }{
		{fileUKIA, o.UKIA}, {fileUKIB, o.UKIB}, {fileRoot, o.Squashfs}, {fileVerity, o.Verity},
	}
	for _, p := range payload {
		sum, size, err := hashFile(p.path)
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, BundleFile{Name: p.name, Size: size, SHA256: sum})
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	sig, err := sign(o.Key, mj)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(o.Out)
	add := func(name string, size int64, r io.Reader) error {
		// Fixed metadata: the same inputs give the same bundle.
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: time.Unix(0, 0), Format: tar.FormatUSTAR, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := add(fileManifest, int64(len(mj)), bytes.NewReader(mj)); err != nil {
		return nil, err
	}
	if err := add(fileSignature, int64(len(sig)), bytes.NewReader(sig)); err != nil {
		return nil, err
	}
	for i, p := range payload {
		f, err := os.Open(p.path)
		if err != nil {
			return nil, err
		}
		err = add(p.name, m.Files[i].Size, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", p.name, err)
		}
	}
	return m, tw.Close()
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func sign(key crypto.Signer, msg []byte) ([]byte, error) {
	if _, ok := key.Public().(ed25519.PublicKey); ok {
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	d := sha256.Sum256(msg)
	return key.Sign(rand.Reader, d[:], crypto.SHA256)
}

func verify(cert *x509.Certificate, msg, sig []byte) error {
	d := sha256.Sum256(msg)
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, d[:], sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, msg, sig) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T in the update certificate", cert.PublicKey)
}

// LoadSigner reads a PEM private key (PKCS#8, PKCS#1 or SEC 1).
func LoadSigner(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%s: not an unencrypted PKCS#8, PKCS#1 or EC private key", path)
}

// LoadCertificate reads the PEM certificate bundles are checked against.
func LoadCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("update certificate: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// Bundle is an opened bundle whose manifest signature has been checked. Its
// payload is read once, in order, with Next.
type Bundle struct {
	Manifest Manifest
	src      io.ReadCloser
	tr       *tar.Reader
	next     int
}

// ErrNotBundle is returned for a file or device that does not start with a
// bundle.
var ErrNotBundle = errors.New("not a Strongroom update bundle")

// OpenBundle opens a bundle file or a device a bundle was written to, and
// checks its manifest's signature against cert.
func OpenBundle(path string, cert *x509.Certificate) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	b, err := readBundle(f, cert)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

func readBundle(src io.ReadCloser, cert *x509.Certificate) (*Bundle, error) {
	tr := tar.NewReader(src)
	read := func(name string) ([]byte, error) {
		hdr, err := tr.Next()
		if err != nil || hdr.Name != name {
			return nil, ErrNotBundle
		}
		if hdr.Size > manifestLimit {
			return nil, fmt.Errorf("%s of %d bytes is too large", name, hdr.Size)
		}
		return io.ReadAll(tr)
	}
	mj, err := read(fileManifest)
	if err != nil {
		return nil, err
	}
	sig, err := read(fileSignature)
	if err != nil {
		return nil, err
	}
	if err := verify(cert, mj, sig); err != nil {
		return nil, fmt.Errorf("the bundle is not signed by the update certificate (%v): it was not built for this appliance, or it was altered", err)
	}
	b := &Bundle{src: src, tr: tr}
	if err := json.Unmarshal(mj, &b.Manifest); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if b.Manifest.Format != 1 {
		return nil, fmt.Errorf("bundle format %d is not supported by this version (1)", b.Manifest.Format)
	}
	for _, name := range []string{fileUKIA, fileUKIB, fileRoot, fileVerity} {
		if _, ok := b.Manifest.file(name); !ok {
			return nil, fmt.Errorf("manifest lists no %s", name)
		}
	}
	return b, nil
}

// Next returns the next payload file and a reader of exactly its bytes.
// The reader's SHA-256 is checked against the manifest when it reaches the
// end: a mismatch is returned from its last Read.
func (b *Bundle) Next() (BundleFile, io.Reader, error) {
	if b.next >= len(b.Manifest.Files) {
		return BundleFile{}, nil, io.EOF
	}
	want := b.Manifest.Files[b.next]
	b.next++
	hdr, err := b.tr.Next()
	if err != nil {
		return want, nil, fmt.Errorf("bundle ends before %s: %w", want.Name, err)
	}
	if hdr.Name != want.Name || hdr.Size != want.Size {
		return want, nil, fmt.Errorf("bundle holds %s (%d bytes) where the manifest lists %s (%d bytes)", hdr.Name, hdr.Size, want.Name, want.Size)
	}
	return want, &checkedReader{r: b.tr, h: sha256.New(), want: want}, nil
}

// Close closes the underlying file.
func (b *Bundle) Close() error { return b.src.Close() }

// errPayload marks a payload file that does not match the signed manifest.
var errPayload = errors.New("payload does not match the signed manifest")

// checkBundle reads a whole bundle and checks every payload file against
// its signed manifest, writing nothing.
func checkBundle(path string, cert *x509.Certificate, progress func(Progress)) error {
	b, err := OpenBundle(path, cert)
	if err != nil {
		return err
	}
	defer b.Close()
	var total, done int64
	for _, f := range b.Manifest.Files {
		total += f.Size
	}
	for {
		f, r, err := b.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: the bundle is incomplete or damaged: %w; nothing was changed", path, err)
		}
		if _, err := io.Copy(io.Discard, io.TeeReader(r, progressWriter(func(n int64) {
			done += n
			progress(Progress{Step: "checking the bundle's contents", Done: done, Total: total})
		}))); err != nil {
			return fmt.Errorf("%s: %s: %w; nothing was changed (an incomplete or damaged copy?)", path, f.Name, err)
		}
	}
}

type progressWriter func(int64)

func (p progressWriter) Write(b []byte) (int, error) { p(int64(len(b))); return len(b), nil }

type checkedReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want BundleFile
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if err == io.EOF {
		if c.n != c.want.Size {
			return n, fmt.Errorf("%s: %d bytes, the manifest says %d: %w", c.want.Name, c.n, c.want.Size, errPayload)
		}
		if got := hex.EncodeToString(c.h.Sum(nil)); got != c.want.SHA256 {
			return n, fmt.Errorf("%s is damaged: SHA-256 %s, the signed manifest says %s: %w", c.want.Name, got, c.want.SHA256, errPayload)
		}
	}
	return n, err
}

// plainVersion reports whether v is made of digits and dots only, the
// versions on which compareVersions and systemd-boot agree.
func plainVersion(v string) bool {
	if v == "" || v[0] == '.' || v[len(v)-1] == '.' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) && v[i] != '.' {
			return false
		}
	}
	return true
}
