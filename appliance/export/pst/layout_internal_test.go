package pst

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fileLayout is what TestWriterLayout reads back from a written file.
type fileLayout struct {
	data   []byte
	blocks map[uint64][2]uint64 // bid -> ib, cb
	pages  []uint64             // offsets of B-tree pages
}

// readPage checks one B-tree page's trailer and returns its entries.
func (l *fileLayout) readPage(t *testing.T, ref bref, ptype byte) {
	t.Helper()
	p := l.data[ref.ib : ref.ib+pageSize]
	if p[496] != ptype || p[497] != ptype || binary.LittleEndian.Uint64(p[504:]) != ref.bid ||
		binary.LittleEndian.Uint16(p[498:]) != sig(ref.ib, ref.bid) || binary.LittleEndian.Uint32(p[500:]) != crc(p[:496]) {
		t.Fatalf("page at %#x: trailer does not match (type %#x, bid %#x)", ref.ib, ptype, ref.bid)
	}
	l.pages = append(l.pages, ref.ib)
	n, size, level := int(p[488]), int(p[490]), p[491]
	for i := 0; i < n; i++ {
		e := p[i*size:]
		switch {
		case level > 0:
			l.readPage(t, bref{binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint64(e[16:])}, ptype)
		case ptype == ptypeBBT:
			bid, ib, cb := binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint16(e[16:])
			l.blocks[bid] = [2]uint64{ib, uint64(cb)}
		}
	}
}

// TestWriterLayout guards what the readers do not look at: header CRCs and
// ROOT, every page's and block's trailer (type, signature, CRC, ID), and
// allocation maps that mark exactly the blocks and pages in use, with no
// block on a map page's place, in a file past the first FMap.
func TestWriterLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "layout.pst")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, "layout")
	inbox, _ := w.AddFolder(w.Root(), "Inbox", MailFolder)
	for i := range 300 {
		size := 100 + i*i*4 // up to 360 KB, 35 MB in all
		m := &Message{Subject: fmt.Sprint("m", i), Sent: time.Unix(int64(i), 0), Body: "b",
			Attachments: []Attachment{{Name: "a", Data: bytes.Repeat([]byte{byte(i)}, size)}}}
		if err := w.AddMessage(inbox, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, _ := os.ReadFile(path)
	l := &fileLayout{data: data, blocks: map[uint64][2]uint64{}}
	h := data[:564]
	if crc(h[8:479]) != binary.LittleEndian.Uint32(h[4:]) || crc(h[8:524]) != binary.LittleEndian.Uint32(h[524:]) {
		t.Fatal("header CRCs do not match")
	}
	root := h[180:]
	eof, amapLast := binary.LittleEndian.Uint64(root[4:]), binary.LittleEndian.Uint64(root[12:])
	if eof != uint64(len(data)) || (eof-firstAMap)%amapSpan != 0 || amapLast != eof-amapSpan || eof < regionStart(fmapFirstIndex+1) {
		t.Fatalf("ibFileEof %d, ibAMapLast %d for a file of %d bytes", eof, amapLast, len(data))
	}
	l.readPage(t, bref{binary.LittleEndian.Uint64(root[36:]), binary.LittleEndian.Uint64(root[44:])}, ptypeNBT)
	l.readPage(t, bref{binary.LittleEndian.Uint64(root[52:]), binary.LittleEndian.Uint64(root[60:])}, ptypeBBT)
	used := map[uint64]bool{} // 64-byte slots in use
	mark := func(ib, n uint64) {
		for s := ib / 64; s < (ib+n+63)/64; s++ {
			if used[s] {
				t.Fatalf("two things at %#x", s*64)
			}
			used[s] = true
		}
	}
	for r := uint64(0); regionStart(r) < eof; r++ {
		mark(regionStart(r), reserved(r))
	}
	for _, ib := range l.pages {
		mark(ib, pageSize)
	}
	for bid, b := range l.blocks {
		ib, cb := b[0], b[1]
		total := (cb + blockTrailer + 63) / 64 * 64
		tr := data[ib+total-blockTrailer : ib+total]
		if binary.LittleEndian.Uint16(tr) != uint16(cb) || binary.LittleEndian.Uint16(tr[2:]) != sig(ib, bid) ||
			binary.LittleEndian.Uint32(tr[4:]) != crc(data[ib:ib+cb]) || binary.LittleEndian.Uint64(tr[8:]) != bid {
			t.Fatalf("block %#x at %#x: trailer does not match", bid, ib)
		}
		mark(ib, total)
	}
	free := uint64(0)
	for r := uint64(0); regionStart(r) < eof; r++ {
		start := regionStart(r)
		p := data[start : start+pageSize]
		if p[496] != ptypeAMap || binary.LittleEndian.Uint32(p[500:]) != crc(p[:496]) || binary.LittleEndian.Uint64(p[504:]) != start {
			t.Fatalf("AMap at %#x: trailer does not match", start)
		}
		for s := uint64(0); s < amapSpan/64; s++ {
			bit := p[s/8]&(0x80>>(s%8)) != 0
			if bit != used[start/64+s] {
				t.Fatalf("AMap at %#x says slot %#x is allocated: %v, but it is in use: %v", start, start+s*64, bit, used[start/64+s])
			}
			if !bit {
				free += 64
			}
		}
		if hasFMap(r) && data[start+2*pageSize+496] != ptypeFMap {
			t.Errorf("no FMap after the AMap at %#x", start)
		}
	}
	if got := binary.LittleEndian.Uint64(root[20:]); got != free {
		t.Errorf("cbAMapFree %d, the AMaps have %d free bytes", got, free)
	}
}
