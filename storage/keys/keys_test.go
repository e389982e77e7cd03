package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustMaster(t testing.TB) *Master {
	t.Helper()
	m, err := NewMaster()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustRecoveryKey(t testing.TB) RecoveryKey {
	t.Helper()
	k, err := NewRecoveryKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewKeysAreRandom(t *testing.T) {
	if mustRecoveryKey(t) == mustRecoveryKey(t) {
		t.Fatal("two recovery keys are equal")
	}
	if mustMaster(t).secret == mustMaster(t).secret {
		t.Fatal("two master keys are equal")
	}
}

func TestWrapUnwrap(t *testing.T) {
	m := mustMaster(t)
	rk := mustRecoveryKey(t)
	const vault = "vault-7f3a"
	blob, err := Wrap(m, rk, vault)
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) != 66 || string(blob[:5]) != "SRKEY" || blob[5] != 1 {
		t.Fatalf("keyfile layout: %d bytes, header %q", len(blob), blob[:6])
	}
	if bytes.Contains(blob, m.secret[:16]) {
		t.Fatal("keyfile contains the master key in the clear")
	}
	flip := func(i int) []byte { b := bytes.Clone(blob); b[i] ^= 1; return b }
	otherKey := rk
	otherKey[31] ^= 0x80

	tests := []struct {
		name      string
		blob      []byte
		rk        RecoveryKey
		vault     string
		wrongKey  bool
		malformed bool
	}{
		{"round trip", blob, rk, vault, false, false},
		{"wrong recovery key", blob, mustRecoveryKey(t), vault, true, false},
		{"recovery key one bit off", blob, otherKey, vault, true, false},
		{"wrong vault ID", blob, rk, "vault-7f3b", true, false},
		{"vault ID prefix", blob, rk, "vault-7f3", true, false},
		{"tampered nonce", flip(6), rk, vault, true, false},
		{"tampered ciphertext", flip(30), rk, vault, true, false},
		{"tampered tag", flip(65), rk, vault, true, false},
		{"tampered magic", flip(0), rk, vault, false, true},
		{"unknown version", flip(5), rk, vault, false, true},
		{"truncated", blob[:65], rk, vault, false, true},
		{"extended", append(bytes.Clone(blob), 0), rk, vault, false, true},
		{"empty", nil, rk, vault, false, true},
		{"empty vault ID", blob, rk, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unwrap(tt.blob, tt.rk, tt.vault)
			ok := !tt.wrongKey && !tt.malformed && tt.vault != ""
			if ok {
				if err != nil {
					t.Fatalf("Unwrap: %v", err)
				}
				if got.secret != m.secret || got.idKey != m.idKey {
					t.Fatal("unwrapped master differs")
				}
				return
			}
			if err == nil {
				t.Fatal("Unwrap succeeded")
			}
			if errors.Is(err, ErrWrongKey) != tt.wrongKey || errors.Is(err, ErrMalformed) != tt.malformed {
				t.Fatalf("err = %v; want wrong key %v, malformed %v", err, tt.wrongKey, tt.malformed)
			}
			if tt.wrongKey && !strings.Contains(err.Error(), "recovery key does not open this vault") {
				t.Fatalf("err = %q", err)
			}
		})
	}
}

func TestWrapRejects(t *testing.T) {
	rk := mustRecoveryKey(t)
	tests := []struct {
		name  string
		m     *Master
		vault string
	}{
		{"nil master", nil, "v"},
		{"empty vault ID", mustMaster(t), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Wrap(tt.m, rk, tt.vault); err == nil {
				t.Fatal("Wrap succeeded")
			}
		})
	}
}

func TestWrapIsRandomized(t *testing.T) {
	m, rk := mustMaster(t), mustRecoveryKey(t)
	a, _ := Wrap(m, rk, "v")
	b, _ := Wrap(m, rk, "v")
	if bytes.Equal(a, b) {
		t.Fatal("two wraps are identical: nonce not random")
	}
}

func TestRecoveryKeyString(t *testing.T) {
	var zero RecoveryKey
	ff := RecoveryKey(bytes.Repeat([]byte{0xff}, 32))
	for _, k := range []RecoveryKey{zero, ff, mustRecoveryKey(t), mustRecoveryKey(t)} {
		s := k.String()
		groups := strings.Split(s, "-")
		if len(groups) != 14 {
			t.Fatalf("%s: %d groups, want 14", s, len(groups))
		}
		for _, g := range groups {
			if len(g) != 4 || strings.ToLower(g) != g {
				t.Fatalf("%s: bad group %q", s, g)
			}
		}
		got, err := ParseRecoveryKey(s)
		if err != nil || got != k {
			t.Fatalf("ParseRecoveryKey(%s) = %x, %v", s, got, err)
		}
	}
	if zero.String() == (RecoveryKey{1}).String() {
		t.Fatal("different keys print the same")
	}
}

func TestParseRecoveryKey(t *testing.T) {
	k := mustRecoveryKey(t)
	s := k.String()
	tests := []struct {
		name     string
		in       string
		ok       bool
		mistyped bool
		msg      string
	}{
		{"canonical", s, true, false, ""},
		{"upper case", strings.ToUpper(s), true, false, ""},
		{"spaces instead of dashes", strings.ReplaceAll(s, "-", " "), true, false, ""},
		{"no separators", strings.ReplaceAll(s, "-", ""), true, false, ""},
		{"trailing newline and tabs", "\t" + s + "\r\n", true, false, ""},
		{"empty", "", false, false, "56"},
		{"one char short", s[:len(s)-1], false, false, "characters"},
		{"one char extra", s + "a", false, false, "characters"},
		{"invalid digit", strings.Replace(s, s[:1], "1", 1), false, false, "invalid character '1'"},
		{"non-ascii", "é" + s[1:], false, false, "invalid character"},
		{"swapped groups", s[5:10] + s[:5] + s[10:], false, true, "checksum does not match (mistyped?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRecoveryKey(tt.in)
			if tt.ok {
				if err != nil || got != k {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			if err == nil {
				t.Fatal("parse succeeded")
			}
			if errors.Is(err, ErrMistyped) != tt.mistyped {
				t.Fatalf("err = %v, want mistyped %v", err, tt.mistyped)
			}
			if !strings.HasPrefix(err.Error(), "recovery key: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %q, want recovery key: ...%s...", err, tt.msg)
			}
		})
	}
}

// TestSingleTypoDetected tries every single-character substitution of
// several keys; each must be rejected.
func TestSingleTypoDetected(t *testing.T) {
	keys := []RecoveryKey{{}, RecoveryKey(bytes.Repeat([]byte{0xa5}, 32))}
	for range 4 {
		keys = append(keys, mustRecoveryKey(t))
	}
	for _, k := range keys {
		chars := []byte(strings.ReplaceAll(k.String(), "-", ""))
		for i := range chars {
			orig := chars[i]
			for j := range len(alphabet) {
				if alphabet[j] == orig {
					continue
				}
				chars[i] = alphabet[j]
				if _, err := ParseRecoveryKey(string(chars)); !errors.Is(err, ErrMistyped) {
					t.Fatalf("key %s: typo %c->%c at %d not detected (err %v)", k, orig, alphabet[j], i, err)
				}
			}
			chars[i] = orig
		}
	}
}

func TestReadRecoveryKeyFile(t *testing.T) {
	k := mustRecoveryKey(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	typo := []byte(k.String())
	typo[3] = map[bool]byte{true: 'b', false: 'a'}[typo[3] == 'a']
	tests := []struct {
		name string
		path string
		ok   bool
		msg  string
	}{
		{"with newline", write("nl", k.String()+"\n"), true, ""},
		{"without newline", write("plain", k.String()), true, ""},
		{"typo", write("typo", string(typo)+"\n"), false, "checksum does not match"},
		{"empty", write("empty", ""), false, "characters"},
		{"huge", write("huge", strings.Repeat("a", 10000)), false, "larger than"},
		{"missing", filepath.Join(dir, "missing"), false, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadRecoveryKeyFile(tt.path)
			if tt.ok {
				if err != nil || got != k {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			if err == nil {
				t.Fatal("read succeeded")
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %q, want it to name %s and say %q", err, tt.path, tt.msg)
			}
		})
	}
}

func TestCRC20(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"zero key", make([]byte, 32)},
		{"ascii", []byte("123456789")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := crc20(tt.data)
			if got >= 1<<20 {
				t.Fatalf("crc20 = %#x, wider than 20 bits", got)
			}
			if want := crc20Slow(tt.data); got != want {
				t.Fatalf("crc20 = %#x, polynomial division gives %#x", got, want)
			}
		})
	}
}

// crc20Slow computes the checksum by long division of the augmented message
// (initial value XORed into the first 20 bits) by x^20 + x^3 + 1, as an
// independent check of crc20.
func crc20Slow(data []byte) uint32 {
	var bits []byte
	for _, b := range data {
		for i := 7; i >= 0; i-- {
			bits = append(bits, b>>i&1)
		}
	}
	bits = append(bits, make([]byte, 20)...)
	for i := 0; i < 20 && i < len(bits); i++ {
		bits[i] ^= 1
	}
	gen := make([]byte, 21)
	gen[0], gen[17], gen[20] = 1, 1, 1
	for i := 0; i+21 <= len(bits); i++ {
		if bits[i] == 1 {
			for j := range gen {
				bits[i+j] ^= gen[j]
			}
		}
	}
	var r uint32
	for _, b := range bits[len(bits)-20:] {
		r = r<<1 | uint32(b)
	}
	return r
}

func TestID(t *testing.T) {
	m := mustMaster(t)
	data := []byte("attachment bytes")
	id := m.ChunkID(data)
	h := m.IDHasher()
	_, _ = io.WriteString(h, "attachment ")
	_, _ = io.WriteString(h, "bytes")
	if got := h.Sum(nil); !bytes.Equal(got, id[:]) {
		t.Fatalf("IDHasher sum %x differs from ChunkID %x", got, id)
	}
	if h.Size() != 32 {
		t.Fatalf("IDHasher size %d", h.Size())
	}
	if m.ChunkID(data) != id {
		t.Fatal("ChunkID not deterministic")
	}
	if mustMaster(t).ChunkID(data) == id {
		t.Fatal("ChunkID does not depend on the master key")
	}
	if m.ChunkID([]byte("attachment byteS")) == id {
		t.Fatal("ChunkID ignores data")
	}

	tests := []struct {
		name string
		in   string
		want ID
		ok   bool
	}{
		{"round trip", id.String(), id, true},
		{"upper case", strings.ToUpper(id.String()), id, true},
		{"zero", strings.Repeat("0", 64), ID{}, true},
		{"short", id.String()[:63], ID{}, false},
		{"long", id.String() + "0", ID{}, false},
		{"not hex", "g" + id.String()[1:], ID{}, false},
		{"empty", "", ID{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseID(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseID(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

// TestDerivedKeysSeparated checks that each derived key differs from the
// others and from the master key itself.
func TestDerivedKeysSeparated(t *testing.T) {
	m := mustMaster(t)
	plain := []byte("same plaintext")
	nonce := make([]byte, 12)
	seen := map[string]string{}
	add := func(name string, aead cipher.AEAD) {
		ct := string(aead.Seal(nil, nonce, plain, nil))
		if prev, dup := seen[ct]; dup {
			t.Fatalf("%s and %s use the same key", name, prev)
		}
		seen[ct] = name
	}
	for _, id := range []uint64{0, 1, 2, 1 << 32, 1<<64 - 1} {
		add("segment "+string(rune('0'+id%10)), m.SegmentCipher(id))
	}
	add("manifest", m.ManifestCipher())
	block, _ := aes.NewCipher(m.secret[:])
	raw, _ := cipher.NewGCM(block)
	add("master itself", raw)

	// The same segment ID yields the same key on every call.
	a := m.SegmentCipher(7).Seal(nil, nonce, plain, nil)
	b := m.SegmentCipher(7).Seal(nil, nonce, plain, nil)
	if !bytes.Equal(a, b) {
		t.Fatal("segment key not stable")
	}
	// And survives wrap and unwrap.
	rk := mustRecoveryKey(t)
	blob, _ := Wrap(m, rk, "v")
	m2, err := Unwrap(blob, rk, "v")
	if err != nil {
		t.Fatal(err)
	}
	if c := m2.SegmentCipher(7).Seal(nil, nonce, plain, nil); !bytes.Equal(a, c) {
		t.Fatal("segment key differs after unwrap")
	}
}

func TestSealOpen(t *testing.T) {
	m := mustMaster(t)
	aead := m.SegmentCipher(42)
	plain := []byte("mailbox item body")
	ad := []byte("segment 42 chunk 3")
	sealed := Seal(aead, []byte("hdr"), plain, ad)
	if len(sealed) != 3+len(plain)+Overhead || string(sealed[:3]) != "hdr" {
		t.Fatalf("sealed length %d", len(sealed))
	}
	env := sealed[3:]
	if bytes.Equal(Seal(aead, nil, plain, ad), env) {
		t.Fatal("two seals are identical: nonce not random")
	}
	flip := func(i int) []byte { b := bytes.Clone(env); b[i] ^= 0x10; return b }

	tests := []struct {
		name   string
		aead   cipher.AEAD
		sealed []byte
		ad     []byte
		ok     bool
	}{
		{"round trip", aead, env, ad, true},
		{"empty plaintext", aead, Seal(aead, nil, nil, ad), ad, true},
		{"flipped nonce", aead, flip(0), ad, false},
		{"flipped ciphertext", aead, flip(14), ad, false},
		{"flipped tag", aead, flip(len(env) - 1), ad, false},
		{"wrong additional data", aead, env, []byte("segment 42 chunk 4"), false},
		{"missing additional data", aead, env, nil, false},
		{"other segment key", m.SegmentCipher(43), env, ad, false},
		{"manifest key", m.ManifestCipher(), env, ad, false},
		{"truncated", aead, env[:len(env)-1], ad, false},
		{"shorter than overhead", aead, env[:Overhead-1], ad, false},
		{"empty", aead, nil, ad, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.aead, []byte("out:"), tt.sealed, tt.ad)
			if !tt.ok {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, []byte("out:")) {
				t.Fatal("dst prefix lost")
			}
			if tt.name == "round trip" && !bytes.Equal(got[4:], plain) {
				t.Fatalf("plaintext %q", got[4:])
			}
		})
	}
}

func FuzzParseRecoveryKey(f *testing.F) {
	f.Add(RecoveryKey{}.String())
	f.Add(RecoveryKey{1, 2, 3}.String())
	f.Add("not a key")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseRecoveryKey(s)
		if err != nil {
			return
		}
		// Whatever parses must be the canonical form up to case and
		// separators.
		norm := strings.Map(func(r rune) rune {
			if strings.ContainsRune("- \t\r\n", r) {
				return -1
			}
			return r
		}, strings.ToLower(s))
		if want := strings.ReplaceAll(k.String(), "-", ""); norm != want {
			t.Fatalf("%q parsed as %s", s, k)
		}
	})
}

// fuzzMaster is a fixed master key: fuzz workers run in separate processes,
// and seeds made in one must mean the same in all.
var fuzzMaster = newMaster([32]byte{'f', 'u', 'z', 'z'})

func FuzzUnwrap(f *testing.F) {
	var rk RecoveryKey
	valid, _ := Wrap(fuzzMaster, rk, "v")
	f.Add(valid)
	f.Add([]byte("SRKEY\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, blob []byte) {
		// Only a blob made by Wrap (with any nonce) may open.
		got, err := Unwrap(blob, rk, "v")
		if err == nil && got.secret != fuzzMaster.secret {
			t.Fatalf("Unwrap accepted a forged blob")
		}
		if err != nil && !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	aead := fuzzMaster.ManifestCipher()
	plain := []byte("manifest")
	f.Add(Seal(aead, nil, plain, []byte("ad")))
	f.Add([]byte{})
	f.Add(make([]byte, Overhead))
	f.Fuzz(func(t *testing.T, sealed []byte) {
		// Only an envelope made by Seal (with any nonce) may open.
		got, err := Open(aead, nil, sealed, []byte("ad"))
		if err == nil && !bytes.Equal(got, plain) {
			t.Fatal("Open accepted forged input")
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	m := mustMaster(b)
	aead := m.SegmentCipher(1)
	plain := make([]byte, 1<<20)
	dst := make([]byte, 0, len(plain)+Overhead)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		dst = Seal(aead, dst[:0], plain, nil)
	}
}

func BenchmarkOpen(b *testing.B) {
	m := mustMaster(b)
	aead := m.SegmentCipher(1)
	plain := make([]byte, 1<<20)
	sealed := Seal(aead, nil, plain, nil)
	dst := make([]byte, 0, len(plain))
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		var err error
		if dst, err = Open(aead, dst[:0], sealed, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChunkID(b *testing.B) {
	m := mustMaster(b)
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m.ChunkID(data)
	}
}

func BenchmarkSegmentCipher(b *testing.B) {
	m := mustMaster(b)
	var id uint64
	for b.Loop() {
		id++
		m.SegmentCipher(id)
	}
}
