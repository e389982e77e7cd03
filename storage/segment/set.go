package segment

import (
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// ErrUnrecoverable means fewer than K good shards remain for some part of a
// segment, so its bytes cannot be rebuilt.
var ErrUnrecoverable = errors.New("fewer good shards than the layout needs")

// Encode splits payload into k data shards and computes m parity shards.
// All returned shards have the same length.
func Encode(k, m int, payload []byte) ([][]byte, error) {
	enc, err := reedsolomon.New(k, m)
	if err != nil {
		return nil, fmt.Errorf("erasure layout %d+%d: %w", k, m, err)
	}
	if len(payload) == 0 {
		payload = []byte{0}
	}
	shards, err := enc.Split(payload)
	if err != nil {
		return nil, fmt.Errorf("split payload: %w", err)
	}
	if err := enc.Encode(shards); err != nil {
		return nil, fmt.Errorf("encode parity: %w", err)
	}
	return shards, nil
}

// Set is the shards of one segment opened together. Shards[i] is nil when
// shard i could not be opened; OpenErrs[i] then says why. A Set is safe for
// concurrent reads.
type Set struct {
	Header   Header
	Shards   []*Shard
	OpenErrs []error
	enc      reedsolomon.Encoder
	bufs     sync.Pool
}

// OpenSet opens the shard files of one segment; paths[i] is where shard i
// lives ("" when its disk is gone). Shards that are missing, damaged or that
// belong to another segment are left out and reported in OpenErrs. OpenSet
// fails only when fewer than K shards open.
func OpenSet(segment uint64, paths []string) (*Set, error) {
	s := &Set{Shards: make([]*Shard, len(paths)), OpenErrs: make([]error, len(paths))}
	good := 0
	var ref *Header
	for i, p := range paths {
		if p == "" {
			s.OpenErrs[i] = fmt.Errorf("shard %d: disk missing", i)
			continue
		}
		sh, err := OpenShard(p)
		if err != nil {
			var ce *CorruptError
			if errors.As(err, &ce) {
				ce.Segment, ce.Shard = segment, i
			}
			s.OpenErrs[i] = err
			continue
		}
		h := sh.Header
		if h.Segment != segment || int(h.Index) != i || int(h.K)+int(h.M) != len(paths) ||
			(ref != nil && (h.K != ref.K || h.M != ref.M || h.ShardLen != ref.ShardLen || h.PayloadLen != ref.PayloadLen || h.VaultID != ref.VaultID)) {
			sh.Close()
			s.OpenErrs[i] = &CorruptError{Path: p, Segment: segment, Shard: i, Block: -1,
				Reason: fmt.Sprintf("header names segment %d shard %d of %d+%d, which does not fit here", h.Segment, h.Index, h.K, h.M)}
			continue
		}
		if ref == nil {
			hh := h
			ref = &hh
		}
		s.Shards[i] = sh
		good++
	}
	if ref == nil || good < int(ref.K) {
		s.Close()
		return nil, fmt.Errorf("segment %d: %d of %d shards readable: %w", segment, good, len(paths), ErrUnrecoverable)
	}
	s.Header = *ref
	enc, err := reedsolomon.New(int(ref.K), int(ref.M))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("segment %d: %w", segment, err)
	}
	s.enc = enc
	s.bufs.New = func() any { b := make([]byte, BlockSize+sumSize); return &b }
	return s, nil
}

// Close closes every open shard.
func (s *Set) Close() error {
	for _, sh := range s.Shards {
		if sh != nil {
			sh.Close()
		}
	}
	return nil
}

// Degraded reports whether any shard is missing or failed to open.
func (s *Set) Degraded() bool {
	for _, sh := range s.Shards {
		if sh == nil {
			return true
		}
	}
	return false
}

// ReadAt reads payload bytes [off, off+len(p)). Blocks that are missing or
// fail their checksum are rebuilt from the other shards; degraded reports
// whether that happened.
func (s *Set) ReadAt(p []byte, off int64) (degraded bool, err error) {
	h := s.Header
	if off < 0 || uint64(off)+uint64(len(p)) > h.PayloadLen {
		return false, fmt.Errorf("segment %d: read [%d,+%d) beyond payload of %d bytes", h.Segment, off, len(p), h.PayloadLen)
	}
	for len(p) > 0 {
		j := int(uint64(off) / h.ShardLen)
		q := uint64(off) % h.ShardLen
		b := int(q / BlockSize)
		inBlock := int(q % BlockSize)
		bp := s.bufs.Get().(*[]byte)
		data, err := s.Shards[j].readBlockOrNil(b, *bp)
		if err != nil {
			degraded = true
			blocks, rerr := s.stripe(b, false)
			if rerr != nil {
				s.bufs.Put(bp)
				return true, rerr
			}
			data = blocks[j]
		}
		n := copy(p, data[inBlock:])
		s.bufs.Put(bp)
		p = p[n:]
		off += int64(n)
	}
	return degraded, nil
}

// readBlockOrNil reads a block from a shard that may be nil.
func (sh *Shard) readBlockOrNil(b int, buf []byte) ([]byte, error) {
	if sh == nil {
		return nil, errors.New("shard missing")
	}
	return sh.ReadBlock(b, buf)
}

// stripe reads block b of every shard and rebuilds the missing ones: data
// shards only, or all shards when parity is true. The returned slices are
// freshly allocated.
func (s *Set) stripe(b int, parity bool) ([][]byte, error) {
	h := s.Header
	blocks := make([][]byte, len(s.Shards))
	good := 0
	for i, sh := range s.Shards {
		if sh == nil {
			continue
		}
		if good == int(h.K) {
			break // K good blocks are all the rebuild needs
		}
		buf := make([]byte, BlockSize+sumSize)
		data, err := sh.ReadBlock(b, buf)
		if err != nil {
			continue
		}
		blocks[i] = data
		good++
	}
	if good < int(h.K) {
		return nil, fmt.Errorf("segment %d block %d: %d good shards, need %d: %w", h.Segment, b, good, h.K, ErrUnrecoverable)
	}
	var err error
	if parity {
		err = s.enc.Reconstruct(blocks)
	} else {
		err = s.enc.ReconstructData(blocks)
	}
	if err != nil {
		return nil, fmt.Errorf("segment %d block %d: rebuild: %w", h.Segment, b, err)
	}
	return blocks, nil
}

// ShardState is what Verify found about one shard.
type ShardState struct {
	Index int
	Path  string
	Err   error // nil when every block checked out
	Bad   int   // number of bad blocks (all blocks when the shard is missing)
}

// Verify reads every block of every shard and checks its checksum. Shards
// are read in parallel, one goroutine each, as they live on separate disks.
func (s *Set) Verify() []ShardState {
	h := s.Header
	states := make([]ShardState, len(s.Shards))
	// One worker per device: shards on separate disks are read in
	// parallel; shards that share a device (directories on one disk, as in
	// tests and small setups) are read one after another, which is faster
	// than making one disk serve several streams at once.
	byDev := map[uint64][]int{}
	for i, sh := range s.Shards {
		states[i].Index = i
		if sh == nil {
			states[i].Err, states[i].Bad = s.OpenErrs[i], h.Blocks()
			if ce := (*CorruptError)(nil); errors.As(s.OpenErrs[i], &ce) {
				states[i].Path = ce.Path
			}
			continue
		}
		states[i].Path = sh.Path
		byDev[sh.dev] = append(byDev[sh.dev], i)
	}
	var wg sync.WaitGroup
	for _, idx := range byDev {
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			buf := make([]byte, runBlocks*(BlockSize+sumSize))
			for _, i := range idx {
				s.verifyShard(&states[i], s.Shards[i], buf)
			}
		}(idx)
	}
	wg.Wait()
	return states
}

// verifyShard reads every block of one shard and records what is bad.
func (s *Set) verifyShard(st *ShardState, sh *Shard, buf []byte) {
	h := s.Header
	// One reused destination: a fresh one per run costs more than the
	// reading (allocation, zeroing, garbage collection).
	scratch := make([]byte, 0, runBlocks*BlockSize)
	for b := 0; b < h.Blocks(); b += runBlocks {
		n := min(runBlocks, h.Blocks()-b)
		var err error
		if scratch, err = sh.readRun(b, n, buf, scratch[:0]); err == nil {
			continue
		}
		// Something in this run is bad: count the bad blocks.
		for bb := b; bb < b+n; bb++ {
			if _, err := sh.ReadBlock(bb, buf); err != nil {
				if st.Err == nil {
					st.Err = err
				}
				st.Bad++
			}
		}
	}
	if st.Err == nil && sh.size != h.FileSize() {
		st.Err = &CorruptError{Path: sh.Path, Segment: h.Segment, Shard: st.Index, Block: -1,
			Reason: fmt.Sprintf("file is %d bytes, header says %d", sh.size, h.FileSize())}
		st.Bad = 1
	}
}

// runBlocks is how many blocks scrub and rebuild read per call (1 MiB).
const runBlocks = 16

// run reads blocks [b0, b0+n) of K shards that are not targets and whose
// blocks in the run are all good, for a rebuild of the run in one
// Reed-Solomon call; ok is false when fewer than K such shards exist.
// scratch holds one reusable buffer per shard (allocated on first use); the
// returned slices point into it and are valid until the next call. Targets
// get an empty slice with room for the run, which Reconstruct fills.
func (s *Set) run(b0, n int, buf []byte, targets []int, scratch [][]byte) (shards [][]byte, ok bool) {
	shards = make([][]byte, len(s.Shards))
	for i := range scratch {
		if scratch[i] == nil {
			scratch[i] = make([]byte, 0, runBlocks*BlockSize)
		}
	}
	for _, t := range targets {
		shards[t] = scratch[t][:0]
	}
	good := 0
	for i, sh := range s.Shards {
		if sh == nil || containsIndex(targets, i) {
			continue
		}
		data, err := sh.readRun(b0, n, buf, scratch[i][:0])
		if err != nil {
			continue
		}
		shards[i] = data
		if good++; good == int(s.Header.K) {
			return shards, true
		}
	}
	return nil, false
}

func containsIndex(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Rebuild recreates the shards listed in targets from the others and writes
// each with write (usually WriteShard to the right disk). The whole shard is
// assembled in memory: at most the segment size divided by K.
func (s *Set) Rebuild(targets []int, write func(index int, h Header, data []byte) error) error {
	h := s.Header
	out := make(map[int][]byte, len(targets))
	for _, t := range targets {
		out[t] = make([]byte, 0, h.ShardLen)
	}
	buf := make([]byte, runBlocks*(BlockSize+sumSize))
	scratch := make([][]byte, len(s.Shards))
	for b := 0; b < h.Blocks(); b += runBlocks {
		n := min(runBlocks, h.Blocks()-b)
		shards, ok := s.run(b, n, buf, targets, scratch)
		if !ok {
			// Damage inside the run: rebuild it block by block, which
			// uses every good block of every shard.
			for bb := b; bb < b+n; bb++ {
				blocks, err := s.stripe(bb, true)
				if err != nil {
					return err
				}
				for _, t := range targets {
					out[t] = append(out[t], blocks[t]...)
				}
			}
			continue
		}
		if err := s.enc.Reconstruct(shards); err != nil {
			return fmt.Errorf("segment %d blocks %d-%d: rebuild: %w", h.Segment, b, b+n-1, err)
		}
		for _, t := range targets {
			out[t] = append(out[t], shards[t]...)
		}
	}
	for _, t := range targets {
		hh := h
		hh.Index = uint8(t)
		if err := write(t, hh, out[t]); err != nil {
			return err
		}
	}
	return nil
}
