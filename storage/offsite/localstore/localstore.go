// Package localstore runs a real S3 server with Object Lock on loopback
// (versitygw, posix backend) for tests, the demo and the benchmark: a
// bucket with versioning and Object Lock, reached over HTTPS with a CA of
// its own.
package localstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/offsite"
)

// Version is the versitygw release the project builds and tests against.
const Version = "v1.8.0"

// InstallHint is how to get the server binary.
const InstallHint = "go install github.com/versity/versitygw/cmd/versitygw@" + Version + " (or 'make deps')"

// ErrNoBinary is returned when no versitygw binary is found.
var ErrNoBinary = errors.New("versitygw not found on PATH or in $(go env GOPATH)/bin")

// Server is a running versitygw with one Object Lock bucket.
type Server struct {
	Endpoint  string // https://127.0.0.1:PORT
	Bucket    string
	AccessKey string
	SecretKey string
	CAFile    string
	cmd       *exec.Cmd
	done      chan error
}

// Binary finds versitygw on PATH or in the Go bin directory.
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if gb := os.Getenv("GOBIN"); gb != "" {
		dirs = append(dirs, gb)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNoBinary, InstallHint)
}

// Start runs versitygw with its data below dir (which must support user
// extended attributes, as ext4 does) and creates bucket with Object Lock.
// logw, when not nil, receives the server's output.
func Start(dir, bucket string, logw *os.File) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil { // versitygw takes relative paths badly
		return nil, err
	}
	data, versions := filepath.Join(dir, "data"), filepath.Join(dir, "versions")
	for _, d := range []string{data, versions} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	ca, cert, key, err := writeTLS(dir)
	if err != nil {
		return nil, err
	}
	// The free port is found by listening and closing: another process
	// may take it before versitygw does, which then exits at once; a new
	// port is tried then.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Endpoint: "https://" + port, Bucket: bucket, AccessKey: "strongroom-test", SecretKey: "strongroom-test-secret", CAFile: ca, done: make(chan error, 1)}
		s.cmd = exec.Command(bin, "--port", port, "--cert", cert, "--key", key, "--quiet", "posix", "--versioning-dir", versions, data)
		s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
		if logw != nil {
			s.cmd.Stdout, s.cmd.Stderr = logw, logw
		}
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start versitygw: %w", err)
		}
		go func() { s.done <- s.cmd.Wait() }()
		err = s.makeBucket()
		if err == nil {
			return s, nil
		}
		s.Close()
		if !errors.Is(err, errExited) || attempt == 3 {
			return nil, err
		}
	}
}

var errExited = errors.New("versitygw exited at start")

// makeBucket waits for the server to answer and creates the bucket with
// Object Lock (which turns versioning on).
func (s *Server) makeBucket() error {
	c, err := s.client()
	if err != nil {
		return err
	}
	var last error
	for range 200 {
		select {
		case err := <-s.done:
			s.done <- err // for Close
			return fmt.Errorf("%w: %v", errExited, err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = c.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{ObjectLocking: true})
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not create bucket %s: %w", s.Bucket, last)
}

func (s *Server) client() (*minio.Client, error) {
	cfg := s.Config()
	st, err := offsite.Open(cfg, clock.Wall)
	if err != nil {
		return nil, err
	}
	return st.Client(), nil
}

// Config is the offsite configuration that reaches the bucket.
func (s *Server) Config() offsite.Config {
	return offsite.Config{Endpoint: s.Endpoint, Bucket: s.Bucket, AccessKey: s.AccessKey, SecretKey: s.SecretKey,
		PathStyle: true, CAFile: s.CAFile, Region: "us-east-1"}
}

// MakePlainBucket creates a bucket without Object Lock (tests of refusal).
func (s *Server) MakePlainBucket(name string) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{})
}

// Close stops the server.
func (s *Server) Close() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	s.cmd.Process.Kill()
	<-s.done
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// writeTLS makes a CA and a certificate for 127.0.0.1 signed by it.
func writeTLS(dir string) (caFile, certFile, keyFile string, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	now := clock.Wall()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strongroom test S3 CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames: []string{"localhost"}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", "", err
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for p, b := range map[string]*pem.Block{caFile: {Type: "CERTIFICATE", Bytes: caDER}, certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(p, pem.EncodeToMemory(b), 0o600); err != nil {
			return "", "", "", err
		}
	}
	return caFile, certFile, keyFile, nil
}
