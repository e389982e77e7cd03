package offsite

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zeebo/blake3"

	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// Copy is one vault's copy in a store, read back for recovery. It
// implements vault.Remote: every read takes the original version of a name.
type Copy struct {
	store   *Store
	ctx     context.Context
	vaultID string
	vp      string
	listed  map[string][]Version
	segs    map[uint64]copySegment
}

type copySegment struct {
	name, version, sum string
	size               int64
}

// OpenCopy lists a vault's copy in the store. With vaultID empty it picks
// the only copy the bucket holds, and fails naming them when there are
// several.
func OpenCopy(ctx context.Context, s *Store, vaultID string) (*Copy, error) {
	if vaultID == "" {
		ids, err := s.Prefixes(ctx)
		if err != nil {
			return nil, err
		}
		switch len(ids) {
		case 0:
			return nil, fmt.Errorf("bucket %s holds no vault copy under %s/: check offsite.bucket and offsite.prefix", s.bucket, s.prefix)
		case 1:
			vaultID = ids[0]
		default:
			return nil, fmt.Errorf("bucket %s holds copies of %d vaults (%s): name one with --vault-id", s.bucket, len(ids), strings.Join(ids, ", "))
		}
	}
	c := &Copy{store: s, ctx: ctx, vaultID: vaultID, vp: s.vaultPrefix(vaultID), segs: map[uint64]copySegment{}}
	var err error
	if c.listed, err = s.List(ctx, vaultID+"/"); err != nil {
		return nil, err
	}
	for name, vs := range c.listed {
		id, sum, ok := parseSegmentName(strings.TrimPrefix(name, c.vp))
		v, held := Original(vs)
		if ok && held {
			c.segs[id] = copySegment{name: name, version: v.ID, sum: sum, size: v.Size}
		}
	}
	if _, held := Original(c.listed[c.vp+keyfileName]); !held {
		return nil, fmt.Errorf("bucket %s has no keyfile for vault %s: this is not a complete copy (was 'strongroom offsite sync' ever successful?)", s.bucket, vaultID)
	}
	return c, nil
}

// VaultID is the vault the copy belongs to.
func (c *Copy) VaultID() string { return c.vaultID }

// Keyfile reads the copy of the wrapped master key.
func (c *Copy) Keyfile() ([]byte, error) { return c.readSmall(c.vp + keyfileName) }

func (c *Copy) readSmall(name string) ([]byte, error) {
	v, _ := Original(c.listed[name])
	rc, _, err := c.store.Get(c.ctx, name, v.ID)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// Manifests reads every manifest and the latest retention record of each.
func (c *Copy) Manifests() (map[string][]byte, map[string]time.Time, error) {
	out := map[string][]byte{}
	retain := map[string]time.Time{}
	for name, vs := range c.listed {
		id, sec, manifest, ok := parseSnapshotName(strings.TrimPrefix(name, c.vp))
		if _, held := Original(vs); !ok || !held || !vault.ValidSnapshotID(id) {
			continue
		}
		if !manifest {
			if t := time.Unix(sec, 0).UTC(); t.After(retain[id]) {
				retain[id] = t
			}
			continue
		}
		b, err := c.readSmall(name)
		if err != nil {
			return nil, nil, err
		}
		out[id] = b
	}
	return out, retain, nil
}

// Checkpoints reads the copy's index checkpoints (original versions).
func (c *Copy) Checkpoints() ([][]byte, error) {
	var out [][]byte
	for name, vs := range c.listed {
		if _, _, ok := parseCheckpointName(strings.TrimPrefix(name, c.vp)); !ok {
			continue
		}
		if _, held := Original(vs); !held {
			continue
		}
		b, err := c.readSmall(name)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Segments lists the copy's segments. Created is read when a segment is
// opened whole (OpenSegment); listing leaves it zero.
func (c *Copy) Segments() ([]vault.RemoteSegment, error) {
	out := make([]vault.RemoteSegment, 0, len(c.segs))
	for id, s := range c.segs {
		out = append(out, vault.RemoteSegment{ID: id, Len: uint64(s.size)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ReadSegment reads part of a segment's payload with a ranged GET.
func (c *Copy) ReadSegment(id uint64, p []byte, off int64) error {
	s, ok := c.segs[id]
	if !ok {
		return fmt.Errorf("segment %d is not in the offsite copy", id)
	}
	return c.store.ReadAt(c.ctx, s.name, s.version, p, off)
}

// OpenSegment streams a whole payload; the reader fails at the end when
// its BLAKE3 hash is not the one its name records.
func (c *Copy) OpenSegment(id uint64) (io.ReadCloser, int64, error) {
	s, ok := c.segs[id]
	if !ok {
		return nil, 0, fmt.Errorf("segment %d is not in the offsite copy", id)
	}
	rc, meta, err := c.store.Get(c.ctx, s.name, s.version)
	if err != nil {
		return nil, 0, err
	}
	created, _ := strconv.ParseInt(metaValue(meta, createdMeta), 10, 64)
	return &checkedReader{rc: rc, h: blake3.New(), want: s.sum, name: s.name}, created, nil
}

// checkedReader hashes what it reads and checks the sum at EOF.
type checkedReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want string
	name string
}

func (r *checkedReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(r.h.Sum(nil)) != r.want {
		return n, fmt.Errorf("%w: %s does not match the BLAKE3 hash in its name", vault.ErrCorrupt, r.name)
	}
	return n, err
}

func (r *checkedReader) Close() error { return r.rc.Close() }

// Open opens the copy as a read-only vault: snapshots list and items
// restore straight from the bucket.
func (c *Copy) Open(key keys.RecoveryKey) (*vault.Vault, error) {
	kf, err := c.Keyfile()
	if err != nil {
		return nil, err
	}
	return vault.OpenRemote(c, c.vaultID, kf, key)
}

// Rehydrate rebuilds the vault on new, empty disks from the copy.
func (c *Copy) Rehydrate(disks []string, key keys.RecoveryKey, progress func(vault.RehydrateStats)) (vault.RehydrateStats, error) {
	kf, err := c.Keyfile()
	if err != nil {
		return vault.RehydrateStats{}, err
	}
	return vault.Rehydrate(disks, c, c.vaultID, kf, key, progress)
}
