package chunk

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// Params bounds the sizes of the chunks a Chunker produces.
//
// Min is the smallest chunk size except for the final chunk of a stream, Avg
// is the target average and must be a power of two, and Max is the hard upper
// limit.
type Params struct {
	Min, Avg, Max int
}

// Default is the chunking a new vault records in its disk labels and uses
// for its life: 64 KiB minimum, 256 KiB average and 1 MiB maximum. Below
// the minimum an item is one chunk, so the minimum decides whether the same
// attachment in two messages (the bulk of a mailbox's bytes) or an edited
// office file shares chunks at all; with 256 KiB most did not.
var Default = Params{Min: 64 << 10, Avg: 256 << 10, Max: 1 << 20}

// V1 is the chunking of vaults whose labels record none (created before
// the labels carried it): 256 KiB minimum, 1 MiB average and 4 MiB
// maximum. Such vaults keep it, so that new backups still deduplicate
// against what they hold.
var V1 = Params{Min: 256 << 10, Avg: 1 << 20, Max: 4 << 20}

// Limits on Params accepted by Validate.
const (
	// MinSize is the smallest allowed value of Params.Min.
	MinSize = 64
	// MaxSize is the largest allowed value of Params.Max.
	MaxSize = 1 << 30
)

// Validate reports whether p describes a usable chunking: MinSize <= Min <=
// Avg <= Max <= MaxSize and Avg a power of two.
func (p Params) Validate() error {
	switch {
	case p.Min < MinSize:
		return fmt.Errorf("chunk params: Min %d is below %d", p.Min, MinSize)
	case p.Avg < p.Min:
		return fmt.Errorf("chunk params: Avg %d is below Min %d", p.Avg, p.Min)
	case p.Max < p.Avg:
		return fmt.Errorf("chunk params: Max %d is below Avg %d", p.Max, p.Avg)
	case p.Max > MaxSize:
		return fmt.Errorf("chunk params: Max %d is above %d", p.Max, MaxSize)
	case p.Avg&(p.Avg-1) != 0:
		return fmt.Errorf("chunk params: Avg %d is not a power of two", p.Avg)
	}
	return nil
}

// masks returns the hard and easy masks for normalized chunking. Both select
// the top bits of the gear hash, which depend on the last 64 input bytes.
func (p Params) masks() (hard, easy uint64) {
	avgBits := bits.Len(uint(p.Avg)) - 1
	hardBits := min(avgBits+2, 63)
	easyBits := max(avgBits-2, 1)
	hard = ^uint64(0) << (64 - hardBits)
	easy = ^uint64(0) << (64 - easyBits)
	return hard, easy
}

// Chunker reads a stream and returns it as content-defined chunks. A Chunker
// is not safe for concurrent use.
type Chunker struct {
	r          io.Reader
	p          Params
	hard, easy uint64

	buf        []byte // holds up to 2*Max bytes read but not yet returned
	start, end int    // buf[start:end] is pending input
	eof        bool   // the reader has been drained
	err        error  // sticky error returned by Next
}

// New returns a Chunker that splits the bytes of r according to p. If p is
// invalid, the first call to Next returns the error from p.Validate.
func New(r io.Reader, p Params) *Chunker {
	c := &Chunker{r: r, p: p}
	if err := p.Validate(); err != nil {
		c.err = err
		return c
	}
	c.hard, c.easy = p.masks()
	return c
}

// Next returns the next chunk of the stream. The returned slice is only valid
// until the next call to Next, which may overwrite it. After the last chunk,
// Next returns io.EOF; an empty stream yields io.EOF at once. A read error
// other than io.EOF is returned as is and repeated by later calls; bytes not
// yet returned as chunks are then lost.
func (c *Chunker) Next() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.end-c.start < c.p.Max && !c.eof {
		if err := c.fill(); err != nil {
			c.err = err
			return nil, err
		}
	}
	n := c.end - c.start
	if n == 0 {
		c.err = io.EOF
		return nil, io.EOF
	}
	cut := c.cut(c.buf[c.start:c.end])
	chunk := c.buf[c.start : c.start+cut : c.start+cut]
	c.start += cut
	return chunk, nil
}

// Close hands the chunker's buffer back for reuse by later chunkers; the
// chunks it returned must no longer be used. Calling Close is optional
// (without it the buffer is garbage collected) but saves allocating and
// zeroing 2×Max bytes per stream, which dominates for small items.
func (c *Chunker) Close() {
	if c.buf != nil {
		putBuf(c.buf)
		c.buf = nil
	}
	if c.err == nil {
		c.err = errors.New("chunk: chunker closed")
	}
}

var (
	poolsMu sync.Mutex
	pools   = map[int]*sync.Pool{}
)

func poolFor(n int) *sync.Pool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	p := pools[n]
	if p == nil {
		p = &sync.Pool{New: func() any { b := make([]byte, n); return &b }}
		pools[n] = p
	}
	return p
}

func getBuf(n int) []byte { return *(poolFor(n).Get().(*[]byte)) }

func putBuf(b []byte) { poolFor(len(b)).Put(&b) }

// fill moves the pending bytes to the front of the buffer and reads until the
// buffer is full or the reader is drained.
func (c *Chunker) fill() error {
	full := 2 * c.p.Max
	if c.buf == nil {
		// Start small: most items (mail, contacts) are far smaller than
		// Max, and a 2×Max buffer per concurrent upload adds up. The
		// buffer grows to 2×Max the first time the stream fills it.
		c.buf = getBuf(min(full, smallBuf))
	}
	for {
		if c.start > 0 {
			c.end = copy(c.buf, c.buf[c.start:c.end])
			c.start = 0
		}
		n, err := fill(c.r, c.buf[c.end:])
		c.end += n
		switch {
		case err == nil && len(c.buf) < full:
			big := getBuf(full)
			c.end = copy(big, c.buf[:c.end])
			putBuf(c.buf)
			c.buf = big
		case err == nil:
			return nil
		case err == io.EOF:
			c.eof = true
			return nil
		default:
			return fmt.Errorf("chunk: read: %w", err)
		}
	}
}

// fill reads into b until it is full or the reader stops. Unlike
// io.ReadFull it keeps the reader's own error: only io.EOF is the clean end
// of a stream. A reader that fails with io.ErrUnexpectedEOF (an HTTP body
// cut short, a truncated archive) is failing, and the bytes so far must not
// be stored as the whole item.
func fill(r io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
			continue
		}
		// A reader that keeps returning nothing and no error is broken.
		if empty++; empty == 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// smallBuf is the first buffer a chunker reads into.
const smallBuf = 64 << 10

// cut returns the length of the chunk at the start of b, which holds either
// at least Max bytes or the whole rest of the stream.
func (c *Chunker) cut(b []byte) int {
	n := len(b)
	if n <= c.p.Min {
		return n
	}
	if n > c.p.Max {
		n = c.p.Max
	}
	normal := min(c.p.Avg, n)

	// The hash restarts at every chunk and skips the first Min bytes,
	// which can never hold a boundary.
	h, k := scan(0, b[c.p.Min:normal], c.hard)
	if k >= 0 {
		return c.p.Min + k
	}
	if _, k = scan(h, b[normal:n], c.easy); k >= 0 {
		return normal + k
	}
	return n
}

// scan rolls the gear hash h over b and returns the length of b's prefix
// that ends at the first boundary under mask, or -1 and the hash after all
// of b when there is none. It takes two bytes a step: the hash after the
// second is h<<2 + gear[x0]<<1 + gear[x1], so the chain of operations that
// depend on h is one shift and one add per two bytes instead of per byte;
// both positions are still checked, so the boundaries are those of the
// byte-at-a-time rolling (the pinned tests hold them). The gear table is an
// array indexed by a byte, so the lookups compile without bounds checks.
func scan(h uint64, b []byte, mask uint64) (uint64, int) {
	j := 0
	for ; j+1 < len(b); j += 2 {
		g0, g1 := gear[b[j]], gear[b[j+1]]
		h1 := h<<1 + g0
		h = h<<2 + (g0<<1 + g1)
		if h1&mask == 0 {
			return h1, j + 1
		}
		if h&mask == 0 {
			return h, j + 2
		}
	}
	if j < len(b) {
		h = h<<1 + gear[b[j]]
		if h&mask == 0 {
			return h, j + 1
		}
	}
	return h, -1
}
