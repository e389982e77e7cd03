package pst

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// File layout constants of the Unicode format ([MS-PST] 2.2.2).
const (
	pageSize       = 512
	blockAlign     = 64
	maxBlockData   = 8176 // 8,192 bytes less the block trailer
	blockTrailer   = 16
	firstAMap      = 0x4400
	amapSpan       = 496 * 8 * 64 // bytes one AMap page maps
	fmapFirstIndex = 128          // AMap index of the first FMap page
	fmapEvery      = 496          // AMaps per FMap page
	fpmapFirstIdx  = 8192         // AMap index of the first FPMap page
	fpmapEvery     = 496 * 64     // AMaps per FPMap page
)

// Page types of page trailers.
const (
	ptypeBBT   = 0x80
	ptypeNBT   = 0x81
	ptypeFMap  = 0x82
	ptypePMap  = 0x83
	ptypeAMap  = 0x84
	ptypeFPMap = 0x85
	ptypeDL    = 0x86
)

// bref names a block or page: its ID and offset.
type bref struct{ bid, ib uint64 }

// bbtEntry is a block's entry in the block B-tree.
type bbtEntry struct {
	ref bref
	cb  uint16
}

// nbtEntry is a node's entry in the node B-tree.
type nbtEntry struct {
	nid, data, sub uint64
	parent         uint32
}

// gap is a run of bytes left unallocated between two allocations.
type gap struct{ off, n uint64 }

// ndb writes blocks and pages to a file front to back. It skips the
// places of the allocation map pages, which are written at the end, and
// remembers the gaps it leaves so the maps mark them free.
type ndb struct {
	w       *bufio.Writer
	wa      io.WriterAt
	pos     uint64 // next byte to write
	nextBID uint64 // next block or page ID (a multiple of 4)
	blocks  []bbtEntry
	nodes   []nbtEntry
	gaps    []gap
	err     error
}

func newNDB(f interface {
	io.Writer
	io.WriterAt
}) *ndb {
	n := &ndb{w: bufio.NewWriterSize(f, 1<<20), wa: f, nextBID: 4}
	// The header, the density list and everything up to the first AMap.
	n.zero(firstAMap)
	return n
}

// reserved is how many bytes at the start of AMap region r the map pages
// take: the AMap, a PMap every eighth region, and the FMap or FPMap
// where one is due.
func reserved(r uint64) uint64 {
	n := uint64(pageSize)
	if r%8 == 0 {
		n += pageSize
	}
	if hasFMap(r) || hasFPMap(r) {
		n += pageSize
	}
	return n
}

func hasFMap(r uint64) bool  { return r >= fmapFirstIndex && (r-fmapFirstIndex)%fmapEvery == 0 }
func hasFPMap(r uint64) bool { return r >= fpmapFirstIdx && (r-fpmapFirstIdx)%fpmapEvery == 0 }

// regionStart is the offset of AMap region r.
func regionStart(r uint64) uint64 { return firstAMap + r*amapSpan }

// alloc returns the offset for size bytes aligned to align, moving past
// map pages and to the next region when the rest of this one is too
// small, and writes zeros over what it skips.
func (n *ndb) alloc(size, align uint64) uint64 {
	p := (n.pos + align - 1) / align * align
	r := (p - firstAMap) / amapSpan
	if start := regionStart(r) + reserved(r); p < start {
		p = start
	}
	if p+size > regionStart(r+1) {
		p = regionStart(r+1) + reserved(r+1)
	}
	if skip := p - n.pos; skip > 0 {
		n.noteGap(n.pos, skip)
		n.zero(skip)
	}
	return p
}

// noteGap records the free parts of a skipped run: everything in it that
// is not a map page.
func (n *ndb) noteGap(off, length uint64) {
	end := off + length
	for off < end {
		r := (off - firstAMap) / amapSpan
		mapsEnd := regionStart(r) + reserved(r)
		if off < mapsEnd {
			off = min(mapsEnd, end)
			continue
		}
		stop := min(regionStart(r+1), end)
		n.gaps = append(n.gaps, gap{off, stop - off})
		off = stop
	}
}

func (n *ndb) zero(k uint64) {
	var z [4096]byte
	for k > 0 {
		c := min(k, uint64(len(z)))
		n.write(z[:c])
		k -= c
	}
}

func (n *ndb) write(p []byte) {
	if n.err != nil {
		return
	}
	_, n.err = n.w.Write(p)
	n.pos += uint64(len(p))
}

// newBID returns a fresh block ID; internal ones (XBLOCKs, SLBLOCKs) have
// bit 1 set.
func (n *ndb) newBID(internal bool) uint64 {
	b := n.nextBID
	n.nextBID += 4
	if internal {
		b |= 2
	}
	return b
}

// block writes one block and returns its ID.
func (n *ndb) block(data []byte, internal bool) uint64 {
	if len(data) > maxBlockData {
		n.fail(fmt.Errorf("block of %d bytes exceeds %d", len(data), maxBlockData))
		return 0
	}
	total := (uint64(len(data)) + blockTrailer + blockAlign - 1) / blockAlign * blockAlign
	ib := n.alloc(total, blockAlign)
	bid := n.newBID(internal)
	n.write(data)
	n.zero(total - uint64(len(data)) - blockTrailer)
	var t [blockTrailer]byte
	binary.LittleEndian.PutUint16(t[0:], uint16(len(data)))
	binary.LittleEndian.PutUint16(t[2:], sig(ib, bid))
	binary.LittleEndian.PutUint32(t[4:], crc(data))
	binary.LittleEndian.PutUint64(t[8:], bid)
	n.write(t[:])
	n.blocks = append(n.blocks, bbtEntry{bref{bid, ib}, uint16(len(data))})
	return bid
}

func (n *ndb) fail(err error) {
	if n.err == nil {
		n.err = err
	}
}

// page writes one 512-byte page (496 bytes of content and a trailer) at
// the next free page boundary.
func (n *ndb) page(content []byte, ptype byte) bref {
	ib := n.alloc(pageSize, pageSize)
	bid := n.newBID(false)
	n.write(pageBytes(content, ptype, sig(ib, bid), bid))
	return bref{bid, ib}
}

// pageBytes assembles a page from its content and trailer fields.
func pageBytes(content []byte, ptype byte, wsig uint16, bid uint64) []byte {
	p := make([]byte, pageSize)
	copy(p, content)
	p[496], p[497] = ptype, ptype
	binary.LittleEndian.PutUint16(p[498:], wsig)
	binary.LittleEndian.PutUint32(p[500:], crc(p[:496]))
	binary.LittleEndian.PutUint64(p[504:], bid)
	return p
}

// node adds a node to the node B-tree.
func (n *ndb) node(nid uint32, data, sub uint64, parent uint32) {
	n.nodes = append(n.nodes, nbtEntry{uint64(nid), data, sub, parent})
}
