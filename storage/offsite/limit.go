package offsite

import (
	"io"
	"sync"
	"time"
)

// limiter paces bytes to a rate shared by every upload of a Store. It reads
// time from the injected clock and only sleeps itself.
type limiter struct {
	rate  int64 // bytes per second
	now   func() time.Time
	sleep func(time.Duration)

	mu   sync.Mutex
	next time.Time // when the bytes granted so far have been paid for
}

// newLimiter returns nil (no limit) for a rate of zero or less.
func newLimiter(rate int64, now func() time.Time, sleep func(time.Duration)) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{rate: rate, now: now, sleep: sleep}
}

// wait blocks until n more bytes fit the rate.
func (l *limiter) wait(n int) {
	if l == nil || n <= 0 {
		return
	}
	l.mu.Lock()
	t := l.now()
	if l.next.Before(t) {
		l.next = t
	}
	l.next = l.next.Add(time.Duration(int64(n) * int64(time.Second) / l.rate))
	d := l.next.Sub(t)
	l.mu.Unlock()
	if d > 0 {
		l.sleep(d)
	}
}

// pacedReaderAt charges every read to the limiter.
type pacedReaderAt struct {
	r     io.ReaderAt
	limit *limiter
}

func (p pacedReaderAt) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	p.limit.wait(n)
	return n, err
}
