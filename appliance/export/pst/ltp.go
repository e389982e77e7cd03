package pst

import (
	"encoding/binary"
	"sort"
)

// nodeBuilder builds the data of one node and collects its subnodes.
type nodeBuilder struct {
	n    *ndb
	subs []subnode
	next uint32 // index of the next subnode ID of type LTP
}

// nidLTP is the NID type of subnodes that hold large values.
const nidLTP = 0x1F

// value stores v on the heap, or in a subnode when it is too large for
// one heap allocation, and returns its HNID (0 for an empty value).
func (b *nodeBuilder) value(h *heap, v []byte) uint32 {
	if len(v) == 0 {
		return 0
	}
	if len(v) <= maxHeapAlloc {
		return h.alloc(v)
	}
	b.next++
	nid := b.next<<5 | nidLTP
	b.subs = append(b.subs, subnode{nid: nid, data: b.n.dataTree(split(v))})
	return nid
}

// propContext returns the blocks of a property context holding ps.
func (b *nodeBuilder) propContext(ps props) [][]byte {
	h := newHeap(sigPC)
	recs := make([]bthRecord, 0, len(ps))
	for _, p := range ps {
		t := uint16(p.tag)
		d := make([]byte, 6)
		binary.LittleEndian.PutUint16(d, t)
		if inline(t) {
			copy(d[2:], p.val)
		} else {
			binary.LittleEndian.PutUint32(d[2:], b.value(h, p.val))
		}
		recs = append(recs, bthRecord{uint64(p.tag >> 16), d})
	}
	h.root = h.bth(2, 6, recs)
	return h.chunks()
}

// row is one row of a table context: its row ID and its values by tag.
type row struct {
	id   uint32
	vals props
}

// Columns every table has first.
const (
	tagRowID  = 0x67F20003
	tagRowVer = 0x67F30003
)

// column is where a table row keeps one property: offset, size and bit
// in the cell existence bitmap.
type column struct {
	tag    uint32
	ib, cb int
	bit    int
}

// layout places the columns of a row: row ID and version first, then
// 8-, 4-, 2- and 1-byte cells, then the cell existence bitmap. It returns
// the columns, the four group end offsets and the row size.
func layout(tags []uint32) ([]column, [4]int, int) {
	cols := []column{{tag: tagRowID, cb: 4}, {tag: tagRowVer, cb: 4}}
	for _, size := range []int{8, 4, 2, 1} {
		for _, t := range tags {
			if cellSize(uint16(t)) == size {
				cols = append(cols, column{tag: t, cb: size})
			}
		}
	}
	var ends [4]int
	off := 0
	for i := range cols {
		cols[i].ib, cols[i].bit = off, i
		off += cols[i].cb
		switch cols[i].cb {
		case 8, 4:
			ends[0] = off
		case 2:
			ends[1] = off
		}
	}
	ends[1] = max(ends[1], ends[0])
	ends[2] = off
	ends[3] = off + (len(cols)+7)/8
	return cols, ends, ends[3]
}

// tableContext returns the blocks of a table context with the given
// columns (besides row ID and version) and rows.
func (b *nodeBuilder) tableContext(tags []uint32, rows []row) [][]byte {
	h := newHeap(sigTC)
	cols, ends, size := layout(tags)
	matrix := make([]byte, 0, size*len(rows))
	index := make([]bthRecord, len(rows))
	for i, r := range rows {
		cell := make([]byte, size)
		ceb := cell[ends[2]:]
		for _, c := range cols {
			var v []byte
			switch {
			case c.tag == tagRowID:
				v = binary.LittleEndian.AppendUint32(nil, r.id)
			case c.tag == tagRowVer:
				v = []byte{0, 0, 0, 0}
			default:
				v = r.vals.get(c.tag)
				if v == nil {
					continue
				}
				if c.cb == 4 && !inline(uint16(c.tag)) {
					v = binary.LittleEndian.AppendUint32(nil, b.value(h, v))
				}
			}
			copy(cell[c.ib:c.ib+c.cb], v)
			ceb[c.bit/8] |= 0x80 >> (c.bit % 8)
		}
		matrix = append(matrix, cell...)
		index[i] = bthRecord{uint64(r.id), binary.LittleEndian.AppendUint32(nil, uint32(i))}
	}
	rowIndex := h.bth(4, 4, index)
	var rowsRef uint32
	switch {
	case len(matrix) == 0:
	case len(matrix) <= maxHeapAlloc:
		rowsRef = h.alloc(matrix)
	default:
		// Rows never span blocks: each block holds as many whole rows as
		// fit.
		per := maxBlockData / size * size
		var chunks [][]byte
		for len(matrix) > per {
			chunks = append(chunks, matrix[:per])
			matrix = matrix[per:]
		}
		chunks = append(chunks, matrix)
		b.next++
		rowsRef = b.next<<5 | nidLTP
		b.subs = append(b.subs, subnode{nid: rowsRef, data: b.n.dataTree(chunks)})
	}
	info := make([]byte, 22+8*len(cols))
	info[0], info[1] = sigTC, byte(len(cols))
	for i, e := range ends {
		binary.LittleEndian.PutUint16(info[2+2*i:], uint16(e))
	}
	binary.LittleEndian.PutUint32(info[10:], rowIndex)
	binary.LittleEndian.PutUint32(info[14:], rowsRef)
	sorted := append([]column(nil), cols...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].tag < sorted[j].tag })
	for i, c := range sorted {
		o := 22 + 8*i
		binary.LittleEndian.PutUint32(info[o:], c.tag)
		binary.LittleEndian.PutUint16(info[o+4:], uint16(c.ib))
		info[o+6], info[o+7] = byte(c.cb), byte(c.bit)
	}
	h.root = h.alloc(info)
	return h.chunks()
}
