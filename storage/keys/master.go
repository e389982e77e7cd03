package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/zeebo/blake3"
)

// HKDF info strings; see the package documentation. They are part of the
// on-disk format.
const (
	infoKEK      = "strongroom kek v1"
	infoChunkID  = "strongroom chunk id v1"
	infoManifest = "strongroom manifest key v1"
	infoSegment  = "strongroom segment key v1 "
)

// Master is the vault's master key. The zero value is not usable; create one
// with NewMaster or Unwrap.
type Master struct {
	secret  [32]byte
	idKey   [32]byte  // derived once: ChunkID is on the hot path
	hashers sync.Pool // of *blake3.Hasher keyed with idKey, about 10 KiB each
}

// NewMaster returns a new random master key from crypto/rand.
func NewMaster() (*Master, error) {
	var s [32]byte
	if _, err := rand.Read(s[:]); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return newMaster(s), nil
}

func newMaster(secret [32]byte) *Master {
	m := &Master{secret: secret}
	copy(m.idKey[:], derive(secret[:], infoChunkID))
	return m
}

// derive returns the 32-byte HKDF-SHA256 key of secret for info.
func derive(secret []byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		// Only a key length above 255*32 bytes can fail.
		panic("keys: hkdf: " + err.Error())
	}
	return k
}

// newGCM returns AES-256-GCM under key.
func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("keys: aes: " + err.Error()) // key is always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("keys: gcm: " + err.Error())
	}
	return aead
}

// ChunkID returns the chunk ID of data: its BLAKE3 hash keyed with the chunk
// ID key.
func (m *Master) ChunkID(data []byte) ID {
	h := m.getHasher()
	defer m.hashers.Put(h)
	_, _ = h.Write(data)
	var id ID
	h.Sum(id[:0])
	return id
}

// getHasher returns a reset ID hasher from the pool: a fresh keyed BLAKE3
// hasher per chunk was the largest source of garbage in an ingest.
func (m *Master) getHasher() *blake3.Hasher {
	if h, ok := m.hashers.Get().(*blake3.Hasher); ok {
		h.Reset()
		return h
	}
	return m.newIDHasher()
}

// IDHasher returns a new streaming hasher whose Sum equals ChunkID of the
// bytes written to it. Its Size is 32.
func (m *Master) IDHasher() hash.Hash {
	return m.newIDHasher()
}

func (m *Master) newIDHasher() *blake3.Hasher {
	h, err := blake3.NewKeyed(m.idKey[:])
	if err != nil {
		panic("keys: blake3: " + err.Error()) // key is always 32 bytes
	}
	return h
}

// SegmentCipher returns the AES-256-GCM AEAD for segment segmentID. The key
// is derived afresh on every call and nothing is cached.
func (m *Master) SegmentCipher(segmentID uint64) cipher.AEAD {
	info := binary.BigEndian.AppendUint64([]byte(infoSegment), segmentID)
	return newGCM(derive(m.secret[:], string(info)))
}

// ManifestCipher returns the AES-256-GCM AEAD for manifests.
func (m *Master) ManifestCipher() cipher.AEAD {
	return newGCM(derive(m.secret[:], infoManifest))
}

// Keyfile layout constants; see the package documentation.
const (
	keyfileMagic   = "SRKEY"
	keyfileVersion = 1
	keyfileHeader  = len(keyfileMagic) + 1
	keyfileNonce   = 12
	keyfileSize    = keyfileHeader + keyfileNonce + 32 + 16
)

// ErrWrongKey is wrapped by the error Unwrap returns when the keyfile does not
// authenticate: the recovery key is wrong, the vault ID is not the one the
// keyfile was made for, or the keyfile's ciphertext is damaged.
var ErrWrongKey = errors.New("recovery key does not open this vault")

// ErrMalformed is wrapped by the error Unwrap returns when the blob is not a
// keyfile this version understands.
var ErrMalformed = errors.New("keyfile is malformed")

// Wrap encrypts m under rk for the vault vaultID and returns the keyfile.
func Wrap(m *Master, rk RecoveryKey, vaultID string) ([]byte, error) {
	if m == nil {
		return nil, errors.New("wrap: nil master key")
	}
	if vaultID == "" {
		return nil, errors.New("wrap: empty vault ID")
	}
	blob := make([]byte, keyfileHeader+keyfileNonce, keyfileSize)
	copy(blob, keyfileMagic)
	blob[len(keyfileMagic)] = keyfileVersion
	nonce := blob[keyfileHeader:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("wrap: %w", err)
	}
	aead := newGCM(derive(rk[:], infoKEK))
	return aead.Seal(blob, nonce, m.secret[:], keyfileAD(blob, vaultID)), nil
}

// Unwrap decrypts the master key from a keyfile made by Wrap with the same
// recovery key and vault ID. It returns an error wrapping ErrWrongKey if the
// keyfile does not authenticate and one wrapping ErrMalformed if blob is not
// a version 1 keyfile.
func Unwrap(blob []byte, rk RecoveryKey, vaultID string) (*Master, error) {
	switch {
	case len(blob) != keyfileSize:
		return nil, fmt.Errorf("unwrap: %w: %d bytes, want %d", ErrMalformed, len(blob), keyfileSize)
	case string(blob[:len(keyfileMagic)]) != keyfileMagic:
		return nil, fmt.Errorf("unwrap: %w: bad magic %q", ErrMalformed, blob[:len(keyfileMagic)])
	case blob[len(keyfileMagic)] != keyfileVersion:
		return nil, fmt.Errorf("unwrap: %w: unsupported version %d", ErrMalformed, blob[len(keyfileMagic)])
	case vaultID == "":
		return nil, errors.New("unwrap: empty vault ID")
	}
	nonce := blob[keyfileHeader : keyfileHeader+keyfileNonce]
	aead := newGCM(derive(rk[:], infoKEK))
	var secret [32]byte
	if _, err := aead.Open(secret[:0], nonce, blob[keyfileHeader+keyfileNonce:], keyfileAD(blob, vaultID)); err != nil {
		return nil, fmt.Errorf("unwrap: %w", ErrWrongKey)
	}
	return newMaster(secret), nil
}

// keyfileAD returns the additional data of a keyfile: its header and the
// vault ID.
func keyfileAD(blob []byte, vaultID string) []byte {
	ad := make([]byte, 0, keyfileHeader+len(vaultID))
	ad = append(ad, blob[:keyfileHeader]...)
	return append(ad, vaultID...)
}
