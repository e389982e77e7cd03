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

// Default is the chunking used by the vault: 256 KiB minimum, 1 MiB average
// and 4 MiB maximum.
var Default = Params{Min: 256 << 10, Avg: 1 << 20, Max: 4 << 20}

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
		n, err := io.ReadFull(c.r, c.buf[c.end:])
		c.end += n
		switch {
		case err == nil && len(c.buf) < full:
			big := getBuf(full)
			c.end = copy(big, c.buf[:c.end])
			putBuf(c.buf)
			c.buf = big
		case err == nil:
			return nil
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			c.eof = true
			return nil
		default:
			return fmt.Errorf("chunk: read: %w", err)
		}
	}
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

	// The hash restarts at every chunk and skips the first Min bytes, which
	// can never hold a boundary. The gear table is an array indexed by a
	// byte, so the loops compile without bounds checks.
	var h uint64
	hard, easy := c.hard, c.easy
	i := c.p.Min
	for _, x := range b[c.p.Min:normal] {
		h = h<<1 + gear[x]
		i++
		if h&hard == 0 {
			return i
		}
	}
	for _, x := range b[normal:n] {
		h = h<<1 + gear[x]
		i++
		if h&easy == 0 {
			return i
		}
	}
	return n
}
