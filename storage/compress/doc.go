// Package compress compresses chunks with zstd and skips data that does not
// compress.
//
// # Words
//
// A frame is one zstd frame as produced by the encoder's EncodeAll: a header
// recording the decompressed size, the compressed blocks and a checksum.
// Compress emits exactly one frame per call when it compresses.
//
// Stored raw means the output of Compress is the input unchanged and the
// compressed flag is false. The caller records that flag next to the data (for
// example in the segment index) and must not call Decompress on raw data.
//
// The probe is a cheap test for incompressible input such as media, archives
// and already-encrypted attachments. For inputs of at least ProbeThreshold
// bytes, Compress first compresses three ProbeSize samples, taken from the
// start, the middle and the end of the input; if none of them saves
// MinSaving of its size, the whole input is stored raw without compressing
// it. Smaller inputs skip the probe and are
// compressed whole. Whatever the probe says, a compressed result that is not
// smaller than the input is discarded and the input stored raw.
//
// The limit is the maxSize argument of Decompress: the largest decompressed
// size a caller accepts. It protects the vault from decompression bombs in
// corrupt or hostile data.
//
// Encoding uses one package-level zstd encoder at the SpeedFastest level with
// one internal encoder per core (WithEncoderConcurrency(GOMAXPROCS)) and
// low-memory settings, so concurrent EncodeAll callers compress in parallel.
// Literals are entropy-coded even in blocks without matches
// (WithAllLitEntropyCompression): base64 and other small-alphabet text
// shrinks by a quarter that way, where the fastest level would otherwise
// store it raw.
package compress
