package pst

import "encoding/binary"

// Property sets of the named properties this package writes
// ([MS-OXPROPS] 1.3.2), as GUID bytes in their stored (mixed-endian) order.
var (
	psetAddress     = guid(0x00062004)
	psetAppointment = guid(0x00062002)
	psetCommon      = guid(0x00062008)
)

// guid is the MAPI GUID {XXXXXXXX-0000-0000-C000-000000000046}.
func guid(d1 uint32) [16]byte {
	var g [16]byte
	binary.LittleEndian.PutUint32(g[:], d1)
	g[8], g[15] = 0xC0, 0x46
	return g
}

// named is a named property with a numeric name (LID) in a property set.
type named struct {
	set  [16]byte
	lid  uint32
	kind uint16
}

// namedProps are the named properties in the name-to-ID map; the one at
// index i has property ID 0x8000+i.
var namedProps = []named{
	{psetAddress, 0x8080, ptString},      // PidLidEmail1DisplayName
	{psetAddress, 0x8082, ptString},      // PidLidEmail1AddressType
	{psetAddress, 0x8083, ptString},      // PidLidEmail1EmailAddress
	{psetAddress, 0x8084, ptString},      // PidLidEmail1OriginalDisplayName
	{psetAddress, 0x8093, ptString},      // PidLidEmail2EmailAddress
	{psetAddress, 0x80A3, ptString},      // PidLidEmail3EmailAddress
	{psetAddress, 0x8005, ptString},      // PidLidFileUnder
	{psetAppointment, 0x820D, ptSysTime}, // PidLidAppointmentStartWhole
	{psetAppointment, 0x820E, ptSysTime}, // PidLidAppointmentEndWhole
	{psetAppointment, 0x8208, ptString},  // PidLidLocation
	{psetAppointment, 0x8205, ptLong},    // PidLidBusyStatus
	{psetAppointment, 0x8215, ptBoolean}, // PidLidAppointmentSubType (all day)
	{psetAppointment, 0x8213, ptLong},    // PidLidAppointmentDuration
	{psetCommon, 0x8516, ptSysTime},      // PidLidCommonStart
	{psetCommon, 0x8517, ptSysTime},      // PidLidCommonEnd
}

// namedTag returns the property tag that the map gives the named
// property lid.
func namedTag(lid uint32) uint32 {
	for i, n := range namedProps {
		if n.lid == lid {
			return uint32(0x8000+i)<<16 | uint32(n.kind)
		}
	}
	panic("pst: named property not in the map")
}

// nameIDMap returns the properties of the name-to-ID map node
// ([MS-PST] 2.4.7): the GUID stream, the entry stream, an empty string
// stream and the hash buckets.
func nameIDMap() props {
	const buckets = 251
	var guids []byte
	index := map[[16]byte]int{}
	var entries []byte
	bucket := make([][]byte, buckets)
	for i, n := range namedProps {
		gi, ok := index[n.set]
		if !ok {
			gi = len(index)
			index[n.set] = gi
			guids = append(guids, n.set[:]...)
		}
		// wGuid: 3 and up index the GUID stream; N (bit 0) is 0 for a
		// numeric name.
		field := uint16(gi+3) << 1
		e := binary.LittleEndian.AppendUint32(nil, n.lid)
		e = binary.LittleEndian.AppendUint16(e, field)
		e = binary.LittleEndian.AppendUint16(e, uint16(i))
		entries = append(entries, e...)
		b := (n.lid ^ uint32(field)) % buckets
		bucket[b] = append(bucket[b], e...)
	}
	var ps props
	ps.long(0x00010003, buckets) // PidTagNameidBucketCount
	ps.bin(0x00020102, guids)
	ps.bin(0x00030102, entries)
	ps = append(ps, prop{0x00040102, nil})
	for i, b := range bucket {
		if len(b) > 0 {
			ps.bin(uint32(0x1000+i)<<16|ptBinary, b)
		}
	}
	return ps
}
