package compress

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// jsonLike returns n bytes of repetitive but not constant JSON, similar to
// mailbox item metadata.
func jsonLike(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":"AAMkAD%08d","subject":"Weekly status %d","from":"user%d@contoso.example","size":%d,"isRead":%t}`+"\n",
			i*7919, i, i%37, i*131%100000, i%3 == 0)
	}
	return b.Bytes()[:n]
}

// halfRandom is compressible text with a random region in the middle, where
// the middle probe sample looks.
func halfRandom(n int) []byte {
	b := jsonLike(n)
	copy(b[n/2-ProbeSize:], randomBytes(3, 2*ProbeSize))
	return b
}

// randomWithText is random bytes with compressible text only at [at, at+n).
func randomWithText(size, at, n int) []byte {
	b := randomBytes(4, size)
	copy(b[at:], jsonLike(n))
	return b
}

// base64Random is the base64 of random bytes in 76-column lines, as an
// attachment in a MIME message: no repeats, but a 64-letter alphabet.
func base64Random(n int) []byte {
	enc := base64.StdEncoding.EncodeToString(randomBytes(5, n*3/4))
	var b bytes.Buffer
	for len(enc) > 0 && b.Len() < n {
		l := min(76, len(enc))
		b.WriteString(enc[:l])
		b.WriteString("\r\n")
		enc = enc[l:]
	}
	return b.Bytes()[:n]
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name           string
		src            []byte
		wantCompressed bool
	}{
		{"empty", nil, false},
		{"one byte", []byte{'x'}, false},
		{"short text below probe threshold", []byte(strings.Repeat("hello strongroom ", 500)), true},
		{"json 1 MiB", jsonLike(1 << 20), true},
		{"json just above probe threshold", jsonLike(ProbeThreshold), true},
		{"zeros 4 MiB", make([]byte, 4<<20), true},
		{"random 1 MiB", randomBytes(1, 1<<20), false},
		{"random below probe threshold", randomBytes(2, 10<<10), false},
		{"random in the middle, text around it", halfRandom(1 << 20), true},
		{"random, text only at the start", randomWithText(1<<20, 0, 256<<10), true},
		{"random, text only in the middle", randomWithText(1<<20, 400<<10, 256<<10), true},
		{"random, text only at the end", randomWithText(1<<20, 768<<10, 256<<10), true},
		{"random, text smaller than a sample", randomWithText(1<<20, 512<<10, 1<<10), false},
		{"base64 of random bytes", base64Random(1 << 20), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			out, compressed := Compress(bytes.Clone(prefix), tt.src)
			if compressed != tt.wantCompressed {
				t.Fatalf("compressed = %v, want %v (%d -> %d bytes)", compressed, tt.wantCompressed, len(tt.src), len(out)-len(prefix))
			}
			if !bytes.HasPrefix(out, prefix) {
				t.Fatalf("dst prefix not kept")
			}
			body := out[len(prefix):]
			if !compressed {
				if !bytes.Equal(body, tt.src) {
					t.Fatalf("uncompressed output differs from input")
				}
				return
			}
			if len(body) >= len(tt.src) {
				t.Fatalf("compressed %d bytes to %d, not smaller", len(tt.src), len(body))
			}
			got, err := Decompress([]byte("pre"), body, len(tt.src))
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if !bytes.Equal(got, append([]byte("pre"), tt.src...)) {
				t.Fatalf("round trip differs")
			}
		})
	}
}

// TestCompressBase64Ratio guards the setting that makes mail attachments
// compress: base64 of random bytes carries 6 bits per byte, so entropy
// coding its literals must save close to a quarter.
func TestCompressBase64Ratio(t *testing.T) {
	src := base64Random(1 << 20)
	out, compressed := Compress(nil, src)
	if !compressed || len(out) > len(src)*80/100 {
		t.Fatalf("base64 of random bytes: %d -> %d bytes (compressed %v), want at most 80 %%", len(src), len(out), compressed)
	}
}

func TestDecompressErrors(t *testing.T) {
	frame, ok := Compress(nil, jsonLike(1<<20))
	if !ok {
		t.Fatal("json did not compress")
	}
	tests := []struct {
		name    string
		src     []byte
		maxSize int
		tooBig  bool
	}{
		{"garbage", []byte("this is not zstd at all"), 1 << 20, false},
		{"truncated frame", frame[:len(frame)/2], 1 << 20, false},
		{"flipped byte", func() []byte { b := bytes.Clone(frame); b[len(b)/2] ^= 0x55; return b }(), 1 << 20, false},
		{"limit one byte short", frame, 1<<20 - 1, true},
		{"limit far below", frame, 1000, true},
		{"zero limit", frame, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Decompress([]byte("keep"), tt.src, tt.maxSize)
			if err == nil {
				t.Fatalf("Decompress succeeded with %d bytes", len(out))
			}
			if !strings.HasPrefix(err.Error(), "decompress: ") {
				t.Errorf("error %q lacks the decompress: prefix", err)
			}
			if got := errors.Is(err, ErrTooLarge); got != tt.tooBig {
				t.Errorf("errors.Is(err, ErrTooLarge) = %v, want %v (err: %v)", got, tt.tooBig, err)
			}
			if string(out) != "keep" {
				t.Errorf("dst not returned unchanged on error: %q", out)
			}
		})
	}
}

// TestDecompressSmallLimitExact checks that a limit below the smallest shared
// decoder limit is still enforced to the byte.
func TestDecompressSmallLimitExact(t *testing.T) {
	src := []byte(strings.Repeat("abc", 1000))
	frame, ok := Compress(nil, src)
	if !ok {
		t.Fatal("did not compress")
	}
	if _, err := Decompress(nil, frame, len(src)); err != nil {
		t.Fatalf("limit equal to size: %v", err)
	}
	if _, err := Decompress(nil, frame, len(src)-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("limit one below size: err = %v, want ErrTooLarge", err)
	}
}

func TestConcurrent(t *testing.T) {
	src := jsonLike(256 << 10)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			in := append(bytes.Clone(src), byte(g))
			for range 20 {
				c, ok := Compress(nil, in)
				if !ok {
					errs <- errors.New("not compressed")
					return
				}
				out, err := Decompress(nil, c, len(in))
				if err != nil || !bytes.Equal(out, in) {
					errs <- fmt.Errorf("round trip failed: %v", err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzDecompress(f *testing.F) {
	frame, _ := Compress(nil, jsonLike(4096))
	f.Add(frame)
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Add([]byte("garbage"))
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := Decompress(nil, src, limit)
		if err == nil && len(out) > limit {
			t.Fatalf("decompressed to %d bytes, above limit %d", len(out), limit)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "decompress: ") {
			t.Fatalf("error %q lacks prefix", err)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello hello"))
	f.Add(jsonLike(70 << 10))
	f.Fuzz(func(t *testing.T, src []byte) {
		out, compressed := Compress(nil, src)
		if !compressed {
			if !bytes.Equal(out, src) {
				t.Fatal("raw output differs from input")
			}
			return
		}
		if len(out) >= len(src) {
			t.Fatalf("compressed output not smaller: %d >= %d", len(out), len(src))
		}
		got, err := Decompress(nil, out, len(src))
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func benchInputs() []struct {
	name string
	data []byte
} {
	return []struct {
		name string
		data []byte
	}{
		{"json-1MiB", jsonLike(1 << 20)},
		{"base64-1MiB", base64Random(1 << 20)},
		{"half-random-1MiB", randomWithText(1<<20, 512<<10, 512<<10)},
		{"random-1MiB", randomBytes(4, 1<<20)},
	}
}

func BenchmarkCompress(b *testing.B) {
	for _, in := range benchInputs() {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			dst := make([]byte, 0, len(in.data)+1024)
			for b.Loop() {
				dst, _ = Compress(dst[:0], in.data)
			}
			b.ReportMetric(float64(len(dst))/float64(len(in.data)), "ratio")
		})
	}
}

// BenchmarkCompressParallel shows the throughput of concurrent callers, which
// get one internal encoder per core.
func BenchmarkCompressParallel(b *testing.B) {
	data := jsonLike(1 << 20)
	b.SetBytes(int64(len(data)))
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]byte, 0, len(data)+1024)
		for pb.Next() {
			dst, _ = Compress(dst[:0], data)
		}
	})
}

func BenchmarkDecompress(b *testing.B) {
	data := jsonLike(1 << 20)
	frame, _ := Compress(nil, data)
	b.SetBytes(int64(len(data)))
	dst := make([]byte, 0, len(data))
	for b.Loop() {
		var err error
		if dst, err = Decompress(dst[:0], frame, len(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecompressIntoCapacity checks that Decompress reuses the spare capacity
// of dst and that a prefix in dst does not count against the limit.
func TestDecompressIntoCapacity(t *testing.T) {
	src := jsonLike(1 << 20)
	frame, _ := Compress(nil, src)
	tests := []struct {
		name     string
		dst      []byte
		inPlace  bool
		wantHead string
	}{
		{"nil", nil, false, ""},
		{"prefix without room", []byte("head"), false, "head"},
		{"prefix with room", append(make([]byte, 0, len(src)+8), "head"...), true, "head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Decompress(tt.dst, frame, len(src))
			if err != nil {
				t.Fatal(err)
			}
			if string(out[:len(tt.wantHead)]) != tt.wantHead || !bytes.Equal(out[len(tt.wantHead):], src) {
				t.Fatal("output differs")
			}
			if got := cap(tt.dst) > 0 && &out[0] == &tt.dst[:1][0]; got != tt.inPlace {
				t.Fatalf("decoded in place = %v, want %v", got, tt.inPlace)
			}
		})
	}
}
