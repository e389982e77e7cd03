package offsite

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Config says where the copy goes and how to reach it.
type Config struct {
	// Endpoint is the S3 server: "https://s3.eu-central-1.amazonaws.com",
	// "https://minio.example.net:9000", or host:port (HTTPS). "http://"
	// is accepted for a server on loopback only.
	Endpoint string
	Bucket   string
	Region   string
	// AccessKey and SecretKey are the credentials (see ReadSecretFile).
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket as a path (MinIO, Ceph, versitygw)
	// instead of a host name (AWS).
	PathStyle bool
	// CAFile, when set, is a PEM file of the CAs to trust for the server.
	CAFile string
	// Prefix is where copies live in the bucket ("strongroom" when empty).
	Prefix string
	// BandwidthBytes limits upload speed in bytes per second (0: none).
	BandwidthBytes int64
	// Parallel is how many objects are copied at once (default 4).
	Parallel int
	// Addrs, when set, are the only addresses the endpoint is reached at
	// (resolved by 'strongroom offsite allow-endpoint', which opens the
	// service's firewall to them and nothing else); the copier then never
	// resolves the host itself.
	Addrs []string
}

// Validate names the first missing or wrong setting.
func (c Config) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"endpoint", c.Endpoint}, {"bucket", c.Bucket}, {"access_key", c.AccessKey}, {"secret_key_file", c.SecretKey}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("offsite: %s not set: add them to the offsite: section of the configuration", strings.Join(missing, ", "))
	}
	if _, _, err := c.endpoint(); err != nil {
		return err
	}
	return nil
}

// endpoint splits Endpoint into the host:port minio-go wants and whether to
// use TLS.
func (c Config) endpoint() (host string, secure bool, err error) {
	e := c.Endpoint
	if !strings.Contains(e, "://") {
		e = "https://" + e
	}
	u, err := url.Parse(e)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", false, fmt.Errorf("offsite endpoint %q: give the server as https://HOST[:PORT] without a path", c.Endpoint)
	}
	switch u.Scheme {
	case "https":
		return u.Host, true, nil
	case "http":
		h := u.Hostname()
		if h != "localhost" && !strings.HasPrefix(h, "127.") && h != "::1" {
			return "", false, fmt.Errorf("offsite endpoint %q: plain http is allowed on loopback only; use https (and ca_file for a private CA)", c.Endpoint)
		}
		return u.Host, false, nil
	}
	return "", false, fmt.Errorf("offsite endpoint %q: scheme must be https", c.Endpoint)
}

// Host is the endpoint's host name or address, without port or brackets:
// what 'offsite allow-endpoint' resolves and pins.
func (c Config) Host() (string, error) {
	h, _, err := c.endpoint()
	if err != nil {
		return "", err
	}
	return hostOnly(h), nil
}

func (c Config) prefix() string {
	if p := strings.Trim(c.Prefix, "/"); p != "" {
		return p
	}
	return "strongroom"
}

// ReadSecretFile reads a secret key file: its first line, trimmed. It
// refuses a file other users may read.
func ReadSecretFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("offsite secret key file: %w (write the bucket's secret key to it, mode 0600, owned by the offsite user)", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("offsite secret key file %s has mode %o: others may read it; run 'chmod 600 %s'", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("offsite secret key file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", errors.New("offsite secret key file " + path + " is empty: write the bucket's secret key to it")
	}
	return line, nil
}
