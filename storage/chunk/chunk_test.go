package chunk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
)

// randomBytes returns n pseudo-random bytes that are the same on every run.
func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// split chunks data with p and returns copies of the chunks.
func split(t testing.TB, r io.Reader, p Params) [][]byte {
	t.Helper()
	c := New(r, p)
	var out [][]byte
	for {
		b, err := c.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, bytes.Clone(b))
	}
}

var small = Params{Min: 1 << 10, Avg: 4 << 10, Max: 16 << 10}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"default", Default, true},
		{"small", small, true},
		{"all equal", Params{Min: 64, Avg: 64, Max: 64}, true},
		{"min too small", Params{Min: 32, Avg: 64, Max: 128}, false},
		{"avg below min", Params{Min: 2048, Avg: 1024, Max: 4096}, false},
		{"max below avg", Params{Min: 256, Avg: 1024, Max: 512}, false},
		{"avg not power of two", Params{Min: 256, Avg: 1000, Max: 4096}, false},
		{"max too large", Params{Min: 256, Avg: 1024, Max: MaxSize + 1}, false},
		{"zero", Params{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tt.p, err, tt.ok)
			}
		})
	}
}

func TestInvalidParamsReportedByNext(t *testing.T) {
	c := New(bytes.NewReader([]byte("hello")), Params{Min: 1, Avg: 3, Max: 2})
	if _, err := c.Next(); err == nil || err == io.EOF {
		t.Fatalf("Next with invalid params: err = %v, want validation error", err)
	}
}

func TestChunks(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		p    Params
		// wantChunks is the exact chunk count, or -1 to only check bounds.
		wantChunks int
	}{
		{"empty", nil, small, 0},
		{"one byte", []byte{7}, small, 1},
		{"shorter than min", randomBytes(1, small.Min-1), small, 1},
		{"exactly min", randomBytes(2, small.Min), small, 1},
		{"zeros hit max", make([]byte, 10*small.Max), small, 10},
		{"random small params", randomBytes(3, 1<<20), small, -1},
		{"random tight params", randomBytes(4, 1<<18), Params{Min: 64, Avg: 64, Max: 64}, 1 << 12},
		{"random default", randomBytes(5, 12<<20), Default, -1},
		{"text", bytes.Repeat([]byte("mailbox item subject: quarterly report\n"), 50000), small, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := split(t, bytes.NewReader(tt.data), tt.p)
			if tt.wantChunks >= 0 && len(chunks) != tt.wantChunks {
				t.Fatalf("got %d chunks, want %d", len(chunks), tt.wantChunks)
			}
			if got := bytes.Join(chunks, nil); !bytes.Equal(got, tt.data) {
				t.Fatalf("concatenated chunks (%d bytes) differ from input (%d bytes)", len(got), len(tt.data))
			}
			for i, c := range chunks {
				if len(c) > tt.p.Max {
					t.Errorf("chunk %d is %d bytes, above Max %d", i, len(c), tt.p.Max)
				}
				if len(c) < tt.p.Min && i != len(chunks)-1 {
					t.Errorf("chunk %d of %d is %d bytes, below Min %d", i, len(chunks), len(c), tt.p.Min)
				}
				if len(c) == 0 {
					t.Errorf("chunk %d is empty", i)
				}
			}
		})
	}
}

// TestAverage checks that normalized chunking lands near the requested
// average on random data.
func TestAverage(t *testing.T) {
	data := randomBytes(6, 16<<20)
	chunks := split(t, bytes.NewReader(data), small)
	avg := len(data) / len(chunks)
	// FastCDC's skipped minimum shifts the mean up by roughly Min.
	if avg < small.Avg/2 || avg > 2*small.Avg {
		t.Fatalf("average chunk size %d, want within a factor 2 of %d", avg, small.Avg)
	}
}

// TestReaderShapes checks that boundaries do not depend on how the reader
// delivers its bytes.
func TestReaderShapes(t *testing.T) {
	data := randomBytes(7, 3<<20)
	want := split(t, bytes.NewReader(data), small)
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"one byte reads", iotest.OneByteReader(bytes.NewReader(data))},
		{"half reads", iotest.HalfReader(bytes.NewReader(data))},
		{"data with EOF", iotest.DataErrReader(bytes.NewReader(data))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := split(t, tt.r, small)
			if len(got) != len(want) {
				t.Fatalf("got %d chunks, want %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("chunk %d differs", i)
				}
			}
		})
	}
}

func TestReadError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"disk error", errors.New("disk on fire")},
		// An HTTP body cut short ends in io.ErrUnexpectedEOF: the bytes so
		// far are not the whole item and must not be stored as if they were.
		{"body cut short", io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := io.MultiReader(bytes.NewReader(randomBytes(8, 100)), iotest.ErrReader(tc.err))
			c := New(r, small)
			for range 2 {
				if _, err := c.Next(); !errors.Is(err, tc.err) {
					t.Fatalf("Next: err = %v, want %v", err, tc.err)
				}
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	data := randomBytes(9, 8<<20)
	a := split(t, bytes.NewReader(data), small)
	b := split(t, bytes.NewReader(bytes.Clone(data)), small)
	if len(a) != len(b) {
		t.Fatalf("runs gave %d and %d chunks", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("chunk %d differs between runs", i)
		}
	}
}

// TestGearTablePinned guards the on-disk format: the gear table must never
// change.
func TestGearTablePinned(t *testing.T) {
	var raw []byte
	for _, v := range gear {
		raw = binary.BigEndian.AppendUint64(raw, v)
	}
	sum := sha256.Sum256(raw)
	const want = "5184406478981a3d711a7aeb37e34a2a779c58e9fe4fe4e5b18c628fe2b78c90"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("gear table digest = %s, want %s: the table is part of the on-disk format", got, want)
	}
}

// TestBoundariesPinned guards the on-disk format end to end: the boundaries
// of a fixed input under each chunking a vault can record must never
// change, or new backups stop deduplicating against the vaults' chunks.
func TestBoundariesPinned(t *testing.T) {
	data := randomBytes(10, 16<<20)
	for _, tc := range []struct {
		name string
		p    Params
		want []int
	}{
		{"V1 (labels without chunking)", V1, []int{1177041, 1167561, 1477083, 1161744, 1401755, 1114792, 1346488, 1173448, 1100720, 738652, 1369858, 1283392, 369676, 1291997, 603009}},
		{"Default (new vaults)", Default, []int{
			296780, 284520, 295662, 273619, 337954, 173339, 369327, 313401, 167200, 484168,
			127814, 256272, 272590, 243937, 375667, 387329, 323850, 374199, 300429, 328027,
			328647, 269663, 359662, 275138, 264145, 309466, 397488, 315187, 302822, 360234,
			299689, 308162, 303669, 335628, 334244, 308448, 330620, 338989, 131299, 323826,
			354970, 478093, 212969, 310627, 271868, 293232, 273737, 335158, 168446, 264279,
			78877, 279099, 112945, 264478, 265782, 228692, 283250, 117604,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sizes []int
			for _, c := range split(t, bytes.NewReader(data), tc.p) {
				sizes = append(sizes, len(c))
			}
			if !slices.Equal(sizes, tc.want) {
				t.Fatalf("chunk sizes = %#v, want %#v", sizes, tc.want)
			}
		})
	}
}

func TestLocality(t *testing.T) {
	tests := []struct {
		name   string
		edit   func([]byte) []byte
		maxNew int
	}{
		{"insert 10 bytes in the middle", func(b []byte) []byte {
			mid := len(b) / 2
			return append(append(append([]byte{}, b[:mid]...), []byte("0123456789")...), b[mid:]...)
		}, 2},
		{"delete 10 bytes in the middle", func(b []byte) []byte {
			mid := len(b) / 2
			return append(append([]byte{}, b[:mid]...), b[mid+10:]...)
		}, 2},
		{"overwrite one byte", func(b []byte) []byte {
			c := bytes.Clone(b)
			c[len(c)/3] ^= 0xff
			return c
		}, 2},
		{"prepend 1 byte", func(b []byte) []byte {
			return append([]byte{0}, b...)
		}, 2},
	}
	data := randomBytes(11, 32<<20)
	before := map[[32]byte]bool{}
	orig := split(t, bytes.NewReader(data), Default)
	for _, c := range orig {
		before[sha256.Sum256(c)] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := split(t, bytes.NewReader(tt.edit(data)), Default)
			fresh := 0
			for _, c := range after {
				if !before[sha256.Sum256(c)] {
					fresh++
				}
			}
			t.Logf("%d of %d chunks new (original had %d)", fresh, len(after), len(orig))
			if fresh > tt.maxNew {
				t.Fatalf("%d chunks changed, want at most %d", fresh, tt.maxNew)
			}
			if len(after) < 10 {
				t.Fatalf("only %d chunks: test data too uniform to show locality", len(after))
			}
		})
	}
}

func BenchmarkChunker(b *testing.B) {
	data := randomBytes(12, 64<<20)
	for _, bc := range []struct {
		name string
		p    Params
	}{{"params=default", Default}, {"params=v1", V1}, {"params=small", small}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			r := bytes.NewReader(data)
			for b.Loop() {
				r.Reset(data)
				c := New(r, bc.p)
				for {
					if _, err := c.Next(); err != nil {
						break
					}
				}
			}
		})
	}
}

func FuzzChunker(f *testing.F) {
	f.Add([]byte("hello world"), uint16(64), uint8(7), uint16(256))
	f.Add(bytes.Repeat([]byte{0}, 5000), uint16(64), uint8(6), uint16(64))
	f.Add(randomBytes(13, 4096), uint16(100), uint8(8), uint16(1000))
	f.Fuzz(func(t *testing.T, data []byte, minSize uint16, avgExp uint8, maxSize uint16) {
		p := Params{Min: int(minSize), Avg: 1 << (avgExp % 16), Max: int(maxSize)}
		c := New(bytes.NewReader(data), p)
		if p.Validate() != nil {
			if _, err := c.Next(); err == nil || err == io.EOF {
				t.Fatalf("invalid params %+v accepted", p)
			}
			return
		}
		var got []byte
		var sizes []int
		for {
			b, err := c.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b...)
			sizes = append(sizes, len(b))
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("reassembly differs: %d vs %d bytes", len(got), len(data))
		}
		for i, n := range sizes {
			if n > p.Max || n == 0 || (n < p.Min && i != len(sizes)-1) {
				t.Fatalf("chunk %d size %d outside [%d,%d]", i, n, p.Min, p.Max)
			}
		}
	})
}
