// Package segment reads and writes the vault's write-once segments.
//
// Words used here:
//
//   - A payload is the logical content of a segment: encrypted chunk blobs
//     laid end to end, followed by a sealed table of contents and a fixed
//     footer (see Builder and ParseTable).
//   - The payload is split into K equal data shards and M parity shards with
//     Reed-Solomon coding; each shard is one file on its own disk.
//   - A shard file starts with a self-describing Header and then holds the
//     shard's bytes in blocks of BlockSize, each followed by its CRC-32C, so
//     bit rot is found at block granularity and only that block needs the
//     other shards to be rebuilt.
//   - A Set is the K+M shard files of one segment opened together; it reads
//     payload bytes and rebuilds what is missing or corrupt from any K good
//     shards.
//
// Nothing in this package changes a shard file after it has been renamed
// into place: WriteShard writes to a temporary name, syncs and renames.
package segment
