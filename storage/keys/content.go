package keys

import "github.com/zeebo/blake3"

// ContentHasher computes the chunk IDs of one item's chunks and, with
// them, the ID of the item's whole content (ChunkID of all its bytes)
// while hashing the bytes of a one-chunk item only once. It is not safe
// for concurrent use; Close hands its hashers back.
type ContentHasher struct {
	m      *Master
	first  ID
	chunk  *blake3.Hasher // the chunk being hashed
	whole  *blake3.Hasher // every byte so far; nil until a second chunk
	chunks int
}

// NewContentHasher returns a ContentHasher for one item.
func (m *Master) NewContentHasher() *ContentHasher {
	return &ContentHasher{m: m}
}

// Chunk returns the chunk ID of data, the item's next chunk, and adds data
// to the item's content.
func (c *ContentHasher) Chunk(data []byte) ID {
	c.chunks++
	switch {
	case c.chunks == 1:
		// The state after the first chunk is also the state of the
		// whole content so far: kept, it becomes the whole-content
		// hasher if a second chunk comes.
		c.chunk = c.m.getHasher()
		_, _ = c.chunk.Write(data)
		c.chunk.Sum(c.first[:0])
		return c.first
	case c.chunks == 2:
		c.whole, c.chunk = c.chunk, c.m.getHasher()
	default:
		c.chunk.Reset()
	}
	_, _ = c.whole.Write(data)
	_, _ = c.chunk.Write(data)
	var id ID
	c.chunk.Sum(id[:0])
	return id
}

// Sum returns the ID of all the content passed to Chunk: the first chunk's
// ID when there was one chunk, ChunkID(nil) when there was none.
func (c *ContentHasher) Sum() ID {
	switch c.chunks {
	case 0:
		return c.m.ChunkID(nil)
	case 1:
		return c.first
	}
	var id ID
	c.whole.Sum(id[:0])
	return id
}

// Close returns the hashers to the master's pool; c must not be used
// afterwards.
func (c *ContentHasher) Close() {
	for _, h := range []*blake3.Hasher{c.chunk, c.whole} {
		if h != nil {
			c.m.hashers.Put(h)
		}
	}
	c.chunk, c.whole = nil, nil
}
