package pst

import (
	"encoding/binary"
	"time"
	"unicode/utf16"
)

// Property types ([MS-OXCDATA] 2.11.1).
const (
	ptShort   = 0x0002
	ptLong    = 0x0003
	ptDouble  = 0x0005
	ptBoolean = 0x000B
	ptLong64  = 0x0014
	ptString  = 0x001F
	ptSysTime = 0x0040
	ptBinary  = 0x0102
)

// prop is one property: its tag (ID in the high 16 bits, type in the
// low) and its value's bytes as [MS-PST] stores them.
type prop struct {
	tag uint32
	val []byte
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// filetime is t as a FILETIME: 100-nanosecond intervals since 1601.
func filetime(t time.Time) []byte {
	const epochDiff = 116444736000000000
	v := uint64(t.UnixNano()/100 + epochDiff)
	return binary.LittleEndian.AppendUint64(nil, v)
}

// props collects properties, skipping empty strings and zero times so
// that absent values stay absent.
type props []prop

func (p *props) str(tag uint32, s string) {
	if s != "" {
		*p = append(*p, prop{tag, utf16le(s)})
	}
}

func (p *props) long(tag uint32, v int32) {
	*p = append(*p, prop{tag, binary.LittleEndian.AppendUint32(nil, uint32(v))})
}

func (p *props) boolean(tag uint32, v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	*p = append(*p, prop{tag, []byte{b}})
}

func (p *props) time(tag uint32, t time.Time) {
	if !t.IsZero() {
		*p = append(*p, prop{tag, filetime(t)})
	}
}

func (p *props) bin(tag uint32, b []byte) {
	if len(b) > 0 {
		*p = append(*p, prop{tag, b})
	}
}

// get returns the value of tag, or nil.
func (p props) get(tag uint32) []byte {
	for _, x := range p {
		if x.tag == tag {
			return x.val
		}
	}
	return nil
}

// cellSize is the bytes a value of type t takes in a table row: 8 for
// 8-byte fixed types, 2 and 1 for the small ones, 4 for the rest (the
// variable types hold an HNID there).
func cellSize(t uint16) int {
	switch t {
	case ptLong64, ptSysTime, ptDouble:
		return 8
	case ptShort:
		return 2
	case ptBoolean:
		return 1
	}
	return 4
}

// inline reports whether a property context keeps a value of type t in
// its record rather than on the heap.
func inline(t uint16) bool {
	return t == ptShort || t == ptLong || t == ptBoolean
}
