package keys

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// RecoveryKey is the operator-held secret that opens the keyfile.
type RecoveryKey [32]byte

const (
	alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	// keyChars is the number of base32 characters encoding the 32 key bytes.
	keyChars = 52
	// sumChars is the number of base32 characters of the checksum group.
	sumChars = 4
	// groupSize is the number of characters between dashes.
	groupSize = 4
	// maxKeyFileSize bounds how much of a recovery key file is read.
	maxKeyFileSize = 4096
)

var b32 = base32.NewEncoding(alphabet).WithPadding(base32.NoPadding)

// NewRecoveryKey returns a random recovery key from crypto/rand.
func NewRecoveryKey() (RecoveryKey, error) {
	var k RecoveryKey
	if _, err := rand.Read(k[:]); err != nil {
		return RecoveryKey{}, fmt.Errorf("recovery key: %w", err)
	}
	return k, nil
}

// String returns the human-typable form of the key, for example
// "abcd-efgh-...-wxyz-sum4": thirteen groups of four base32 characters and a
// checksum group. The result is the secret itself; show it only to the
// operator.
func (k RecoveryKey) String() string {
	chars := b32.EncodeToString(k[:]) + checksumChars(k)
	var b strings.Builder
	b.Grow(len(chars) + len(chars)/groupSize)
	for i := 0; i < len(chars); i += groupSize {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(chars[i : i+groupSize])
	}
	return b.String()
}

// ErrMistyped is wrapped by the error ParseRecoveryKey returns when the
// checksum does not match.
var ErrMistyped = errors.New("recovery key: checksum does not match (mistyped?)")

// ParseRecoveryKey parses the form produced by RecoveryKey.String. It ignores
// case, white space and dashes, and reports a mistyped key through an error
// wrapping ErrMistyped.
func ParseRecoveryKey(s string) (RecoveryKey, error) {
	chars := make([]byte, 0, keyChars+sumChars)
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		}
		if !strings.ContainsRune(alphabet, r) {
			return RecoveryKey{}, fmt.Errorf("recovery key: invalid character %q (only letters a-z and digits 2-7 occur)", r)
		}
		chars = append(chars, byte(r))
	}
	if len(chars) != keyChars+sumChars {
		return RecoveryKey{}, fmt.Errorf("recovery key: %d characters, want %d (not counting dashes)", len(chars), keyChars+sumChars)
	}
	raw, err := b32.DecodeString(string(chars[:keyChars]))
	if err != nil || len(raw) != len(RecoveryKey{}) {
		return RecoveryKey{}, fmt.Errorf("recovery key: undecodable: %v", err)
	}
	var k RecoveryKey
	copy(k[:], raw)
	// The last key character carries one key bit and four unused bits. A
	// typo there that only changes the unused bits leaves the key and its
	// checksum intact; comparing with the canonical encoding catches it.
	if b32.EncodeToString(k[:]) != string(chars[:keyChars]) || checksumChars(k) != string(chars[keyChars:]) {
		return RecoveryKey{}, ErrMistyped
	}
	return k, nil
}

// ReadRecoveryKeyFile reads a recovery key in string form from the file at
// path. Surrounding white space, such as a trailing newline, is ignored.
// Errors name the file.
func ReadRecoveryKeyFile(path string) (RecoveryKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return RecoveryKey{}, fmt.Errorf("recovery key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return RecoveryKey{}, fmt.Errorf("recovery key: reading %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return RecoveryKey{}, fmt.Errorf("recovery key: %s is larger than %d bytes; is it the right file?", path, maxKeyFileSize)
	}
	k, err := ParseRecoveryKey(string(data))
	if err != nil {
		return RecoveryKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// crc20 computes the recovery key checksum described in the package
// documentation.
func crc20(data []byte) uint32 {
	const (
		width = 20
		poly  = 1<<3 | 1 // x^20 + x^3 + 1 without the x^20 term
		top   = 1 << (width - 1)
		mask  = 1<<width - 1
	)
	crc := uint32(mask)
	for _, b := range data {
		for bit := 7; bit >= 0; bit-- {
			in := uint32(b>>bit) & 1
			msb := crc & top >> (width - 1)
			crc = crc << 1 & mask
			if msb^in != 0 {
				crc ^= poly
			}
		}
	}
	return crc
}

// checksumChars returns the checksum group of k.
func checksumChars(k RecoveryKey) string {
	sum := crc20(k[:])
	var out [sumChars]byte
	for i := range out {
		out[i] = alphabet[sum>>(5*(sumChars-1-i))&31]
	}
	return string(out[:])
}
