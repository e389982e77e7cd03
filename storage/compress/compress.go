package compress

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Probe settings; see the package documentation.
const (
	// ProbeThreshold is the input size from which Compress probes a sample
	// before compressing.
	ProbeThreshold = 64 << 10
	// ProbeSize is the size of each of the samples Compress probes: one at
	// the start, one in the middle and one at the end of the input.
	ProbeSize = 8 << 10
	// MinSaving is the fraction of the sample, in percent, that compression
	// must save for Compress to compress the whole input.
	MinSaving = 5
)

// minDecoderLimit is the smallest decompressed-size limit a decoder is built
// with; smaller limits share its decoder and are enforced after decoding.
const minDecoderLimit = 64 << 10

var encoder = newEncoder()

func newEncoder() *zstd.Encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		// One encoder per core: EncodeAll callers on different
		// goroutines then compress in parallel instead of queueing.
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithLowerEncoderMem(true),
		// At SpeedFastest the encoder otherwise stores a block with no
		// matches as raw literals. Text with a skewed alphabet but few
		// repeats (base64 attachments in MIME, which is most of a
		// mailbox's bytes) then stays at 100 % instead of the 75 % that
		// Huffman coding of its literals gives. Truly random blocks are
		// still emitted raw once Huffman coding does not pay.
		zstd.WithAllLitEntropyCompression(true),
		// A window of 1 MiB covers a whole chunk of a new vault
		// (chunk.Default.Max) and keeps each encoder's history at
		// 1 MiB instead of 4 MiB (vaults chunking at chunk.V1 lose
		// matches more than 1 MiB back within a chunk).
		zstd.WithWindowSize(1<<20),
	)
	if err != nil {
		panic("compress: creating zstd encoder: " + err.Error())
	}
	return e
}

// probeBufs holds scratch buffers for compressing the probe sample.
var probeBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, ProbeSize+ProbeSize/8)
	return &b
}}

// Compress appends src to dst, zstd-compressed when that makes it smaller,
// and reports whether it compressed. When compressed is false the appended
// bytes are exactly src. Compress is safe for concurrent use. dst and src must
// not overlap.
func Compress(dst, src []byte) (out []byte, compressed bool) {
	if len(src) == 0 {
		return dst, false
	}
	if len(src) >= ProbeThreshold && !probe(src) {
		return append(dst, src...), false
	}
	out = encoder.EncodeAll(src, dst)
	if len(out)-len(dst) >= len(src) {
		return append(dst, src...), false
	}
	return out, true
}

// probe reports whether any of three samples of src, at its start, middle
// and end, compresses by at least MinSaving percent. A chunk is often a mix
// (an office file with embedded images, a MIME message whose text precedes
// an attachment): it is stored raw only when every sample says it is
// incompressible.
func probe(src []byte) bool {
	bp := probeBufs.Get().(*[]byte)
	defer probeBufs.Put(bp)
	for _, at := range [...]int{0, len(src)/2 - ProbeSize/2, len(src) - ProbeSize} {
		sample := src[at : at+ProbeSize]
		*bp = encoder.EncodeAll(sample, (*bp)[:0])
		if len(*bp) <= len(sample)*(100-MinSaving)/100 {
			return true
		}
	}
	return false
}

// decoders caches one decoder per decompressed-size limit, rounded up to a
// power of two, so a corrupt frame cannot make the decoder allocate much more
// than maxSize.
var decoders sync.Map // uint64 -> *zstd.Decoder

func decoderFor(maxSize int) (*zstd.Decoder, error) {
	limit := uint64(max(maxSize, minDecoderLimit))
	limit = 1 << bits.Len64(limit-1)
	if d, ok := decoders.Load(limit); ok {
		return d.(*zstd.Decoder), nil
	}
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(limit),
	)
	if err != nil {
		return nil, err
	}
	if prev, loaded := decoders.LoadOrStore(limit, d); loaded {
		d.Close()
		return prev.(*zstd.Decoder), nil
	}
	return d, nil
}

// ErrTooLarge is wrapped by the error Decompress returns when the data
// decompresses to more than maxSize bytes.
var ErrTooLarge = errors.New("decompressed data exceeds the size limit")

// Decompress appends the decompression of src, a frame made by Compress, to
// dst. It fails if the result would exceed maxSize bytes. Errors start with
// "decompress: ". Decompress is safe for concurrent use.
func Decompress(dst, src []byte, maxSize int) ([]byte, error) {
	if maxSize <= 0 {
		return dst, fmt.Errorf("decompress: size limit %d is not positive", maxSize)
	}
	d, err := decoderFor(maxSize)
	if err != nil {
		return dst, fmt.Errorf("decompress: %w", err)
	}
	// Decode into the spare capacity of dst rather than appending to dst:
	// the decoder counts bytes already in its destination against its size
	// limit, so a non-empty dst would lower the limit.
	tail, err := d.DecodeAll(src, dst[len(dst):])
	switch {
	case errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return dst, fmt.Errorf("decompress: %w (%d bytes)", ErrTooLarge, maxSize)
	case err != nil:
		return dst, fmt.Errorf("decompress: %w", err)
	case len(tail) > maxSize:
		return dst, fmt.Errorf("decompress: %w (%d bytes)", ErrTooLarge, maxSize)
	case len(tail) == 0:
		return dst, nil
	case cap(dst)-len(dst) >= len(tail) && &dst[:len(dst)+1][len(dst)] == &tail[0]:
		// Decoded in place.
		return dst[:len(dst)+len(tail)], nil
	}
	return append(dst, tail...), nil
}
