package keys

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Overhead is the number of bytes Seal adds to a plaintext: the 12-byte nonce
// and the 16-byte GCM tag.
const Overhead = 12 + 16

// ErrCorrupt is wrapped by the error Open returns when sealed data does not
// authenticate.
var ErrCorrupt = errors.New("authentication failed: data corrupt or wrong key")

// checkAEAD panics unless aead has the nonce and tag sizes Overhead assumes,
// as every AEAD returned by this package does.
func checkAEAD(aead cipher.AEAD) {
	if aead.NonceSize() != 12 || aead.Overhead() != 16 {
		panic(fmt.Sprintf("keys: AEAD with %d-byte nonce and %d-byte tag; want 12 and 16", aead.NonceSize(), aead.Overhead()))
	}
}

// Seal encrypts and authenticates plaintext and additional under aead with a
// fresh random nonce and appends the envelope (nonce, ciphertext, tag) to
// dst. The remaining capacity of dst must not overlap plaintext. Seal panics
// if aead does not use 12-byte nonces and 16-byte tags.
func Seal(aead cipher.AEAD, dst, plaintext, additional []byte) []byte {
	checkAEAD(aead)
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		panic("keys: crypto/rand: " + err.Error()) // never fails since Go 1.24
	}
	dst = append(dst, nonce[:]...)
	return aead.Seal(dst, nonce[:], plaintext, additional)
}

// Open authenticates and decrypts an envelope made by Seal with the same
// aead and additional data and appends the plaintext to dst. On failure,
// including input shorter than Overhead, it returns an error wrapping
// ErrCorrupt. The remaining capacity of dst must not overlap sealed. Open
// panics if aead does not use 12-byte nonces and 16-byte tags.
func Open(aead cipher.AEAD, dst, sealed, additional []byte) ([]byte, error) {
	checkAEAD(aead)
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("open: %d bytes, shorter than the %d-byte envelope overhead: %w", len(sealed), Overhead, ErrCorrupt)
	}
	out, err := aead.Open(dst, sealed[:12], sealed[12:], additional)
	if err != nil {
		return nil, fmt.Errorf("open: %w", ErrCorrupt)
	}
	return out, nil
}
