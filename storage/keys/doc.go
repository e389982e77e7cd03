// Package keys holds the vault's key hierarchy and its encryption envelope.
//
// # Words
//
// The recovery key is 32 random bytes that the operator writes down or keeps
// in a file outside the appliance. It is shown as lowercase base32 without
// padding, in groups of four characters separated by '-', followed by a
// four-character checksum group (see below). It never encrypts data itself:
// it only opens the keyfile.
//
// The master key (type Master) is 32 random bytes created once per vault.
// Every working key is derived from it, so re-wrapping the master key under a
// new recovery key never requires re-encrypting data.
//
// The key-encryption key (KEK) is HKDF-SHA256 of the recovery key with an
// empty salt and the info string "strongroom kek v1". It encrypts the master
// key inside the keyfile.
//
// The keyfile is the small blob made by Wrap and read by Unwrap. Its byte
// layout (version 1, 66 bytes) is:
//
//	offset  size  field
//	0       5     magic "SRKEY"
//	5       1     version, 0x01
//	6       12    nonce, random
//	18      48    AES-256-GCM ciphertext of the 32-byte master key
//	              followed by the 16-byte tag
//
// The GCM additional data is the 6-byte header (magic and version) followed
// by the vault ID, so a keyfile only opens for the vault it was made for and
// its version byte cannot be altered unnoticed. A wrong recovery key, a wrong
// vault ID and a damaged ciphertext are indistinguishable by design; all three
// yield ErrWrongKey. A blob of the wrong size, magic or version yields
// ErrMalformed.
//
// A derived key is HKDF-SHA256 of the master key, empty salt, with one of
// these info strings (all part of the on-disk format):
//
//	"strongroom chunk id v1"                   chunk ID key (BLAKE3 key)
//	"strongroom manifest key v1"               manifest AES-256-GCM key
//	"strongroom segment key v1 " + uint64 BE   per-segment AES-256-GCM key
//
// A chunk ID (type ID) is the keyed BLAKE3-256 hash of a chunk's plaintext
// under the chunk ID key. Keying the hash stops anyone without the master key
// from confirming that the vault holds a known file by its hash.
//
// A segment is a container of encrypted chunks identified by a uint64;
// each segment has its own key, so the number of random nonces used under
// one key stays far below the AES-GCM limit of 2^32 messages.
//
// The envelope is the format of everything Seal produces: a random 12-byte
// nonce followed by the AES-GCM ciphertext and its 16-byte tag, Overhead
// bytes longer than the plaintext.
//
// The recovery key checksum is a CRC-20 (polynomial x^20 + x^3 + 1, initial
// value 0xfffff, most significant bit first) of the 32 key bytes, written as
// four base32 characters. Any single mistyped character is detected: a change
// in the key part alters at most five consecutive key bits, a burst the CRC
// always catches (or only the unused low bits of the last key character,
// which parsing rejects as non-canonical), and a change in the checksum group
// alters the checksum itself.
package keys
