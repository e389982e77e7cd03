package pst

import (
	"encoding/binary"
	"sort"
)

const (
	xEntries  = (maxBlockData - 8) / 8  // BIDs in an XBLOCK or XXBLOCK
	slEntries = (maxBlockData - 8) / 24 // entries in an SLBLOCK
	siEntries = (maxBlockData - 8) / 16 // entries in an SIBLOCK
)

// split cuts data into pieces of at most one block each.
func split(data []byte) [][]byte {
	var out [][]byte
	for len(data) > maxBlockData {
		out = append(out, data[:maxBlockData])
		data = data[maxBlockData:]
	}
	return append(out, data)
}

// dataTree writes a node's data, given as the contents of its blocks in
// order, and returns the BID to put in the node's entry: the one block's,
// or that of the XBLOCK or XXBLOCK listing them.
func (n *ndb) dataTree(chunks [][]byte) uint64 {
	if len(chunks) == 1 {
		return n.block(chunks[0], false)
	}
	total := 0
	bids := make([]uint64, len(chunks))
	for i, c := range chunks {
		bids[i] = n.block(c, false)
		total += len(c)
	}
	if len(bids) <= xEntries {
		return n.xblock(1, bids, total)
	}
	var xs []uint64
	for i := 0; i < len(bids); i += xEntries {
		part := bids[i:min(i+xEntries, len(bids))]
		size := 0
		for _, c := range chunks[i : i+len(part)] {
			size += len(c)
		}
		xs = append(xs, n.xblock(1, part, size))
	}
	if len(xs) > xEntries {
		n.fail(errTooLarge)
		return 0
	}
	return n.xblock(2, xs, total)
}

// xblock writes an XBLOCK (level 1) or XXBLOCK (level 2).
func (n *ndb) xblock(level byte, bids []uint64, total int) uint64 {
	b := make([]byte, 8+8*len(bids))
	b[0], b[1] = 0x01, level
	binary.LittleEndian.PutUint16(b[2:], uint16(len(bids)))
	binary.LittleEndian.PutUint32(b[4:], uint32(total))
	for i, id := range bids {
		binary.LittleEndian.PutUint64(b[8+8*i:], id)
	}
	return n.block(b, true)
}

// subnode is one entry of a node's subnode tree.
type subnode struct {
	nid       uint32
	data, sub uint64
}

// subTree writes a node's subnodes as an SLBLOCK, or SLBLOCKs under an
// SIBLOCK, and returns its BID (0 when there are none).
func (n *ndb) subTree(subs []subnode) uint64 {
	if len(subs) == 0 {
		return 0
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].nid < subs[j].nid })
	if len(subs) <= slEntries {
		return n.slblock(subs)
	}
	type si struct {
		nid uint32
		bid uint64
	}
	var leaves []si
	for i := 0; i < len(subs); i += slEntries {
		part := subs[i:min(i+slEntries, len(subs))]
		leaves = append(leaves, si{part[0].nid, n.slblock(part)})
	}
	if len(leaves) > siEntries {
		n.fail(errTooLarge)
		return 0
	}
	b := make([]byte, 8+16*len(leaves))
	b[0], b[1] = 0x02, 1
	binary.LittleEndian.PutUint16(b[2:], uint16(len(leaves)))
	for i, l := range leaves {
		binary.LittleEndian.PutUint64(b[8+16*i:], uint64(l.nid))
		binary.LittleEndian.PutUint64(b[16+16*i:], l.bid)
	}
	return n.block(b, true)
}

func (n *ndb) slblock(subs []subnode) uint64 {
	b := make([]byte, 8+24*len(subs))
	b[0], b[1] = 0x02, 0
	binary.LittleEndian.PutUint16(b[2:], uint16(len(subs)))
	for i, s := range subs {
		o := 8 + 24*i
		binary.LittleEndian.PutUint64(b[o:], uint64(s.nid))
		binary.LittleEndian.PutUint64(b[o+8:], s.data)
		binary.LittleEndian.PutUint64(b[o+16:], s.sub)
	}
	return n.block(b, true)
}
