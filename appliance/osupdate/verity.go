package osupdate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// VeritySuperblock is the header veritysetup writes at the start of a hash
// device (format version 1).
type VeritySuperblock struct {
	HashType      uint32
	Algorithm     string
	DataBlockSize uint32
	HashBlockSize uint32
	DataBlocks    uint64
	Salt          []byte
}

const veritySuperblockSize = 512

// ReadVeritySuperblock reads and checks the superblock at offset 0 of r.
// Only what this appliance writes is accepted: hash type 1, sha256, 4 KiB
// blocks.
func ReadVeritySuperblock(r io.ReaderAt) (*VeritySuperblock, error) {
	var b [veritySuperblockSize]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return nil, fmt.Errorf("read dm-verity superblock: %w", err)
	}
	if !bytes.Equal(b[0:8], []byte("verity\x00\x00")) {
		return nil, errors.New("no dm-verity superblock (the hash tree is missing or was not written by veritysetup)")
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[8:]); v != 1 {
		return nil, fmt.Errorf("dm-verity superblock version %d, want 1", v)
	}
	sb := &VeritySuperblock{
		HashType:      le.Uint32(b[12:]),
		Algorithm:     string(bytes.TrimRight(b[32:64], "\x00")),
		DataBlockSize: le.Uint32(b[64:]),
		HashBlockSize: le.Uint32(b[68:]),
		DataBlocks:    le.Uint64(b[72:]),
	}
	saltSize := le.Uint16(b[80:])
	if saltSize > 256 {
		return nil, fmt.Errorf("dm-verity salt of %d bytes", saltSize)
	}
	sb.Salt = append([]byte(nil), b[88:88+int(saltSize)]...)
	switch {
	case sb.HashType != 1:
		return nil, fmt.Errorf("dm-verity hash type %d, want 1", sb.HashType)
	case sb.Algorithm != "sha256":
		return nil, fmt.Errorf("dm-verity algorithm %q, want sha256", sb.Algorithm)
	case sb.DataBlockSize != 4096 || sb.HashBlockSize != 4096:
		return nil, fmt.Errorf("dm-verity block sizes %d/%d, want 4096/4096", sb.DataBlockSize, sb.HashBlockSize)
	case sb.DataBlocks == 0:
		return nil, errors.New("dm-verity superblock covers no data blocks")
	}
	return sb, nil
}

// DataSize is the number of bytes of the data device the tree covers.
func (sb *VeritySuperblock) DataSize() int64 {
	return int64(sb.DataBlocks) * int64(sb.DataBlockSize)
}

// verityTree holds the hash tree as dm-verity lays it out: levels[0] hashes
// the data blocks, the last level is a single block whose hash is the root
// (with a single data block there are no levels: its hash is the root).
type verityTree struct {
	levels [][]byte
	root   []byte
}

// computeVerity hashes dataBlocks blocks read from data into a dm-verity
// tree (hash type 1: sha256(salt || block), 4 KiB blocks, hashes padded to
// whole blocks with zeros). progress, if not nil, gets the bytes read.
func computeVerity(data io.Reader, sb *VeritySuperblock, progress func(int64)) (*verityTree, error) {
	bs := int(sb.DataBlockSize)
	perBlock := int(sb.HashBlockSize) / sha256.Size
	h := sha256.New()
	sum := func(block []byte) []byte {
		h.Reset()
		h.Write(sb.Salt)
		h.Write(block)
		return h.Sum(nil)
	}
	br := bufio.NewReaderSize(data, 1<<20)
	buf := make([]byte, bs)
	level := make([]byte, 0, int(sb.DataBlocks)*sha256.Size)
	for i := uint64(0); i < sb.DataBlocks; i++ {
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("read data block %d of %d: %w", i, sb.DataBlocks, err)
		}
		level = append(level, sum(buf)...)
		if progress != nil && i%256 == 255 {
			progress(256 * int64(bs))
		}
	}
	if progress != nil {
		progress(int64(sb.DataBlocks%256) * int64(bs))
	}
	pad := func(hashes []byte) []byte {
		n := (len(hashes)/sha256.Size + perBlock - 1) / perBlock
		out := make([]byte, n*int(sb.HashBlockSize))
		copy(out, hashes)
		return out
	}
	t := &verityTree{}
	// A single hash is the root (one data block has no tree at all).
	for len(level) > sha256.Size {
		blocks := pad(level)
		t.levels = append(t.levels, blocks)
		next := make([]byte, 0, len(blocks)/int(sb.HashBlockSize)*sha256.Size)
		for off := 0; off < len(blocks); off += int(sb.HashBlockSize) {
			next = append(next, sum(blocks[off:off+int(sb.HashBlockSize)])...)
		}
		level = next
	}
	t.root = level
	return t, nil
}

// matches reports whether the hash device hash holds this tree where the
// kernel looks for it: after the superblock's block, the top level first,
// the data blocks' hashes last.
func (t *verityTree) matches(hash io.ReaderAt, sb *VeritySuperblock) error {
	off := int64(sb.HashBlockSize)
	for i := len(t.levels) - 1; i >= 0; i-- {
		want := t.levels[i]
		got := make([]byte, len(want))
		if _, err := hash.ReadAt(got, off); err != nil {
			return fmt.Errorf("read hash tree level %d: %w", i, err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("hash tree level %d does not match the data", i)
		}
		off += int64(len(want))
	}
	return nil
}

// VerifyVerity recomputes the dm-verity tree of data against the hash
// device hash and returns the root hash (hex). It fails when the stored
// tree differs from the data, or when wantRoot is not empty and differs.
func VerifyVerity(data io.Reader, hash io.ReaderAt, wantRoot string, progress func(int64)) (string, error) {
	sb, err := ReadVeritySuperblock(hash)
	if err != nil {
		return "", err
	}
	t, err := computeVerity(data, sb, progress)
	if err != nil {
		return "", err
	}
	if err := t.matches(hash, sb); err != nil {
		return "", err
	}
	root := hex.EncodeToString(t.root)
	if wantRoot != "" && root != wantRoot {
		return root, fmt.Errorf("dm-verity root hash %s, want %s", root, wantRoot)
	}
	return root, nil
}
