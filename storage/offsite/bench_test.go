package offsite_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/vault"
)

// benchItems x benchItemBytes of incompressible content: 512 MiB, eight
// segments of the product's 64 MiB.
const (
	benchItems     = 16
	benchItemBytes = 32 << 20
)

// benchRound makes every iteration's prefix new, across -count runs too:
// a prefix used before would find its objects there and copy nothing.
var benchRound atomic.Int64

// benchParallel is the copier's setting under test (its default).
const benchParallel = 4

// BenchmarkOffsite compares the copier (way=copier: every sealed segment
// read through its shards, hashed, PUT under a COMPLIANCE lock 4 at a time
// and checked with HEAD, then the keyfile, manifest and retention record)
// with a plain parallel PUT of the same payload bytes from memory, 4 at a
// time, no locks (way=plain-put), against the same versitygw on loopback
// with the same client settings. Each iteration writes under a new prefix,
// so nothing is skipped as already there. Building the vault and reading
// the payloads for the plain PUT are left out of the timing: they are
// setup, not what is compared.
func BenchmarkOffsite(b *testing.B) {
	r := newRig(b, 4)
	r.opts = vault.Options{Disks: r.disks, Key: r.key} // the product's segment and chunk sizes
	r.v.Close()
	r.open()
	f := fixture{}
	for i := range benchItems {
		f[fmt.Sprintf("drive/u%d/video.mp4", i)] = randomBytes(uint64(100+i), benchItemBytes)
	}
	r.backup(f, 24*time.Hour)
	r.seal()
	sealed, err := vault.OpenSealed(r.disks, r.key)
	if err != nil {
		b.Fatal(err)
	}
	payloads, total := readPayloads(b, sealed)
	ctx := context.Background()
	b.Run("way=copier", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			cfg := r.srv.Config()
			cfg.Prefix = fmt.Sprintf("copier-%d", benchRound.Add(1))
			c := &offsite.Copier{Store: r.openStore(cfg), Vault: sealed, Now: clock.Wall, Parallel: benchParallel}
			if rep, err := c.Sync(ctx); err != nil || rep.SnapshotsOffsite != 1 {
				b.Fatalf("sync: %v %+v", err, rep)
			}
		}
	})
	b.Run("way=plain-put", func(b *testing.B) {
		b.SetBytes(total)
		client := r.store.Client()
		for range b.N {
			plainPut(b, ctx, client, r.store.Bucket(), fmt.Sprintf("plain-%d", benchRound.Add(1)), payloads)
		}
	})
}

func readPayloads(b *testing.B, sealed *vault.Sealed) ([][]byte, int64) {
	snaps, err := sealed.Snapshots()
	if err != nil || len(snaps) != 1 {
		b.Fatalf("sealed snapshots: %v %d", err, len(snaps))
	}
	var out [][]byte
	var total int64
	for _, id := range snaps[0].Segments {
		g, err := sealed.Segment(id)
		if err != nil {
			b.Fatal(err)
		}
		p := make([]byte, g.Len())
		if _, err := g.ReadAt(p, 0); err != nil {
			b.Fatal(err)
		}
		g.Close()
		out = append(out, p)
		total += int64(len(p))
	}
	return out, total
}

// plainPut uploads every payload 4 at a time with the copier's part size
// and threads, without retention.
func plainPut(b *testing.B, ctx context.Context, c *minio.Client, bucket, prefix string, payloads [][]byte) {
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, len(payloads))
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_, err := c.PutObject(ctx, bucket, fmt.Sprintf("%s/%d", prefix, i), bytes.NewReader(payloads[i]), int64(len(payloads[i])),
					minio.PutObjectOptions{PartSize: 16 << 20, NumThreads: 4, ContentType: "application/octet-stream"})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range payloads {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
