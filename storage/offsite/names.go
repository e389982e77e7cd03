package offsite

import (
	"fmt"
	"strconv"
	"strings"
)

// Object names below "<prefix>/<vault id>/" (see the package doc).
const (
	keyfileName  = "keyfile"
	segmentsSub  = "segments/"
	snapshotsSub = "snapshots/"
	indexSub     = "index/"
	createdMeta  = "Strongroom-Created"
)

func (s *Store) vaultPrefix(vaultID string) string { return s.prefix + "/" + vaultID + "/" }

func segmentName(id uint64, sum string) string {
	return fmt.Sprintf("%s%016x-%s", segmentsSub, id, sum)
}

// parseSegmentName returns the segment ID and payload BLAKE3-256 hash (hex) of a
// name relative to the vault's prefix.
func parseSegmentName(rel string) (id uint64, sum string, ok bool) {
	rest, found := strings.CutPrefix(rel, segmentsSub)
	if !found {
		return 0, "", false
	}
	hexID, sum, found := strings.Cut(rest, "-")
	if !found || len(hexID) != 16 || len(sum) != 64 {
		return 0, "", false
	}
	id, err := strconv.ParseUint(hexID, 16, 64)
	return id, sum, err == nil
}

// checkpointName names an index checkpoint by the range of segments it
// covers and the BLAKE3 hash of its bytes.
func checkpointName(first, last uint64, sum string) string {
	return fmt.Sprintf("%s%016x-%016x-%s.ckpt", indexSub, first, last, sum)
}

// parseCheckpointName returns the range of segments a checkpoint covers.
func parseCheckpointName(rel string) (first, last uint64, ok bool) {
	rest, found := strings.CutPrefix(rel, indexSub)
	if !found || len(rest) != 16+1+16+1+64+len(".ckpt") {
		return 0, 0, false
	}
	a, errA := strconv.ParseUint(rest[:16], 16, 64)
	b, errB := strconv.ParseUint(rest[17:33], 16, 64)
	return a, b, errA == nil && errB == nil && a <= b
}

func manifestName(id string) string { return snapshotsSub + id + ".snap" }

func retainName(id string, unix int64) string {
	return fmt.Sprintf("%s%s.retain-%d", snapshotsSub, id, unix)
}

// parseSnapshotName returns the snapshot ID of a manifest or retention
// record name, and the retention time (unix) of a record.
func parseSnapshotName(rel string) (id string, retain int64, manifest bool, ok bool) {
	rest, found := strings.CutPrefix(rel, snapshotsSub)
	if !found {
		return "", 0, false, false
	}
	if id, found := strings.CutSuffix(rest, ".snap"); found {
		return id, 0, true, true
	}
	id, sec, found := strings.Cut(rest, ".retain-")
	if !found {
		return "", 0, false, false
	}
	n, err := strconv.ParseInt(sec, 10, 64)
	return id, n, false, err == nil && n > 0
}

// metaValue finds a user metadata value whatever case the server gave
// its key.
func metaValue(meta map[string]string, key string) string {
	for k, v := range meta {
		if strings.EqualFold(k, key) || strings.EqualFold(k, "X-Amz-Meta-"+key) {
			return v
		}
	}
	return ""
}
