package sealed_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/sealed"
)

// TestReadFileSaysWhatASealedSecretNeeds guards the three ways a secret
// file is met: a plain file, a credential reference outside the unit that
// receives it, and the empty stand-in systemd hands over when the sealed
// file is missing.
func TestReadFileSaysWhatASealedSecretNeeds(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "secret")
	os.WriteFile(plain, []byte("s3cret\n"), 0o600)
	if b, err := sealed.ReadFile(plain); err != nil || string(b) != "s3cret\n" {
		t.Fatalf("plain file: %q, %v", b, err)
	}

	t.Setenv("CREDENTIALS_DIRECTORY", "")
	ref := sealed.Ref(sealed.RecoveryKey)
	if got := sealed.Expand(ref); got != ref {
		t.Errorf("Expand without a credentials directory = %q", got)
	}
	if _, err := sealed.ReadFile(ref); err == nil || !strings.Contains(err.Error(), "sealed to this appliance's TPM") || !strings.Contains(err.Error(), "recovery-key.cred") {
		t.Errorf("unexpanded reference: %v", err)
	}

	creds := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	path := sealed.Expand(ref)
	if path != filepath.Join(creds, sealed.RecoveryKey) || !sealed.IsCredential(path) || sealed.IsCredential(plain) {
		t.Fatalf("Expand = %q", path)
	}
	for _, standIn := range []string{"", sealed.NotSealed} {
		os.WriteFile(path, []byte(standIn), 0o400)
		if _, err := sealed.ReadFile(path); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("stand-in %q: %v", standIn, err)
		}
	}
	os.WriteFile(path, []byte("key\n"), 0o400)
	if b, err := sealed.ReadFile(path); err != nil || string(b) != "key\n" {
		t.Errorf("unsealed credential: %q, %v", b, err)
	}
}

// TestTPM2 guards the check that decides whether setup seals: a TPM 1.2
// or no TPM at all does not count.
func TestTPM2(t *testing.T) {
	sys := t.TempDir()
	if sealed.TPM2(sys) {
		t.Error("no TPM counted as a TPM 2.0")
	}
	d := filepath.Join(sys, "class", "tpm", "tpm0")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "tpm_version_major"), []byte("1\n"), 0o444)
	if sealed.TPM2(sys) {
		t.Error("a TPM 1.2 counted as a TPM 2.0")
	}
	os.WriteFile(filepath.Join(d, "tpm_version_major"), []byte("2\n"), 0o444)
	if !sealed.TPM2(sys) {
		t.Error("a TPM 2.0 not found")
	}
}

// TestSealFailureKeepsTheOldCredential guards a reseal that fails: the
// error names the TPM and the credential already sealed stays.
func TestSealFailureKeepsTheOldCredential(t *testing.T) {
	dir := t.TempDir()
	fail := false
	s := &sealed.Sealer{Dir: dir, Run: func(_ context.Context, stdin []byte, _ string, _ ...string) ([]byte, error) {
		if fail {
			return nil, errors.New("systemd-creds: exit status 1: No TPM2 device found")
		}
		return append([]byte("ct:"), stdin...), nil
	}}
	if err := s.Seal(context.Background(), sealed.OffsiteSecret, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fail = true
	err := s.Seal(context.Background(), sealed.OffsiteSecret, []byte("two"))
	if err == nil || !strings.Contains(err.Error(), "TPM") {
		t.Errorf("failed seal: %v", err)
	}
	if b, _ := os.ReadFile(s.Path(sealed.OffsiteSecret)); string(b) != "ct:one" {
		t.Errorf("after a failed seal the credential is %q", b)
	}
	if err := s.Seal(context.Background(), sealed.OffsiteSecret, []byte("  \n")); err == nil {
		t.Error("an empty secret was sealed")
	}
}
