package warden

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/immutable"
)

// Record kinds in the ledger.
const (
	kindSegment        = "segment"          // a sealed segment first seen
	kindSnapshot       = "snapshot"         // a sealed manifest first read
	kindRetain         = "retain"           // a sealed retention extension, or a disagreeing copy's
	kindExpiredSnap    = "expired-snapshot" // the warden removed a snapshot
	kindExpiredSegment = "expired-segment"  // the warden removed a segment
	kindUnreadable     = "unreadable"       // a manifest no copy of which decodes
	kindConfirm        = "confirm"          // an operator accepted a rebuilt ledger
)

// record is one line of the ledger. Seq counts lines from 1; Prev is the
// hex SHA-256 of the previous line (without its newline), so that a line
// changed or removed in the middle breaks the chain.
type record struct {
	Seq         uint64    `json:"seq"`
	Prev        string    `json:"prev"`
	At          time.Time `json:"at"` // trusted time of recording
	Kind        string    `json:"kind"`
	Snapshot    string    `json:"snapshot,omitempty"`
	Segment     uint64    `json:"segment,omitempty"`
	Segments    []uint64  `json:"segments,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	RetainUntil time.Time `json:"retain_until,omitzero"`
	Note        string    `json:"note,omitempty"`
}

// SnapshotRecord is what the warden knows of one snapshot.
type SnapshotRecord struct {
	ID          string
	Created     time.Time
	RetainUntil time.Time
	Segments    map[uint64]bool
	Expired     bool
	Unreadable  bool // recorded without being decoded: its segments are unknown
}

// SegmentList returns the snapshot's segments in ascending order.
func (s *SnapshotRecord) SegmentList() []uint64 {
	out := make([]uint64, 0, len(s.Segments))
	for id := range s.Segments {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// SegmentRecord is what the warden knows of one segment.
type SegmentRecord struct {
	ID        uint64
	FirstSeen time.Time
	Expired   bool
}

// ledger is the warden's own record of every sealed snapshot and segment:
// an append-only, hash-chained JSON-lines file in the warden's state
// directory, marked append-only on the filesystem, and a head file naming
// the last line, so that a truncated ledger is noticed.
type ledger struct {
	path string
	f    *os.File
	seq  uint64
	head string // hex SHA-256 of the last line

	snaps map[string]*SnapshotRecord
	segs  map[uint64]*SegmentRecord
	// refs counts, per segment, the recorded snapshots naming it.
	refs map[uint64][]string
}

// errLedgerDamaged is wrapped when the ledger's chain is broken or it is
// shorter than its head file says.
var errLedgerDamaged = errors.New("the warden's ledger is damaged")

const ledgerFile, headFile = "ledger.jsonl", "ledger.head"

type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// openLedger opens the ledger in dir, creating it when missing. A damaged
// ledger is returned with an error wrapping errLedgerDamaged and must not
// be used.
func openLedger(dir string) (*ledger, error) {
	l := &ledger{path: filepath.Join(dir, ledgerFile), snaps: map[string]*SnapshotRecord{}, segs: map[uint64]*SegmentRecord{}, refs: map[uint64][]string{}}
	if err := l.load(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the warden's ledger: %w", err)
	}
	l.f = f
	// Append-only on the filesystem too, where it can be: not even this
	// process can then rewrite what it recorded without unsealing it.
	if err := immutable.SetAppendOnly(l.path); err != nil && !errors.Is(err, immutable.ErrNotSupported) {
		f.Close()
		return nil, fmt.Errorf("seal the warden's ledger: %w", err)
	}
	return l, nil
}

func (l *ledger) load() error {
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		if h, herr := readHead(l.path); herr == nil && h.Seq > 0 {
			return fmt.Errorf("%w: %s is gone but %s says it held %d records", errLedgerDamaged, l.path, headFile, h.Seq)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the warden's ledger: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] != '\n' {
			// A line cut by a crash while appending: it was never
			// acknowledged; drop it.
			if terr := l.dropTail(int64(len(line))); terr != nil {
				return terr
			}
			break
		}
		if len(line) > 0 {
			if perr := l.apply(bytes.TrimSuffix(line, []byte("\n"))); perr != nil {
				return fmt.Errorf("%w: line %d: %v", errLedgerDamaged, l.seq+1, perr)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read the warden's ledger: %w", err)
		}
	}
	if h, err := readHead(l.path); err == nil && h.Seq > l.seq {
		return fmt.Errorf("%w: it holds %d records but %s says %d: it was truncated", errLedgerDamaged, l.seq, headFile, h.Seq)
	} else if err == nil && h.Seq == l.seq && h.Hash != l.head {
		return fmt.Errorf("%w: its last record differs from the one %s names", errLedgerDamaged, headFile)
	}
	return nil
}

// truncate cuts the ledger back to size bytes, unsealing and resealing it.
func (l *ledger) truncate(size int64) error {
	if err := immutable.ClearAppendOnly(l.path); err != nil && !errors.Is(err, immutable.ErrNotSupported) {
		return err
	}
	err := os.Truncate(l.path, size)
	if serr := immutable.SetAppendOnly(l.path); serr != nil && !errors.Is(serr, immutable.ErrNotSupported) && err == nil {
		err = serr
	}
	return err
}

// dropTail cuts n bytes (a torn last line) off the ledger.
func (l *ledger) dropTail(n int64) error {
	st, err := os.Stat(l.path)
	if err != nil {
		return err
	}
	if err := immutable.ClearAppendOnly(l.path); err != nil && !errors.Is(err, immutable.ErrNotSupported) {
		return fmt.Errorf("drop a torn line from the warden's ledger: %w", err)
	}
	return os.Truncate(l.path, st.Size()-n)
}

func readHead(ledgerPath string) (head, error) {
	var h head
	b, err := os.ReadFile(filepath.Join(filepath.Dir(ledgerPath), headFile))
	if err != nil {
		return h, err
	}
	return h, json.Unmarshal(b, &h)
}

// apply checks one line against the chain and folds it into the state.
func (l *ledger) apply(line []byte) error {
	var rec record
	if err := json.Unmarshal(line, &rec); err != nil {
		return err
	}
	if rec.Seq != l.seq+1 {
		return fmt.Errorf("sequence %d follows %d", rec.Seq, l.seq)
	}
	if rec.Prev != l.head {
		return errors.New("the hash chain is broken")
	}
	sum := sha256.Sum256(line)
	l.seq, l.head = rec.Seq, hex.EncodeToString(sum[:])
	l.fold(rec)
	return nil
}

func (l *ledger) fold(rec record) {
	switch rec.Kind {
	case kindSegment:
		if l.segs[rec.Segment] == nil {
			l.segs[rec.Segment] = &SegmentRecord{ID: rec.Segment, FirstSeen: rec.At}
		}
	case kindSnapshot, kindRetain, kindUnreadable:
		s := l.snaps[rec.Snapshot]
		if s == nil {
			s = &SnapshotRecord{ID: rec.Snapshot, Created: rec.Created, Segments: map[uint64]bool{}, Unreadable: rec.Kind == kindUnreadable}
			l.snaps[rec.Snapshot] = s
		}
		if rec.Kind == kindSnapshot {
			s.Unreadable = false
			if s.Created.IsZero() {
				s.Created = rec.Created
			}
		}
		if rec.RetainUntil.After(s.RetainUntil) {
			s.RetainUntil = rec.RetainUntil
		}
		for _, id := range rec.Segments {
			if !s.Segments[id] {
				s.Segments[id] = true
				l.refs[id] = append(l.refs[id], s.ID)
			}
		}
	case kindExpiredSnap:
		if s := l.snaps[rec.Snapshot]; s != nil {
			s.Expired = true
		}
	case kindExpiredSegment:
		if s := l.segs[rec.Segment]; s != nil {
			s.Expired = true
		}
	}
}

// append writes records to the ledger, syncs it and moves the head.
func (l *ledger) append(recs ...record) error {
	if len(recs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	seq, prev := l.seq, l.head
	for i := range recs {
		seq++
		recs[i].Seq, recs[i].Prev = seq, prev
		recs[i].At = recs[i].At.UTC()
		line, err := json.Marshal(recs[i])
		if err != nil {
			return err
		}
		sum := sha256.Sum256(line)
		prev = hex.EncodeToString(sum[:])
		buf.Write(line)
		buf.WriteByte('\n')
	}
	end, err := l.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("append to the warden's ledger: %w", err)
	}
	if _, err := l.f.Write(buf.Bytes()); err != nil {
		// A part written (disk full) would run into the next append's
		// first line: cut it off again.
		if terr := l.truncate(end); terr != nil {
			err = fmt.Errorf("%w; cutting off the part written failed too: %v", err, terr)
		}
		return fmt.Errorf("append to the warden's ledger: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync the warden's ledger: %w", err)
	}
	for _, r := range recs {
		l.fold(r)
	}
	l.seq, l.head = seq, prev
	hb, _ := json.Marshal(head{Seq: l.seq, Hash: l.head})
	return durable.WriteFile(filepath.Join(filepath.Dir(l.path), headFile), hb, 0o600)
}

func (l *ledger) close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// moveAside renames a damaged ledger and its head out of the way, keeping
// them for inspection.
func moveAside(dir string, now time.Time) error {
	suffix := ".damaged-" + now.UTC().Format("20060102T150405Z")
	p := filepath.Join(dir, ledgerFile)
	if err := immutable.ClearAppendOnly(p); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, immutable.ErrNotSupported) {
		return err
	}
	for _, n := range []string{ledgerFile, headFile} {
		if err := os.Rename(filepath.Join(dir, n), filepath.Join(dir, n+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
