package pst

import "hash/crc32"

// crc is the CRC of [MS-PST] 5.3: the reflected CRC-32 polynomial of
// IEEE 802.3, started at zero and not inverted at the end. Go's crc32
// inverts on the way in and out, so the inversions are undone here.
func crc(p []byte) uint32 {
	return ^crc32.Update(0xFFFFFFFF, crc32.IEEETable, p)
}

// sig is the signature of a block or page ([MS-PST] 5.5), derived from
// its offset and ID.
func sig(ib, bid uint64) uint16 {
	ib ^= bid
	return uint16(uint32(ib>>16)) ^ uint16(ib)
}
