package segment_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongroom/strongroom/storage/segment"
)

// writeSegment encodes payload k+m and writes its shards under dir.
func writeSegment(t *testing.T, dir string, id uint64, k, m int, payload []byte) []string {
	t.Helper()
	shards, err := segment.Encode(k, m, payload)
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, k+m)
	for i, sh := range shards {
		paths[i] = filepath.Join(dir, "shard"+string(rune('a'+i)))
		h := segment.Header{Version: segment.Version, K: uint8(k), M: uint8(m), Index: uint8(i), Segment: id,
			PayloadLen: uint64(len(payload)), ShardLen: uint64(len(sh))}
		if err := segment.WriteShard(paths[i], "", h, sh); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

func randomPayload(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestSetReadsThroughDamage guards the promise that any m lost or damaged
// shards still give back the exact payload, and that the damage is reported.
func TestSetReadsThroughDamage(t *testing.T) {
	payload := randomPayload(3*segment.BlockSize + 12345)
	cases := []struct {
		name     string
		k, m     int
		damage   func(paths []string)
		degraded bool
		fail     bool
	}{
		{name: "intact", k: 2, m: 2, damage: func([]string) {}},
		{name: "two shards deleted", k: 2, m: 2, degraded: true, damage: func(p []string) { os.Remove(p[0]); os.Remove(p[1]) }},
		{name: "one block flipped", k: 4, m: 2, degraded: true, damage: func(p []string) { flip(p[1], segment.HeaderSize+10) }},
		{name: "truncated shard", k: 4, m: 2, degraded: true, damage: func(p []string) { os.Truncate(p[0], segment.HeaderSize+100) }},
		{name: "three of 2+2 lost", k: 2, m: 2, fail: true, damage: func(p []string) { os.Remove(p[0]); os.Remove(p[1]); os.Remove(p[3]) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			paths := writeSegment(t, t.TempDir(), 7, tc.k, tc.m, payload)
			tc.damage(paths)
			set, err := segment.OpenSet(7, paths)
			if tc.fail {
				if !errors.Is(err, segment.ErrUnrecoverable) {
					t.Fatalf("OpenSet = %v, want ErrUnrecoverable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			got := make([]byte, len(payload))
			degraded, err := set.ReadAt(got, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatal("payload differs after read")
			}
			if degraded != tc.degraded {
				t.Fatalf("degraded = %v, want %v", degraded, tc.degraded)
			}
			bad := 0
			for _, st := range set.Verify() {
				if st.Err != nil {
					bad++
				}
			}
			if (bad > 0) != tc.degraded {
				t.Fatalf("Verify found %d bad shards, degraded want %v", bad, tc.degraded)
			}
		})
	}
}

// TestSetRebuild guards repair: rebuilt shards are byte-identical to the
// originals and the segment verifies clean afterwards.
func TestSetRebuild(t *testing.T) {
	payload := randomPayload(5*segment.BlockSize + 7)
	dir := t.TempDir()
	paths := writeSegment(t, dir, 3, 4, 2, payload)
	orig0, _ := os.ReadFile(paths[0])
	orig5, _ := os.ReadFile(paths[5])
	os.Remove(paths[0])
	flip(paths[5], segment.HeaderSize+segment.BlockSize+8)
	set, err := segment.OpenSet(3, paths)
	if err != nil {
		t.Fatal(err)
	}
	err = set.Rebuild([]int{0, 5}, func(i int, h segment.Header, data []byte) error {
		os.Remove(paths[i])
		return segment.WriteShard(paths[i], "", h, data)
	})
	set.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int][]byte{0: orig0, 5: orig5} {
		got, _ := os.ReadFile(paths[i])
		if !bytes.Equal(got, want) {
			t.Fatalf("rebuilt shard %d differs from the original", i)
		}
	}
}

func TestTableRoundTrip(t *testing.T) {
	b := segment.NewBuilder(0)
	var ids [][32]byte
	for i := 0; i < 100; i++ {
		var id [32]byte
		id[0], id[1] = byte(i), 0xAA
		ids = append(ids, id)
		b.Add(id, bytes.Repeat([]byte{byte(i)}, i*10+1), i*20, segment.FlagCompressed)
	}
	xor := func(p []byte) []byte { // stands in for encryption
		out := make([]byte, len(p))
		for i := range p {
			out[i] = p[i] ^ 0x5c
		}
		return out
	}
	payload := b.Finish(xor)
	paths := writeSegment(t, t.TempDir(), 9, 2, 1, payload)
	set, err := segment.OpenSet(9, paths)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	entries, err := set.ReadTable(func(p []byte) ([]byte, error) { return xor(p), nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 100 || entries[42].ID != ids[42] || entries[42].RawLen != 840 {
		t.Fatalf("table round trip lost entries: %d entries, #42 = %+v", len(entries), entries[42])
	}
	blob := make([]byte, entries[42].Length)
	if _, err := set.ReadAt(blob, int64(entries[42].Offset)); err != nil || !bytes.Equal(blob, bytes.Repeat([]byte{42}, 421)) {
		t.Fatalf("blob 42 read back wrong: %v", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(segment.Header{Version: 1, K: 2, M: 2, Segment: 1, PayloadLen: 10, ShardLen: 5}.Marshal())
	f.Add([]byte("SRSHARD1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := segment.ParseHeader(b)
		if err == nil && !bytes.Equal(h.Marshal(), b[:segment.HeaderSize]) {
			// Only the zero padding may differ.
			h2, err := segment.ParseHeader(h.Marshal())
			if err != nil || h2 != h {
				t.Fatalf("header does not round trip: %+v", h)
			}
		}
	})
}

func FuzzParseTable(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0}, uint64(10))
	f.Fuzz(func(t *testing.T, b []byte, off uint64) {
		if len(b) > 1<<16 {
			return
		}
		segment.ParseTable(b, off)
	})
}

func flip(path string, off int64) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0xFF
	f.WriteAt(b, off)
}
