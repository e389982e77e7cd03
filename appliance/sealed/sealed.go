// Package sealed keeps the appliance's secrets sealed to its TPM: the
// vault's recovery key, the Graph apps' client secrets and the offsite
// bucket's secret key. The setup wizard encrypts each with systemd-creds
// to a TPM 2.0 key bound to PCR 7 (the Secure Boot state: on, with the
// image's own keys), and writes only the ciphertext to the state
// partition. At each start systemd decrypts the credentials a unit names
// (LoadCredentialEncrypted=) into that unit's private
// $CREDENTIALS_DIRECTORY; the configuration refers to them as
// ${CREDENTIALS_DIRECTORY}/NAME.
//
// So a state partition or a data disk taken from the box reveals no
// secret, a boot that is not the vendor's signed image (Secure Boot off,
// other keys) cannot unseal them, and an update signed with the same keys
// leaves PCR 7 and so the seal as they were. On a new box (another TPM)
// the operator's written-down recovery key is what opens the vault.
package sealed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/keys"
)

// Names of the credentials, as the units' LoadCredentialEncrypted= lines
// name them (systemd/*.service).
const (
	RecoveryKey      = "recovery-key"
	BackupAppSecret  = "backup-app-secret"
	RestoreAppSecret = "restore-app-secret"
	OffsiteSecret    = "offsite-secret"
)

// DefaultDir is where the wizard writes the sealed credentials on the
// appliance: beside the configuration, in root's config/ directory of the
// state partition.
const DefaultDir = "/etc/strongroom/credentials"

// DefaultPCRs are the TPM PCRs the credentials are bound to: 7, the
// Secure Boot policy and the keys that verified the boot.
const DefaultPCRs = "7"

// Var is how the configuration names the unit's credentials directory.
const Var = "${CREDENTIALS_DIRECTORY}"

// Ref is the configuration's path for credential name.
func Ref(name string) string { return Var + "/" + name }

// Expand replaces Var in path with the credentials directory systemd gave
// this process. Without one (not inside a unit that loads credentials) the
// path is returned as it is, and ReadFile says why it cannot be read.
func Expand(path string) string {
	if !strings.Contains(path, Var) {
		return path
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		return strings.ReplaceAll(path, Var, dir)
	}
	return path
}

// IsCredential reports whether path names one of the unit's credentials
// (expanded or not).
func IsCredential(path string) bool {
	if strings.Contains(path, Var) {
		return true
	}
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	return dir != "" && filepath.Dir(path) == filepath.Clean(dir)
}

// NotSealed is what the units hand over, through SetCredential= beside
// each LoadCredentialEncrypted=, when a sealed file does not exist.
const NotSealed = "not-sealed"

// ReadFile reads a secret file named by the configuration. A credential
// reference that could not be expanded, and the stand-in systemd hands
// over when the sealed file is missing (NotSealed, or nothing), are
// errors that say what to do.
func ReadFile(path string) ([]byte, error) {
	if strings.Contains(path, Var) {
		name := filepath.Base(path)
		return nil, fmt.Errorf("%s is a secret sealed to this appliance's TPM: systemd hands it only to the Strongroom services that need it (run the service, or as root: systemd-creds decrypt %s/%s.cred -)", name, DefaultDir, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if t := string(bytes.TrimSpace(b)); IsCredential(path) && (t == "" || t == NotSealed) {
		name := filepath.Base(path)
		return nil, fmt.Errorf("the sealed %s is missing (%s/%s.cred): it was never written or was removed; run the console's setup again, or restore the state partition", name, DefaultDir, name)
	}
	return b, nil
}

// ReadRecoveryKey reads the vault's recovery key from its file: on the
// appliance the credential systemd unsealed from the TPM for this unit,
// elsewhere a key file as keys.ReadRecoveryKeyFile reads it.
func ReadRecoveryKey(path string) (keys.RecoveryKey, error) {
	if !IsCredential(path) {
		return keys.ReadRecoveryKeyFile(path)
	}
	b, err := ReadFile(path)
	if err != nil {
		return keys.RecoveryKey{}, fmt.Errorf("recovery key: %w", err)
	}
	k, err := keys.ParseRecoveryKey(string(b))
	if err != nil {
		return keys.RecoveryKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// TPM2 reports whether the machine has a TPM 2.0, from sysfs (sys is
// /sys, or a test's stand-in).
func TPM2(sys string) bool {
	b, err := os.ReadFile(filepath.Join(sys, "class", "tpm", "tpm0", "tpm_version_major"))
	return err == nil && strings.TrimSpace(string(b)) == "2"
}

// Sealer writes sealed credentials with systemd-creds.
type Sealer struct {
	// Dir receives NAME.cred; PCRs the TPM policy (DefaultPCRs when
	// empty).
	Dir, PCRs string
	// Run runs a command with stdin and returns its standard output;
	// default exec.CommandContext.
	Run func(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// Path is the sealed file of credential name.
func (s *Sealer) Path(name string) string { return filepath.Join(s.Dir, name+".cred") }

// Seal encrypts secret to the TPM as credential name and writes it to
// Path(name) (atomically and durably, replacing an older one). The secret
// travels to systemd-creds on stdin and the ciphertext comes back on
// stdout: it is never written in the clear.
func (s *Sealer) Seal(ctx context.Context, name string, secret []byte) error {
	if len(bytes.TrimSpace(secret)) == 0 {
		return fmt.Errorf("seal %s: the secret is empty", name)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("seal %s: %w", name, err)
	}
	pcrs := s.PCRs
	if pcrs == "" {
		pcrs = DefaultPCRs
	}
	out, err := s.run(ctx, secret, "systemd-creds", "encrypt", "--with-key=tpm2", "--tpm2-pcrs="+pcrs, "--name="+name, "-", "-")
	if err != nil {
		return fmt.Errorf("seal %s to the TPM: %w (is the TPM enabled in the firmware?)", name, err)
	}
	if len(out) == 0 {
		return fmt.Errorf("seal %s: systemd-creds wrote no credential", name)
	}
	if err := durable.WriteFile(s.Path(name), out, 0o600); err != nil {
		return fmt.Errorf("seal %s: %w", name, err)
	}
	return nil
}

func (s *Sealer) run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	if s.Run != nil {
		return s.Run(ctx, stdin, name, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%s: %w: %s", name, err, msg)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
