package tenantsim_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimPublicHost guards that a simulator reached under another address
// (a QEMU guest sees the host as 10.0.2.2) names that address in its URLs
// and its certificate, so clients there can verify it.
func TestSimPublicHost(t *testing.T) {
	s := tenantsim.NewTest(t, tenantsim.Config{Users: 2, Seed: 1, PublicHost: "10.0.2.2"})
	if !strings.HasPrefix(s.BaseURL(), "https://10.0.2.2:") || !strings.HasPrefix(s.AuthorityHost(), "https://10.0.2.2:") {
		t.Fatalf("URLs %s, %s do not name the public host", s.BaseURL(), s.AuthorityHost())
	}
	if block, _ := pem.Decode(s.CAPEM()); block == nil {
		t.Fatal("no CA certificate")
	}
	// The server certificate is checked through a real TLS handshake
	// against 127.0.0.1 with 10.0.2.2 as the name to verify.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	port := s.AuthorityHost()[len("https://10.0.2.2:") : len(s.AuthorityHost())-1]
	if err := verifyAs(pool, "127.0.0.1:"+port, "10.0.2.2"); err != nil {
		t.Fatalf("certificate does not cover 10.0.2.2: %v", err)
	}
}

func verifyAs(pool *x509.CertPool, addr, name string) error {
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: name})
	if err != nil {
		return err
	}
	return c.Close()
}
