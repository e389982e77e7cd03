// Package index is the vault's chunk index: for each chunk ID, the segment
// and byte range that hold it, plus a short record per segment.
//
// The index is derived data. It lives in badger, tuned for a small box
// (small memtables and caches), and can always be thrown away and rebuilt
// from the segments with the vault's rebuild. Keys:
//
//	"c" + chunk ID (32 bytes)  -> Location (25 bytes)
//	"g" + segment ID (8, BE)    -> SegmentInfo (28 bytes)
//	"m" + "highwater"           -> highest segment ID indexed (8, BE)
//
// The high-water mark never goes backwards: AddSegment reads it and raises
// it to the segment's ID as one step, even when segments are sealed and
// indexed concurrently, so the vault's next segment ID at open (above the
// mark and above every ID on disk) is never one already used.
//
// When two segments hold the same chunk (possible only after a crash
// between writing a segment and indexing it), the first one indexed wins;
// both the live path and the rebuild index segments in ascending order, so
// they give the same answers.
package index
