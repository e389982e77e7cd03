package pst

import (
	"encoding/binary"
	"errors"
	"sort"
)

var errTooLarge = errors.New("item too large for a PST data tree")

// btree writes a B-tree of pages over sorted leaf entries and returns the
// root page. leaf encodes entry i; key returns its key.
func (n *ndb) btree(ptype byte, count, leafSize int, leaf func(i int, b []byte), key func(i int) uint64) bref {
	type child struct {
		key uint64
		ref bref
	}
	var level []child
	perLeaf := 488 / leafSize
	for i := 0; i < count || i == 0; i += perLeaf {
		m := min(perLeaf, count-i)
		content := make([]byte, 496)
		for j := 0; j < m; j++ {
			leaf(i+j, content[j*leafSize:])
		}
		btHeader(content, m, perLeaf, leafSize, 0)
		k := uint64(0)
		if m > 0 {
			k = key(i)
		}
		level = append(level, child{k, n.page(content, ptype)})
	}
	for depth := byte(1); len(level) > 1; depth++ {
		var up []child
		for i := 0; i < len(level); i += 20 {
			part := level[i:min(i+20, len(level))]
			content := make([]byte, 496)
			for j, c := range part {
				binary.LittleEndian.PutUint64(content[24*j:], c.key)
				binary.LittleEndian.PutUint64(content[24*j+8:], c.ref.bid)
				binary.LittleEndian.PutUint64(content[24*j+16:], c.ref.ib)
			}
			btHeader(content, len(part), 20, 24, depth)
			up = append(up, child{part[0].key, n.page(content, ptype)})
		}
		level = up
	}
	return level[0].ref
}

func btHeader(content []byte, cEnt, cEntMax, cbEnt int, level byte) {
	content[488], content[489], content[490], content[491] = byte(cEnt), byte(cEntMax), byte(cbEnt), level
}

// finish writes both B-trees, pads the file to a whole AMap region,
// writes the allocation maps, the density list and the header.
func (n *ndb) finish(rgnid [32]uint32) error {
	sort.Slice(n.nodes, func(i, j int) bool { return n.nodes[i].nid < n.nodes[j].nid })
	nbt := n.btree(ptypeNBT, len(n.nodes), 32, func(i int, b []byte) {
		e := n.nodes[i]
		binary.LittleEndian.PutUint64(b[0:], e.nid)
		binary.LittleEndian.PutUint64(b[8:], e.data)
		binary.LittleEndian.PutUint64(b[16:], e.sub)
		binary.LittleEndian.PutUint32(b[24:], e.parent)
	}, func(i int) uint64 { return n.nodes[i].nid })
	// The BBT's own pages are not blocks, so the list is complete here.
	blocks := n.blocks
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].ref.bid < blocks[j].ref.bid })
	bbt := n.btree(ptypeBBT, len(blocks), 24, func(i int, b []byte) {
		e := blocks[i]
		binary.LittleEndian.PutUint64(b[0:], e.ref.bid)
		binary.LittleEndian.PutUint64(b[8:], e.ref.ib)
		binary.LittleEndian.PutUint16(b[16:], e.cb)
		binary.LittleEndian.PutUint16(b[18:], 2)
	}, func(i int) uint64 { return blocks[i].ref.bid })
	last := (n.pos - 1 - firstAMap) / amapSpan
	used := n.pos
	eof := regionStart(last + 1)
	n.zero(eof - n.pos)
	if n.err != nil {
		return n.err
	}
	if err := n.w.Flush(); err != nil {
		return err
	}
	free, err := n.writeMaps(last, used)
	if err != nil {
		return err
	}
	h := header(n.nextBID, rgnid, eof, regionStart(last), free, nbt, bbt)
	_, err = n.wa.WriteAt(h, 0)
	return err
}

// writeMaps writes the AMap of every region (and the PMaps, FMaps and
// FPMaps due) and the density list; it returns the free bytes the AMaps
// count.
func (n *ndb) writeMaps(last, used uint64) (uint64, error) {
	freeSlots := make([]uint64, last+1)
	var total uint64
	for r := uint64(0); r <= last; r++ {
		start := regionStart(r)
		bits := make([]byte, 496)
		for i := range bits {
			bits[i] = 0xFF
		}
		clear := func(off, length uint64) {
			for s := (off - start) / blockAlign; s < (off-start+length)/blockAlign; s++ {
				bits[s/8] &^= 0x80 >> (s % 8)
				freeSlots[r]++
			}
		}
		for _, g := range n.gaps {
			if g.off >= start && g.off < start+amapSpan {
				clear(g.off, g.n)
			}
		}
		if used < start+amapSpan {
			from := max(used, start+reserved(r))
			clear(from, start+amapSpan-from)
		}
		total += freeSlots[r] * blockAlign
		if err := n.mapPage(start, bits, ptypeAMap); err != nil {
			return 0, err
		}
	}
	full := make([]byte, 496)
	for i := range full {
		full[i] = 0xFF
	}
	for r := uint64(0); r <= last; r++ {
		at := regionStart(r) + pageSize
		if r%8 == 0 {
			if err := n.mapPage(at, full, ptypePMap); err != nil {
				return 0, err
			}
			at += pageSize
		}
		var err error
		switch {
		case hasFMap(r):
			fm := make([]byte, 496)
			for i := range fm {
				if k := r + uint64(i); k <= last {
					fm[i] = byte(min(freeSlots[k], 255))
				}
			}
			err = n.mapPage(at, fm, ptypeFMap)
		case hasFPMap(r):
			err = n.mapPage(at, full, ptypeFPMap)
		}
		if err != nil {
			return 0, err
		}
	}
	return total, n.densityList(last, freeSlots)
}

// mapPage writes a map page in place; map pages carry their offset as
// their ID and no signature.
func (n *ndb) mapPage(ib uint64, content []byte, ptype byte) error {
	_, err := n.wa.WriteAt(pageBytes(content, ptype, 0, ib), int64(ib))
	return err
}

// densityList writes the page at 0x4200 that lists the AMaps with free
// space, emptiest first, as Outlook 2007 SP2 and later expect.
func (n *ndb) densityList(last uint64, freeSlots []uint64) error {
	order := make([]uint64, 0, len(freeSlots))
	for r, f := range freeSlots {
		if f > 0 {
			order = append(order, uint64(r))
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return freeSlots[order[i]] > freeSlots[order[j]] })
	order = order[:min(len(order), 119)]
	content := make([]byte, 496)
	content[0] = 0x01 // DFL_BACKFILL_COMPLETE
	content[1] = byte(len(order))
	binary.LittleEndian.PutUint32(content[4:], uint32(last))
	for i, r := range order {
		binary.LittleEndian.PutUint32(content[8+4*i:], uint32(r)|uint32(freeSlots[r])<<20)
	}
	_, err := n.wa.WriteAt(pageBytes(content, ptypeDL, 0, 0x4200), 0x4200)
	return err
}

// header builds the 564-byte Unicode HEADER with its ROOT and both CRCs.
func header(nextBID uint64, rgnid [32]uint32, eof, amapLast, free uint64, nbt, bbt bref) []byte {
	h := make([]byte, 564)
	copy(h, "!BDN")
	binary.LittleEndian.PutUint16(h[8:], 0x4D53) // "SM"
	binary.LittleEndian.PutUint16(h[10:], 23)    // Unicode
	binary.LittleEndian.PutUint16(h[12:], 19)
	h[14], h[15] = 1, 1
	binary.LittleEndian.PutUint64(h[32:], nextBID) // bidNextP
	binary.LittleEndian.PutUint32(h[40:], 1)       // dwUnique
	for i, v := range rgnid {
		binary.LittleEndian.PutUint32(h[44+4*i:], v)
	}
	root := h[180:]
	binary.LittleEndian.PutUint64(root[4:], eof)
	binary.LittleEndian.PutUint64(root[12:], amapLast)
	binary.LittleEndian.PutUint64(root[20:], free)
	binary.LittleEndian.PutUint64(root[36:], nbt.bid)
	binary.LittleEndian.PutUint64(root[44:], nbt.ib)
	binary.LittleEndian.PutUint64(root[52:], bbt.bid)
	binary.LittleEndian.PutUint64(root[60:], bbt.ib)
	root[68] = 0x02 // VALID_AMAP2
	for i := 256; i < 512; i++ {
		h[i] = 0xFF // rgbFM and rgbFP: deprecated, filled with 0xFF
	}
	h[512] = 0x80                                   // bSentinel
	h[513] = 0x00                                   // NDB_CRYPT_NONE
	binary.LittleEndian.PutUint64(h[516:], nextBID) // bidNextB
	binary.LittleEndian.PutUint32(h[4:], crc(h[8:8+471]))
	binary.LittleEndian.PutUint32(h[524:], crc(h[8:8+516]))
	return h
}
