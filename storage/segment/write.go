package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/klauspost/reedsolomon"
	"golang.org/x/sys/unix"
)

// stripeBlocks is how many blocks of every shard are coded and written
// together: parity for one stripe is computed into small buffers, so no
// whole parity shard is ever held in memory, and each stripe of a shard
// goes to its file in one writev call straight from the payload.
const stripeBlocks = 16

// parityBufs holds stripe buffers for parity shards.
var parityBufs = sync.Pool{New: func() any { b := make([]byte, stripeBlocks*BlockSize); return &b }}

// shardFile is one shard being written to its temporary name.
type shardFile struct {
	path, tmp string
	f         *os.File
	h         Header
	iov       [][]byte
	sums      []byte
}

// createShardFile creates tmp (path+".tmp" when empty), which must not
// exist, and writes h into it.
func createShardFile(path, tmp string, h Header) (*shardFile, error) {
	if tmp == "" {
		tmp = path + ".tmp"
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL, 0o444)
	if err != nil {
		return nil, fmt.Errorf("write shard: %w", err)
	}
	s := &shardFile{path: path, tmp: tmp, f: f, h: h}
	if err := s.writev([][]byte{h.Marshal()}); err != nil {
		s.abort()
		return nil, err
	}
	return s, nil
}

// writeBlocks appends data, the shard's blocks from block b on (whole
// blocks, except that the shard's last block may be short), each followed
// by its CRC-32C.
func (s *shardFile) writeBlocks(b int, data []byte) error {
	for len(data) > 0 {
		n := min(len(data), stripeBlocks*BlockSize)
		s.iov, s.sums = s.iov[:0], s.sums[:0]
		for off := 0; off < n; off += BlockSize {
			blk := data[off:min(off+BlockSize, n)]
			if len(blk) != s.h.blockLen(b) {
				return fmt.Errorf("write shard %s: block %d of %d bytes, header says %d", s.tmp, b, len(blk), s.h.blockLen(b))
			}
			s.sums = binary.LittleEndian.AppendUint32(s.sums, crc32.Checksum(blk, castagnoli))
			b++
		}
		for i, off := 0, 0; off < n; i, off = i+1, off+BlockSize {
			s.iov = append(s.iov, data[off:min(off+BlockSize, n)], s.sums[i*sumSize:(i+1)*sumSize])
		}
		if err := s.writev(s.iov); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// writev writes every byte of iov, continuing after short writes.
func (s *shardFile) writev(iov [][]byte) error {
	fd := int(s.f.Fd())
	for len(iov) > 0 {
		n, err := unix.Writev(fd, iov)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write shard %s: %w", s.tmp, err)
		}
		if n == 0 {
			return fmt.Errorf("write shard %s: %w", s.tmp, io.ErrShortWrite)
		}
		for n > 0 {
			if n < len(iov[0]) {
				iov[0] = iov[0][n:]
				break
			}
			n -= len(iov[0])
			iov = iov[1:]
		}
		for len(iov) > 0 && len(iov[0]) == 0 {
			iov = iov[1:]
		}
	}
	return nil
}

// commit syncs the file, closes it and renames it into place. The caller
// syncs the directories.
func (s *shardFile) commit() error {
	if err := s.f.Sync(); err != nil {
		s.abort()
		return fmt.Errorf("sync shard %s: %w", s.tmp, err)
	}
	if err := s.f.Close(); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("close shard %s: %w", s.tmp, err)
	}
	if err := os.Rename(s.tmp, s.path); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("write shard: %w", err)
	}
	return nil
}

// abort closes and removes the temporary file.
func (s *shardFile) abort() {
	s.f.Close()
	os.Remove(s.tmp)
}

// WriteShard writes one complete shard file: to tmp first (path+".tmp"
// when tmp is empty; another directory of the same filesystem when path's
// directory is append-only), then fsync and rename. The caller syncs the
// directories.
func WriteShard(path, tmp string, h Header, data []byte) error {
	if uint64(len(data)) != h.ShardLen {
		return fmt.Errorf("write shard %s: %d bytes of data, header says %d", path, len(data), h.ShardLen)
	}
	s, err := createShardFile(path, tmp, h)
	if err != nil {
		return err
	}
	if err := s.writeBlocks(0, data); err != nil {
		s.abort()
		return err
	}
	return s.commit()
}

// ShardTarget names where one shard of a segment goes: its final path, the
// temporary name it is written under (path+".tmp" when empty) and its
// header. Header.ShardLen and PayloadLen are filled in by WriteShards.
type ShardTarget struct {
	Path, Tmp string
	Header    Header
}

// ShardLen is the length of each of the k shards of a payload of n bytes.
func ShardLen(k, n int) int {
	return (max(n, 1) + k - 1) / k
}

// WriteShards erasure-codes payload into len(targets)-k parity shards and
// writes all k+m shard files to their temporary names; Sync on the result
// then makes them durable and renames them into place. Once WriteShards
// returns, payload is no longer used and its buffer may be reused, while
// the syncs, which wait for the disks, are still to come. The shards are
// those Encode returns, but payload is padded with zeros in its own spare
// capacity (it may grow) and parity is computed a stripe at a time, so the
// memory needed beyond the payload is a few MiB whatever the segment size.
//
// It returns one error per target, naming the shard that failed; when any
// is not nil, every temporary file is removed and nothing was renamed.
func WriteShards(k int, payload []byte, targets []ShardTarget) (*ShardFiles, []error) {
	errs := make([]error, len(targets))
	enc, err := reedsolomon.New(k, len(targets)-k)
	if err != nil {
		errs[0] = fmt.Errorf("erasure layout %d+%d: %w", k, len(targets)-k, err)
		return nil, errs
	}
	plen, l := len(payload), ShardLen(k, len(payload))
	for len(payload) < k*l {
		payload = append(payload, 0)
	}
	files := make([]*shardFile, len(targets))
	for i, t := range targets {
		h := t.Header
		h.PayloadLen, h.ShardLen = uint64(plen), uint64(l)
		if files[i], errs[i] = createShardFile(t.Path, t.Tmp, h); errs[i] != nil {
			return nil, abortAll(files, errs)
		}
	}
	if i, err := writeStripes(enc, k, l, payload, files); err != nil {
		errs[i] = err
		return nil, abortAll(files, errs)
	}
	return &ShardFiles{files: files}, nil
}

// ShardFiles are the shard files of one segment, written by WriteShards
// under their temporary names.
type ShardFiles struct {
	files []*shardFile
}

// Sync syncs every file in parallel, closes it and renames it into place.
// It returns one error per shard; when any is not nil the segment is not
// written and the caller removes whatever did reach its final path. The
// caller syncs the directories.
func (s *ShardFiles) Sync() []error {
	errs := make([]error, len(s.files))
	var wg sync.WaitGroup
	for i, f := range s.files {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f.commit() }()
	}
	wg.Wait()
	return errs
}

// writeStripes writes the data shards straight from payload (k shards of l
// bytes) and the parity shards from per-stripe buffers, stripe by stripe.
// On failure it returns the index of the shard it was writing.
func writeStripes(enc reedsolomon.Encoder, k, l int, payload []byte, files []*shardFile) (int, error) {
	const stripe = stripeBlocks * BlockSize
	parity := make([][]byte, len(files)-k)
	for j := range parity {
		p := parityBufs.Get().(*[]byte)
		defer parityBufs.Put(p)
		parity[j] = *p
	}
	shards := make([][]byte, len(files))
	for off, b := 0, 0; off < l; off, b = off+stripe, b+stripeBlocks {
		n := min(stripe, l-off)
		for i := range k {
			shards[i] = payload[i*l+off : i*l+off+n]
		}
		for j := range parity {
			shards[k+j] = parity[j][:n]
		}
		if err := enc.Encode(shards); err != nil {
			return 0, fmt.Errorf("encode parity: %w", err)
		}
		for i, s := range files {
			if err := s.writeBlocks(b, shards[i]); err != nil {
				return i, err
			}
		}
	}
	return 0, nil
}

func abortAll(files []*shardFile, errs []error) []error {
	for _, s := range files {
		if s != nil {
			s.abort()
		}
	}
	return errs
}
