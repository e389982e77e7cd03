package keys

import (
	"encoding/hex"
	"fmt"
)

// ID is a chunk ID: the keyed BLAKE3-256 hash of a chunk's plaintext.
type ID [32]byte

// String returns the ID as 64 lowercase hexadecimal digits.
func (id ID) String() string {
	return hex.EncodeToString(id[:])
}

// ParseID parses the form produced by ID.String. Upper-case digits are
// accepted.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return ID{}, fmt.Errorf("chunk id %.80q: %d characters, want %d", s, len(s), 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("chunk id %.80q: %w", s, err)
	}
	return id, nil
}
