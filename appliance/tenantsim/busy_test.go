package tenantsim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// channelDumps returns every channel of every team of s, in order.
func channelDumps(t *testing.T, s *tenantsim.Sim) []tenantsim.ChannelDump {
	t.Helper()
	var out []tenantsim.ChannelDump
	for _, tm := range s.Teams() {
		for _, ch := range tm.Channels {
			d, err := s.DumpChannel(tm.ID, ch)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

// TestSimBusyChannels: ChannelMessages and ChannelReplies add that many
// threads with that many replies to every channel of every team, after
// the channel's own messages, which stay as they were; mailboxes do not
// change; the same seed gives the same busy channels.
func TestSimBusyChannels(t *testing.T) {
	plain, err := tenantsim.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	busyCfg := testConfig()
	busyCfg.Profile.ChannelMessages, busyCfg.Profile.ChannelReplies = 7, 3
	busy, err := tenantsim.New(busyCfg)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := tenantsim.New(busyCfg)
	want, got := channelDumps(t, plain), channelDumps(t, busy)
	if len(got) != len(want) || len(got) < 2 {
		t.Fatalf("%d channels with busy channels, %d without", len(got), len(want))
	}
	ids := map[string]bool{}
	for i, d := range got {
		n := len(want[i].Messages)
		if len(d.Messages) != n+7 || !reflect.DeepEqual(d.Messages[:n], want[i].Messages) {
			t.Fatalf("channel %s: %d messages, want its %d and 7 more, the first ones unchanged", d.Name, len(d.Messages), n)
		}
		for _, m := range d.Messages {
			ids[m.ID] = true
			for _, rp := range m.Replies {
				ids[rp.ID] = true
			}
		}
		for _, m := range d.Messages[n:] {
			if len(m.Replies) != 3 || m.Body == "" || m.From == "" {
				t.Errorf("channel %s: busy thread %+v; want 3 replies, a body and an author", d.Name, m)
			}
		}
	}
	total := 0
	for _, d := range got {
		for _, m := range d.Messages {
			total += 1 + len(m.Replies)
		}
	}
	if len(ids) != total {
		t.Errorf("%d distinct message ids for %d messages", len(ids), total)
	}
	if !reflect.DeepEqual(channelDumps(t, again), got) {
		t.Error("the same seed gave other busy channels")
	}
	u := plain.Users()[0].UPN
	a, _ := plain.DumpMailbox(u)
	b, _ := busy.DumpMailbox(u)
	if !reflect.DeepEqual(a, b) {
		t.Error("busy channels changed a mailbox")
	}
	busyCfg.Profile.ChannelReplies = -1
	if _, err := tenantsim.New(busyCfg); err == nil {
		t.Error("negative replies per thread accepted")
	}
}

// TestSimServedChannelMessages: the counters count the channel messages
// the delta and the replies lists served, and the pages that served
// them; OnRequest hears of every Teams request with its times.
func TestSimServedChannelMessages(t *testing.T) {
	cfg := testConfig()
	cfg.Profile.ChannelMessages, cfg.Profile.ChannelReplies = 25, 2
	var mu sync.Mutex
	heard := map[string]int{}
	cfg.OnRequest = func(r *http.Request, class string, status int, start, end time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if status == 200 && !end.Before(start) {
			heard[class]++
		}
	}
	s := tenantsim.NewTest(t, cfg)
	hc, tok := httpClient(t, s), accessToken(t, s, s.BackupApp())
	tm := s.Teams()[0]
	ch, err := s.DumpChannel(tm.ID, tm.Channels[0])
	if err != nil {
		t.Fatal(err)
	}
	base := s.BaseURL() + "/teams/" + url.PathEscape(tm.ID) + "/channels/" + url.PathEscape(ch.ID) + "/messages"
	get := func(u string) (page struct {
		Value []json.RawMessage `json:"value"`
		Next  string            `json:"@odata.nextLink"`
	}) {
		st, _, body := call(t, hc, "GET", u, tok, "", "")
		if st != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("GET %s: %d %s", u, st, body)
		}
		return page
	}
	before := s.Counters()
	served, pages := 0, 0
	for u := base + "/delta()"; u != ""; pages++ {
		p := get(u)
		served, u = served+len(p.Value), p.Next
	}
	if served != len(ch.Messages) {
		t.Fatalf("delta served %d threads, the channel has %d", served, len(ch.Messages))
	}
	p := get(base + "/" + url.PathEscape(ch.Messages[len(ch.Messages)-1].ID) + "/replies")
	served, pages = served+len(p.Value), pages+1
	after := s.Counters()
	if got := after.ChannelMessages - before.ChannelMessages; got != int64(served) || len(p.Value) != 2 {
		t.Errorf("counted %d channel messages, served %d (%d replies)", got, served, len(p.Value))
	}
	if got := after.MessagePages - before.MessagePages; got != int64(pages) {
		t.Errorf("counted %d message pages, served %d", got, pages)
	}
	mu.Lock()
	defer mu.Unlock()
	if heard["teams"] != pages {
		t.Errorf("OnRequest heard %d Teams requests, %d were made", heard["teams"], pages)
	}
}
