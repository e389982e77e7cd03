package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/strongroom/strongroom/storage/segment"
)

func entry(b byte, off uint64) segment.Entry {
	var id [32]byte
	id[0] = b
	return segment.Entry{ID: id, Offset: off, Length: 10, RawLen: 20, Flags: segment.FlagCompressed}
}

// TestIndexFirstSegmentWins guards the rule that makes a rebuilt index
// answer like the live one: a chunk found in two segments keeps the
// location it was first indexed at, and removing a segment forgets only
// the locations that point into it.
func TestIndexFirstSegmentWins(t *testing.T) {
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.AddSegment(SegmentInfo{ID: 1, PayloadLen: 100, Chunks: 2, RawBytes: 40}, []segment.Entry{entry(1, 0), entry(2, 10)}); err != nil {
		t.Fatal(err)
	}
	if err := ix.AddSegment(SegmentInfo{ID: 2, PayloadLen: 100, Chunks: 2, RawBytes: 40}, []segment.Entry{entry(2, 50), entry(3, 60)}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		id     byte
		seg    uint64
		offset uint64
		found  bool
	}{
		{"only in 1", 1, 1, 0, true},
		{"in both: first wins", 2, 1, 10, true},
		{"only in 2", 3, 2, 60, true},
		{"absent", 4, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc, ok, err := ix.Lookup(entry(tc.id, 0).ID)
			if err != nil || ok != tc.found || (ok && (loc.Segment != tc.seg || loc.Offset != tc.offset || loc.RawLen != 20)) {
				t.Fatalf("Lookup = %+v, %v, %v; want segment %d offset %d found %v", loc, ok, err, tc.seg, tc.offset, tc.found)
			}
		})
	}
	if hw := ix.HighWater(); hw != 2 {
		t.Fatalf("HighWater = %d, want 2", hw)
	}
	segs, _ := ix.Segments()
	if len(segs) != 2 || segs[1].ID != 2 || segs[1].RawBytes != 40 {
		t.Fatalf("Segments = %+v", segs)
	}
	var before bytes.Buffer
	ix.Dump(&before)
	if err := ix.RemoveSegment(2, []segment.Entry{entry(2, 50), entry(3, 60)}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ix.Lookup(entry(3, 0).ID); ok {
		t.Fatal("chunk of a removed segment is still indexed")
	}
	if loc, ok, _ := ix.Lookup(entry(2, 0).ID); !ok || loc.Segment != 1 {
		t.Fatal("removing segment 2 lost the chunk segment 1 holds")
	}
	var after bytes.Buffer
	ix.Dump(&after)
	if bytes.Equal(before.Bytes(), after.Bytes()) || after.Len() == 0 {
		t.Fatal("Dump did not change after removing a segment")
	}
}

func FuzzParseRecords(f *testing.F) {
	f.Add(Location{Segment: 1, Offset: 2, Length: 3, RawLen: 4, Flags: 1}.marshal())
	f.Add(SegmentInfo{PayloadLen: 1, Chunks: 2, RawBytes: 3, Created: 4}.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := parseLocation(b); err == nil && !bytes.Equal(l.marshal(), b) {
			t.Fatalf("location does not round trip: %x", b)
		}
		if s, err := parseSegmentInfo(7, b); err == nil && !bytes.Equal(s.marshal(), b) {
			t.Fatalf("segment info does not round trip: %x", b)
		}
	})
}

func TestIndexRemoveSegmentScan(t *testing.T) {
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.AddSegment(SegmentInfo{ID: 1}, []segment.Entry{entry(1, 0)})
	ix.AddSegment(SegmentInfo{ID: 2}, []segment.Entry{entry(2, 0), entry(3, 10)})
	if err := ix.RemoveSegmentScan(2); err != nil {
		t.Fatal(err)
	}
	for b, want := range map[byte]bool{1: true, 2: false, 3: false} {
		if _, ok, _ := ix.Lookup(entry(b, 0).ID); ok != want {
			t.Fatalf("chunk %d indexed = %v after removing segment 2 by scan, want %v", b, ok, want)
		}
	}
}

// TestIndexHighWaterConcurrentSeals guards the high-water mark against
// segments sealed at the same time (the vault's writer seals up to two at
// once, in any order): it must end at the highest segment ID indexed and
// never go backwards on the way, or the next open could hand out an ID
// that is already on disk. Run with -race.
func TestIndexHighWaterConcurrentSeals(t *testing.T) {
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	const rounds, perRound = 200, 16
	stop := make(chan struct{})
	backwards := make(chan string, 1)
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		var last uint64
		for {
			select {
			case <-stop:
				return
			default:
			}
			hw := ix.HighWater()
			if hw < last {
				select {
				case backwards <- fmt.Sprintf("HighWater went from %d back to %d", last, hw):
				default:
				}
			}
			last = max(last, hw)
		}
	}()
	for r := 0; r < rounds; r++ {
		base := uint64(r * perRound)
		start := make(chan struct{})
		errs := make(chan error, perRound)
		var wg sync.WaitGroup
		for i := 1; i <= perRound; i++ {
			id := base + uint64(i)
			e := segment.Entry{Offset: 0, Length: 10, RawLen: 20}
			binary.BigEndian.PutUint64(e.ID[:], id) // one fresh chunk per segment
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- ix.AddSegment(SegmentInfo{ID: id, PayloadLen: 100, Chunks: 1, RawBytes: 20}, []segment.Entry{e})
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if hw, want := ix.HighWater(), base+perRound; hw != want {
			t.Fatalf("round %d: HighWater = %d after sealing segments %d–%d at once, want %d", r, hw, base+1, want, want)
		}
	}
	close(stop)
	watch.Wait()
	select {
	case msg := <-backwards:
		t.Fatal(msg)
	default:
	}
}

// benchEntries returns n entries with distinct IDs derived from seg.
func benchEntries(seg uint64, n int) []segment.Entry {
	es := make([]segment.Entry, n)
	for i := range es {
		binary.LittleEndian.PutUint64(es[i].ID[:], seg)
		binary.LittleEndian.PutUint64(es[i].ID[8:], uint64(i))
		es[i].Offset, es[i].Length, es[i].RawLen = uint64(i)*1000, 900, 4000
	}
	return es
}

// BenchmarkIndexAddSegment measures indexing one segment of 1,000 chunks
// (an op), as a writer does after every seal, with its sync (so the
// disk's fsync latency is part of the figure).
func BenchmarkIndexAddSegment(b *testing.B) {
	ix, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	var seg uint64
	for b.Loop() {
		seg++
		if err := ix.AddSegment(SegmentInfo{ID: seg, PayloadLen: 1 << 20, Chunks: 1000}, benchEntries(seg, 1000)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexLookup measures the lookup every new chunk makes, in an
// index of 100,000 chunks, for chunks it holds and chunks it does not.
func BenchmarkIndexLookup(b *testing.B) {
	ix, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	for seg := uint64(1); seg <= 100; seg++ {
		if err := ix.AddSegment(SegmentInfo{ID: seg, PayloadLen: 1 << 20, Chunks: 1000}, benchEntries(seg, 1000)); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		seg  uint64 // the segment whose IDs are looked up
		want bool
	}{{"found=yes", 50, true}, {"found=no", 1000, false}} {
		b.Run(tc.name, func(b *testing.B) {
			ids := benchEntries(tc.seg, 1000)
			i := 0
			for b.Loop() {
				_, ok, err := ix.Lookup(ids[i%len(ids)].ID)
				if err != nil || ok != tc.want {
					b.Fatalf("Lookup: found %v, err %v; want found %v", ok, err, tc.want)
				}
				i++
			}
		})
	}
}
