// Package chunk splits a byte stream into content-defined chunks using
// FastCDC with normalized chunking.
//
// # Words
//
// A chunk is a contiguous run of bytes of the input. Chunks are the unit the
// vault hashes, deduplicates, compresses and encrypts; concatenating every
// chunk in order gives back the input exactly.
//
// A boundary is the position where one chunk ends and the next begins. The
// chunker chooses boundaries from the content itself (content-defined
// chunking), so inserting or deleting bytes in one place of a file moves only
// the boundaries near the edit; chunks further away are cut at the same
// content and therefore deduplicate against earlier backups.
//
// The gear hash is a rolling fingerprint updated once per byte as
// h = h<<1 + gear[b]. Because of the shift, the top bits of h depend only on
// the last 64 bytes, so a boundary decision depends on a 64-byte window.
//
// The gear table is the 256-entry table of 64-bit values used by the gear
// hash. It is generated at start-up by SplitMix64 from the fixed seed
// gearSeed. The table is part of the on-disk format: changing the seed or the
// generator moves every boundary and defeats deduplication against all data
// already stored. A test pins a digest of the table so that an accidental
// change fails the build.
//
// Normalized chunking (FastCDC's "NC" level 2) uses two masks. Between Min
// and Avg bytes into a chunk the hard mask, with two more bits than log2(Avg),
// makes a boundary unlikely; after Avg the easy mask, with two fewer bits,
// makes one likely. The chunk sizes thereby cluster around Avg. A boundary is
// declared when the masked top bits of the gear hash are all zero.
//
// Params bound the chunk sizes: every chunk but the last is at least Min and
// at most Max bytes long; the last chunk may be shorter than Min. Params are
// part of the on-disk format too, in the sense that the same data chunked with
// different Params produces different chunks.
package chunk
