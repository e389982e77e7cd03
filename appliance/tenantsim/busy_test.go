package tenantsim_test

import (
	"reflect"
	"testing"

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

