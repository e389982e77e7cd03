package segment_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongroom/strongroom/storage/segment"
)

// shardTargets names k+m shard files under dir with their temporaries in
// dir/spool.
func shardTargets(t *testing.T, dir string, id uint64, k, m int) []segment.ShardTarget {
	return shardTargetsIn(t, dir, id, k, m)
}

func shardTargetsIn(t testing.TB, dir string, id uint64, k, m int) []segment.ShardTarget {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
		t.Fatal(err)
	}
	targets := make([]segment.ShardTarget, k+m)
	for i := range targets {
		name := fmt.Sprintf("shard%d", i)
		targets[i] = segment.ShardTarget{Path: filepath.Join(dir, name), Tmp: filepath.Join(dir, "spool", name+".tmp"),
			Header: segment.Header{Version: segment.Version, K: uint8(k), M: uint8(m), Index: uint8(i), Segment: id}}
	}
	return targets
}

// TestWriteShardsMatchesEncode guards the stripe-by-stripe writer: its
// files must be byte for byte those of Encode plus WriteShard (the format
// the readers and rebuild rely on), for payloads that end mid-block,
// mid-stripe, or are smaller than K.
func TestWriteShardsMatchesEncode(t *testing.T) {
	cases := []struct {
		name string
		k, m int
		size int
	}{
		{"2+2 one byte", 2, 2, 1},
		{"2+2 three bytes", 2, 2, 3},
		{"2+2 partial block", 2, 2, segment.BlockSize + 17},
		{"2+2 several stripes", 2, 2, 40*segment.BlockSize + 12345},
		{"4+2 exact stripes", 4, 2, 4 * 32 * segment.BlockSize},
		{"8+4 odd size", 8, 4, 3*1024*1024 + 7},
		{"1+0 no parity", 1, 0, 100000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			payload := randomPayload(tc.size)
			if err := os.Mkdir(filepath.Join(dir, "ref"), 0o755); err != nil {
				t.Fatal(err)
			}
			want := writeSegment(t, filepath.Join(dir, "ref"), 9, tc.k, tc.m, payload)
			targets := shardTargets(t, filepath.Join(dir, "new"), 9, tc.k, tc.m)
			buf := append(make([]byte, 0, len(payload)+tc.k), payload...)
			files, errs := segment.WriteShards(tc.k, buf, targets)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("write shard %d: %v", i, err)
				}
			}
			clear(buf[:cap(buf)]) // the payload buffer is free once WriteShards returns
			for i, err := range files.Sync() {
				if err != nil {
					t.Fatalf("sync shard %d: %v", i, err)
				}
			}
			for i := range targets {
				a, _ := os.ReadFile(want[i])
				b, err := os.ReadFile(targets[i].Path)
				if err != nil || !bytes.Equal(a, b) {
					t.Fatalf("shard %d differs from Encode+WriteShard (%d vs %d bytes, err %v)", i, len(a), len(b), err)
				}
			}
			if left, _ := os.ReadDir(filepath.Join(dir, "new", "spool")); len(left) != 0 {
				t.Fatalf("temporary files left in the spool: %v", left)
			}
		})
	}
}

// TestWriteShardsFailureRenamesNothing guards the commit order: when one
// shard cannot be written, no shard of the segment may appear under its
// final name, and the error names the shard that failed.
func TestWriteShardsFailureRenamesNothing(t *testing.T) {
	dir := t.TempDir()
	targets := shardTargets(t, dir, 3, 2, 2)
	targets[2].Tmp = filepath.Join(dir, "missing", "shard2.tmp")
	files, errs := segment.WriteShards(2, randomPayload(5*segment.BlockSize), targets)
	if files != nil {
		t.Fatalf("WriteShards returned files to sync although shard 2 failed")
	}
	for i, err := range errs {
		if (err != nil) != (i == 2) {
			t.Fatalf("errors %v: want exactly shard 2 to fail", errs)
		}
	}
	for i, tg := range targets {
		if _, err := os.Stat(tg.Path); err == nil {
			t.Fatalf("shard %d renamed into place although shard 2 failed", i)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "spool")); len(left) != 0 {
		t.Fatalf("temporary files left in the spool: %v", left)
	}
}

// BenchmarkWriteShards measures sealing a 16 MiB payload: parity, CRCs,
// the writes and the fsyncs of every shard (to one temporary directory,
// so the disk's speed is part of the figure).
func BenchmarkWriteShards(b *testing.B) {
	payload := randomPayload(16 << 20)
	for _, l := range []struct{ k, m int }{{2, 2}, {4, 2}, {8, 4}} {
		b.Run(fmt.Sprintf("layout=%d+%d", l.k, l.m), func(b *testing.B) {
			dir := b.TempDir()
			buf := make([]byte, 0, len(payload)+l.k)
			b.SetBytes(int64(len(payload)))
			var id uint64
			for b.Loop() {
				id++
				targets := shardTargetsIn(b, filepath.Join(dir, fmt.Sprint(id)), id, l.k, l.m)
				files, errs := segment.WriteShards(l.k, append(buf[:0], payload...), targets)
				for _, err := range append(errs, files.Sync()...) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
