package tenantsim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The most busy-channel threads per channel and replies per thread a
// Profile may ask for: their ids are numbered from bases that leave
// room for every channel of the tenant.
const (
	maxBusyThreads = 100_000
	maxBusyReplies = 1_000
)

// Id bases of busy-channel threads and replies, below every other
// generated channel message id (1600000000000 and up).
const (
	busyThreadBase = 1_400_000_000_000
	busyReplyBase  = 1_450_000_000_000
)

// generateBusyChannels posts Profile.ChannelMessages threads, each with
// Profile.ChannelReplies replies, into every channel of every team, after
// the channel's other messages. It runs last and draws from a stream of
// its own per channel, so with both counts 0 (the default) the tenant is
// exactly what it was without it, and with them set everything generated
// before keeps its ids, order and content.
func (s *Sim) generateBusyChannels() {
	n, replies := s.cfg.Profile.ChannelMessages, s.cfg.Profile.ChannelReplies
	if n <= 0 {
		return
	}
	var thread, reply int64
	ci := 0
	for _, g := range s.groups {
		if !g.isTeam() || len(g.members) == 0 {
			continue
		}
		for _, ch := range g.channels {
			r := rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "busy-channels"), uint64(ci)))
			ci++
			if ch.log == nil {
				ch.log = &collection{id: "channellog:" + g.id + ":" + ch.id}
			}
			for range n {
				when := genEpoch.Add(time.Duration(r.IntN(250*24*60)) * time.Minute)
				msg := &chatMessage{id: fmt.Sprint(busyThreadBase + thread), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: when}
				thread++
				for rp := range replies {
					msg.replies = append(msg.replies, &chatMessage{id: fmt.Sprint(busyReplyBase + reply), from: g.members[r.IntN(len(g.members))],
						body: phrases[r.IntN(len(phrases))], created: when.Add(time.Duration(rp+1) * time.Minute)})
					reply++
				}
				ch.messages = append(ch.messages, msg)
				s.logAdd(ch.log, msg.id)
			}
		}
	}
}
