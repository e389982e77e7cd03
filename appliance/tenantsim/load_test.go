package tenantsim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// loadTargets returns a mix of small Graph reads across mailboxes.
func loadTargets(t testing.TB, s *tenantsim.Sim) []string {
	t.Helper()
	var urls []string
	for _, u := range s.Users() {
		d, err := s.DumpMailbox(u.ID)
		if err != nil {
			continue
		}
		for _, m := range d.Messages[:5] {
			urls = append(urls, s.BaseURL()+"/users/"+u.ID+"/messages/"+m.ID+"?$select=subject,receivedDateTime")
		}
		urls = append(urls,
			s.BaseURL()+"/users/"+u.ID,
			s.BaseURL()+"/users/"+u.ID+"/mailFolders",
			s.BaseURL()+"/users/"+u.ID+"/mailFolders/inbox/messages/delta()?$select=subject",
		)
	}
	return urls
}

func get(ctx context.Context, hc *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// TestSimLoad256Clients guards that the simulator holds 256 concurrent
// clients without a single error, throttling off. Bounded in requests and
// time; it asserts no speed.
func TestSimLoad256Clients(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	s := tenantsim.NewTest(t, testConfig())
	tok := accessToken(t, s, s.BackupApp())
	urls := loadTargets(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const clients, perClient = 256, 20
	errs := make(chan error, clients*perClient)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := httpClient(t, s) // one connection pool per client
			for i := range perClient {
				if err := get(ctx, hc, urls[(c*perClient+i)%len(urls)], tok); err != nil {
					errs <- err
				}
			}
			hc.CloseIdleConnections()
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n < 5 {
			t.Error(err)
		}
		n++
	}
	if n > 0 {
		t.Fatalf("%d of %d requests failed", n, clients*perClient)
	}
	got := s.Counters().Total("", http.StatusOK) - s.Counters().Total("identity", 0)
	if got != clients*perClient {
		t.Errorf("counters saw %d successful Graph requests, want %d", got, clients*perClient)
	}
	t.Logf("%d requests from %d clients in %v", clients*perClient, clients, time.Since(start))
}

// BenchmarkSimRequests measures requests per second over HTTPS with
// keep-alive, throttling off. Tenant generation, token fetch and
// connection warm-up are outside the timing: they are not what a backup
// run repeats.
func BenchmarkSimRequests(b *testing.B) {
	s := tenantsim.NewTest(b, testConfig())
	tok := accessToken(b, s, s.BackupApp())
	u := firstMailbox(b, s)
	d, err := s.DumpMailbox(u.ID)
	if err != nil {
		b.Fatal(err)
	}
	m := d.Messages[0]
	for _, bc := range []struct{ name, url string }{
		{"endpoint=message", s.BaseURL() + "/users/" + u.ID + "/messages/" + m.ID + "?$select=subject,receivedDateTime"},
		{"endpoint=mime", s.BaseURL() + "/users/" + u.ID + "/messages/" + m.ID + "/$value"},
		{"endpoint=delta-page", s.BaseURL() + "/users/" + u.ID + "/mailFolders/inbox/messages/delta()?$select=subject"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hc := httpClient(b, s)
			if err := get(context.Background(), hc, bc.url, tok); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(context.Background(), hc, bc.url, tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
