package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/sealed"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/offsite"
)

// Offsite is the offsite copy the operator chose in the wizard: an
// S3-compatible bucket with versioning and Object Lock.
type Offsite struct {
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket as a path (MinIO, Ceph, versitygw).
	PathStyle bool
	// CAFile is a PEM file of the CAs that sign the store's certificate;
	// empty trusts the system's CAs.
	CAFile string
}

// OffsiteUser is the account strongroom-offsite.service runs as on the
// appliance (systemd/strongroom.sysusers). Only it reads the secret key.
const OffsiteUser = "strongroom-offsite"

// OffsiteSecretName is the secret key file's name in the copier's state
// directory; strongroom-offsite.service starts only once it exists.
const OffsiteSecretName = "secret"

func (o Offsite) storeConfig() offsite.Config {
	return offsite.Config{
		Endpoint: strings.TrimSpace(o.Endpoint), Bucket: strings.TrimSpace(o.Bucket), Region: strings.TrimSpace(o.Region),
		AccessKey: strings.TrimSpace(o.AccessKey), SecretKey: strings.TrimSpace(o.SecretKey),
		PathStyle: o.PathStyle, CAFile: strings.TrimSpace(o.CAFile),
	}
}

// ValidateOffsite names the first missing or malformed setting, as the
// wizard's fields call them.
func ValidateOffsite(o Offsite) error {
	c := o.storeConfig()
	for _, f := range []struct{ name, v string }{{"Endpoint", c.Endpoint}, {"Bucket", c.Bucket}, {"Access key", c.AccessKey}, {"Secret key", c.SecretKey}} {
		if f.v == "" {
			return fmt.Errorf("offsite: %s is empty (the bucket's settings come from the store's console: AWS IAM, MinIO, Ceph RGW)", f.name)
		}
	}
	if strings.ContainsAny(c.SecretKey, "\r\n") {
		return errors.New("offsite: the secret key holds a line break: paste it on one line")
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return fmt.Errorf("offsite: CA file: %w (give a PEM file on the box, e.g. under /var/lib/strongroom/import/)", err)
		}
	}
	return c.Validate()
}

// testOffsite reaches the bucket with the given credentials and checks it
// has versioning and Object Lock, as the copier will at every run.
func testOffsite(ctx context.Context, o Offsite) error {
	if err := ValidateOffsite(o); err != nil {
		return err
	}
	st, err := offsite.Open(o.storeConfig(), clock.Wall)
	if err != nil {
		return err
	}
	return st.Check(ctx)
}

// ApplianceOffsiteSource is the copier's state directory as the console
// reaches it: the state partition's offsite/, which image/rootfs/etc/fstab
// bind-mounts on config.ApplianceOffsiteDir for strongroom-offsite.service
// only (the console's sandbox cannot write there).
const ApplianceOffsiteSource = "/var/lib/strongroom/offsite"

// writeOffsite writes the secret key file where the copier reads it and
// returns the configuration's offsite: section. On the appliance (the
// offsite user exists) the file goes to ApplianceOffsiteSource, owned by
// that user, and the section names it under config.ApplianceOffsiteDir;
// elsewhere both are a directory next to the configuration file. The
// caller has validated o (Plan.Validate).
func writeOffsite(ctx context.Context, o Offsite, configPath string, seal *sealed.Sealer) (*config.Offsite, error) {
	dir := filepath.Join(filepath.Dir(configPath), "offsite")
	stateDir := dir
	owner, onAppliance := lookupIDs(OffsiteUser)
	if onAppliance {
		dir, stateDir = ApplianceOffsiteSource, config.ApplianceOffsiteDir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("offsite state directory: %w", err)
	}
	secret, secretRef := filepath.Join(dir, OffsiteSecretName), filepath.Join(stateDir, OffsiteSecretName)
	written := []string{dir}
	if seal != nil {
		if err := seal.Seal(ctx, sealed.OffsiteSecret, []byte(strings.TrimSpace(o.SecretKey)+"\n")); err != nil {
			return nil, err
		}
		secretRef = sealed.Ref(sealed.OffsiteSecret)
	} else {
		if err := durable.WriteFile(secret, []byte(strings.TrimSpace(o.SecretKey)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write the offsite secret key file: %w", err)
		}
		written = append(written, secret)
	}
	if onAppliance {
		for _, p := range written {
			if err := os.Lchown(p, owner.uid, owner.gid); err != nil {
				return nil, fmt.Errorf("hand %s to the offsite user %s: %w", p, OffsiteUser, err)
			}
		}
	}
	c := o.storeConfig()
	return &config.Offsite{
		Endpoint: c.Endpoint, Bucket: c.Bucket, Region: c.Region, AccessKey: c.AccessKey,
		SecretKeyFile: secretRef, PathStyle: c.PathStyle, CAFile: c.CAFile,
		StateDir: stateDir, Interval: config.Duration(config.DefaultOffsiteInterval),
	}, nil
}

// lookupIDs finds an account's user and group ids; false when the account
// does not exist (a developer's machine).
func lookupIDs(name string) (ids, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return ids{}, false
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return ids{}, false
	}
	return ids{uid, gid}, true
}
