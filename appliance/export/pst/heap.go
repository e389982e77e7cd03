package pst

import (
	"encoding/binary"
	"sort"
)

// Heap client signatures ([MS-PST] 2.3.1.2).
const (
	sigTC  = 0x7C
	sigBTH = 0xB5
	sigPC  = 0xBC
)

// maxHeapAlloc is the largest allocation a heap holds; larger values go
// to subnodes.
const maxHeapAlloc = 3580

// heap builds a heap-on-node: allocations packed into blocks of at most
// one data block each, every block ending in its page map.
type heap struct {
	client byte
	root   uint32
	blocks []heapBlock
}

type heapBlock struct {
	data   []byte
	allocs []int // start offsets of the allocations
}

func newHeap(client byte) *heap {
	h := &heap{client: client}
	h.newBlock()
	return h
}

// headerSize is the size of block i's header: HNHDR in the first block,
// HNBITMAPHDR in blocks 8, 136, 264, ..., HNPAGEHDR elsewhere.
func headerSize(i int) int {
	switch {
	case i == 0:
		return 12
	case i%128 == 8:
		return 66
	}
	return 2
}

func (h *heap) newBlock() {
	h.blocks = append(h.blocks, heapBlock{data: make([]byte, headerSize(len(h.blocks)))})
}

// alloc stores p and returns its HID.
func (h *heap) alloc(p []byte) uint32 {
	b := &h.blocks[len(h.blocks)-1]
	// room for the allocation, 2-byte alignment and the page map
	// (cAlloc, cFree and one offset more than allocations)
	need := len(b.data) + len(p) + 1 + 4 + 2*(len(b.allocs)+2)
	if need > maxBlockData && len(b.allocs) > 0 {
		h.newBlock()
		b = &h.blocks[len(h.blocks)-1]
	}
	b.allocs = append(b.allocs, len(b.data))
	b.data = append(b.data, p...)
	return uint32(len(h.blocks)-1)<<16 | uint32(len(b.allocs))<<5
}

// chunks finishes the heap and returns its blocks' bytes.
func (h *heap) chunks() [][]byte {
	out := make([][]byte, len(h.blocks))
	levels := make([]byte, len(h.blocks))
	for i := range h.blocks {
		b := &h.blocks[i]
		end := len(b.data)
		if end%2 == 1 {
			b.data = append(b.data, 0)
		}
		ibHnpm := len(b.data)
		m := make([]byte, 4+2*(len(b.allocs)+1))
		binary.LittleEndian.PutUint16(m[0:], uint16(len(b.allocs)))
		for j, a := range b.allocs {
			binary.LittleEndian.PutUint16(m[4+2*j:], uint16(a))
		}
		binary.LittleEndian.PutUint16(m[4+2*len(b.allocs):], uint16(end))
		b.data = append(b.data, m...)
		binary.LittleEndian.PutUint16(b.data[0:], uint16(ibHnpm))
		levels[i] = fillLevel(maxBlockData - len(b.data))
		out[i] = b.data
	}
	first := out[0]
	first[2], first[3] = 0xEC, h.client
	binary.LittleEndian.PutUint32(first[4:], h.root)
	putLevels(first[8:12], levels, 0, 8)
	for i := 8; i < len(out); i += 128 {
		putLevels(out[i][2:66], levels, i, 128)
	}
	return out
}

// putLevels writes the fill levels of blocks from..from+n, two to a byte.
func putLevels(dst []byte, levels []byte, from, n int) {
	for k := 0; k < n && from+k < len(levels); k++ {
		dst[k/2] |= levels[from+k] << (4 * (k % 2))
	}
}

// fillLevel maps free bytes to the FILL_LEVEL values of [MS-PST] 2.3.1.2.
func fillLevel(free int) byte {
	limits := []int{3584, 2560, 2048, 1792, 1536, 1280, 1024, 768, 512, 256, 128, 64, 32, 16, 8}
	i := sort.Search(len(limits), func(k int) bool { return free >= limits[k] })
	return byte(i)
}

// bthRecord is one record of a B-tree on the heap: a key and its data.
type bthRecord struct {
	key  uint64
	data []byte
}

// bth writes a B-tree on the heap over records (sorted here by key) and
// returns the HID of its header.
func (h *heap) bth(keySize, dataSize int, recs []bthRecord) uint32 {
	sort.Slice(recs, func(i, j int) bool { return recs[i].key < recs[j].key })
	type node struct {
		key uint64
		hid uint32
	}
	var level []node
	levels := 0
	for i, per := 0, maxHeapAlloc/(keySize+dataSize); i < len(recs); i += per {
		part := recs[i:min(i+per, len(recs))]
		buf := make([]byte, 0, len(part)*(keySize+dataSize))
		for _, r := range part {
			buf = appendKey(buf, r.key, keySize)
			buf = append(buf, r.data...)
		}
		level = append(level, node{part[0].key, h.alloc(buf)})
	}
	for len(level) > 1 {
		levels++
		var up []node
		for i, per := 0, maxHeapAlloc/(keySize+4); i < len(level); i += per {
			part := level[i:min(i+per, len(level))]
			var buf []byte
			for _, c := range part {
				buf = appendKey(buf, c.key, keySize)
				buf = binary.LittleEndian.AppendUint32(buf, c.hid)
			}
			up = append(up, node{part[0].key, h.alloc(buf)})
		}
		level = up
	}
	hdr := []byte{sigBTH, byte(keySize), byte(dataSize), byte(levels), 0, 0, 0, 0}
	if len(level) == 1 {
		binary.LittleEndian.PutUint32(hdr[4:], level[0].hid)
	}
	return h.alloc(hdr)
}

func appendKey(b []byte, key uint64, size int) []byte {
	for i := 0; i < size; i++ {
		b = append(b, byte(key>>(8*i)))
	}
	return b
}
