package offsite_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/offsite/localstore"
)

// TestPinnedAddresses: with Config.Addrs the copier reaches the endpoint
// only at those addresses, never where its name resolves. The server
// listens on 127.0.0.1 and is named "localhost": pinned to 127.0.0.1 the
// bucket is reached; pinned to 127.0.0.2 alone (nothing listens there,
// though the name resolves to 127.0.0.1) it is not, and the error says the
// pinned addresses did not answer; with both, the second is tried.
func TestPinnedAddresses(t *testing.T) {
	srv := localstore.ForTest(t)
	cfg := srv.Config()
	cfg.Endpoint = strings.Replace(cfg.Endpoint, "127.0.0.1", "localhost", 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check := func(addrs ...string) error {
		c := cfg
		c.Addrs = addrs
		st, err := offsite.Open(c, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return st.Check(ctx)
	}
	if err := check("127.0.0.1"); err != nil {
		t.Fatalf("pinned to the server's address: %v", err)
	}
	err := check("127.0.0.2")
	if !errors.Is(err, offsite.ErrPinnedUnreachable) {
		t.Fatalf("pinned to an address where nothing listens: %v, want ErrPinnedUnreachable", err)
	}
	if !strings.Contains(err.Error(), "pinned addresses") {
		t.Errorf("error does not say what happened: %v", err)
	}
	if err := check("127.0.0.2", "127.0.0.1"); err != nil {
		t.Fatalf("the second pinned address was not tried: %v", err)
	}
	if _, err := offsite.Open(offsite.Config{Endpoint: cfg.Endpoint, Bucket: "b", AccessKey: "a", SecretKey: "s", Addrs: []string{"s3.example.net"}}, time.Now); err == nil {
		t.Error("a host name among the pinned addresses was accepted")
	}
}
