package tenantsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
)

// Large files without the memory: a sparse content is made on demand from
// a seed, zeros but for a block of pseudo-random bytes at the start of
// every stride (as a sparse disk image or database file looks), so the
// simulator can serve a file of gigabytes, with its hashes computed in one
// streamed pass, while holding none of it. An upload larger than
// keptUploadMax is hashed as it arrives and not kept; when its size and
// SHA-256 are those of a sparse content the simulator made, the new
// version serves that content, so a large restore can be checked; any
// other one keeps only its size and hashes and cannot be downloaded.

const (
	sparseStride = 64 << 20
	sparseData   = 64 << 10
	// keptUploadMax is the largest upload whose bytes the simulator
	// keeps.
	keptUploadMax = 64 << 20
)

// sparseContent is the content of size bytes made from seed.
type sparseContent struct {
	size int64
	seed uint64
}

// ReadAt implements io.ReaderAt.
func (c *sparseContent) ReadAt(p []byte, off int64) (int, error) {
	if off >= c.size {
		return 0, io.EOF
	}
	n := len(p)
	if rest := c.size - off; int64(n) > rest {
		n = int(rest)
	}
	var block []byte
	blockNo := int64(-1)
	for i := 0; i < n; {
		pos := off + int64(i)
		in := pos % sparseStride
		if in >= sparseData {
			// Zeros up to the next stride or the end of p.
			z := min(int64(n-i), sparseStride-in)
			clear(p[i : i+int(z)])
			i += int(z)
			continue
		}
		if b := pos / sparseStride; b != blockNo {
			block, blockNo = c.block(b), b
		}
		i += copy(p[i:n], block[in:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// block is the data at the start of stride b.
func (c *sparseContent) block(b int64) []byte {
	r := rand.New(rand.NewPCG(c.seed, uint64(b)))
	out := make([]byte, sparseData)
	for i := 0; i < len(out); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			out[i+j] = byte(v >> (8 * j))
		}
	}
	return out
}

// streamHash computes a version's SHA-256 and QuickXorHash as its bytes
// go by.
type streamHash struct {
	sha hash.Hash
	qx  *quickXor
	n   int64
}

func newStreamHash() *streamHash { return &streamHash{sha: sha256.New(), qx: newQuickXor()} }

func (h *streamHash) Write(p []byte) (int, error) {
	h.sha.Write(p)
	h.qx.Write(p)
	h.n += int64(len(p))
	return len(p), nil
}

// sums returns the SHA-256 (upper-case hex) and QuickXorHash (base64).
func (h *streamHash) sums() (string, string) {
	return strings.ToUpper(hex.EncodeToString(h.sha.Sum(nil))), base64.StdEncoding.EncodeToString(h.qx.Sum(nil))
}

// setHashes records hashes computed elsewhere as the version's.
func (v *fileVersion) setHashes(sha, qx string) {
	v.hashOnce.Do(func() { v.sha256, v.quickXor = sha, qx })
}

// reader streams the version's content, nil for an upload not kept.
func (v *fileVersion) reader() io.ReadSeeker {
	switch {
	case v.sparse != nil:
		return io.NewSectionReader(v.sparse, 0, v.sparse.size)
	case v.dropped:
		return nil
	}
	return bytes.NewReader(v.content())
}

// SparseFile describes a file AddSparseFile made, or a file FileInfo
// reads.
type SparseFile struct {
	ID       string `json:"id"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	QuickXor string `json:"quickXorHash"`
	Versions int    `json:"versions"`
}

// AddSparseFile adds a file name of size bytes of sparse content made
// from seed to the root of a drive (id, or its owner's id or UPN). Its
// hashes are computed here, in one pass that holds a few blocks.
func (s *Sim) AddSparseFile(driveKey, name string, size int64, seed uint64) (SparseFile, error) {
	c := &sparseContent{size: size, seed: seed}
	h := newStreamHash()
	if _, err := io.Copy(h, io.NewSectionReader(c, 0, size)); err != nil {
		return SparseFile{}, err
	}
	sha, qx := h.sums()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.driveByKey(driveKey)
	if d == nil {
		return SparseFile{}, fmt.Errorf("add sparse file: no drive %q", driveKey)
	}
	seq := s.nextSeq()
	v := &fileVersion{id: "1.0", size: int(size), sparse: c, ct: "application/octet-stream", modified: s.logicalNow(seq), seq: seq}
	v.setHashes(sha, qx)
	it := &driveItem{id: itemID("01SPARSE", d.id, seq), name: name, created: v.modified, versions: []*fileVersion{v}}
	s.addDriveItem(d, d.items[d.rootID], it)
	if s.sparse == nil {
		s.sparse = map[string]*sparseContent{}
	}
	s.sparse[sha] = c
	return SparseFile{ID: it.id, Size: size, SHA256: sha, QuickXor: qx, Versions: 1}, nil
}

// FileInfo returns the size, hashes and number of versions of the file
// at path (from the root, "A/b.bin") of a drive, without its content.
func (s *Sim) FileInfo(driveKey, path string) (SparseFile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.driveByKey(driveKey)
	if d == nil {
		return SparseFile{}, fmt.Errorf("file info: no drive %q", driveKey)
	}
	for _, it := range d.items {
		if !it.folder && d.itemPath(it) == path {
			v := it.current()
			sha, qx := v.hashes()
			return SparseFile{ID: it.id, Size: int64(v.size), SHA256: sha, QuickXor: qx, Versions: len(it.versions)}, nil
		}
	}
	return SparseFile{}, fmt.Errorf("file info: no file %q in drive %s", path, d.id)
}

// driveByKey finds a live drive by id or by its owner's id or UPN. The
// caller holds s.mu.
func (s *Sim) driveByKey(key string) *drive {
	d := s.drives[key]
	if d == nil {
		if u, gerr := s.lookupUser(key); gerr == nil {
			d = u.drive
		}
	}
	if d == nil || d.deleted {
		return nil
	}
	return d
}

// largeVersion is the version a large upload with these hashes becomes:
// the sparse content of those hashes when the simulator made it, else a
// version that keeps only its size and hashes. The caller holds s.mu.
func (s *Sim) largeVersion(h *streamHash) *fileVersion {
	sha, qx := h.sums()
	v := &fileVersion{size: int(h.n), sparse: s.sparse[sha], dropped: s.sparse[sha] == nil}
	if v.sparse != nil && v.sparse.size != h.n {
		v.sparse, v.dropped = nil, true
	}
	v.setHashes(sha, qx)
	return v
}

// errNotKept answers a download of a large upload the simulator did not
// keep.
var errNotKept = errf(http.StatusNotImplemented, "notSupported", "The simulator keeps no content of uploads over 64 MiB except sparse content it made itself.")
