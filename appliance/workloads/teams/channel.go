package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// channelRecord is the part of a channel a backup reads.
type channelRecord struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	MembershipType string `json:"membershipType"`
}

// message is the part of a channel message a backup reads.
type message struct {
	ID      string          `json:"id"`
	Removed json.RawMessage `json:"@removed"`
	Deleted string          `json:"deletedDateTime"`
	Created string          `json:"createdDateTime"`
	From    struct {
		User *struct {
			DisplayName string `json:"displayName"`
		} `json:"user"`
	} `json:"from"`
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
}

// Thread is a stored channel message: the top-level message as Graph
// returned it, its replies in order, and the hosted contents its bodies
// reference (stored beside it, under hosted/).
type Thread struct {
	Message json.RawMessage   `json:"message"`
	Replies []json.RawMessage `json:"replies"`
	Hosted  []HostedRef       `json:"hosted,omitempty"`
}

// HostedRef names a hosted content of a thread and where it is stored.
type HostedRef struct {
	// ID is the hosted content's id; URL the $value URL the body
	// references; Path the item holding its bytes.
	ID, URL, Path string
}

// channelPrefix is where channel ch of the unit lives.
func (b *backup) channelPrefix(chID string) string {
	return PathPrefix(b.u.ID) + "channels/" + workloads.EscapeID(chID) + "/"
}

// channel stores a channel's record with its tabs and backs up its
// messages. When the messages cannot be read, the previous snapshot's
// threads of the channel are kept and the delta state is not advanced.
func (b *backup) channel(ctx context.Context, ch channelRecord, raw json.RawMessage) {
	prefix := b.channelPrefix(ch.ID)
	base := "/teams/" + url.PathEscape(b.u.ID) + "/channels/" + url.PathEscape(ch.ID)
	tabs, err := b.c.All(ctx, base+"/tabs", url.Values{"$expand": {"teamsApp"}})
	if err != nil {
		b.fail("tabs of channel %s: %s", ch.DisplayName, describe(err, "TeamsTab.Read.All"))
	}
	rec, _ := json.Marshal(map[string]any{"channel": raw, "tabs": tabs})
	m := b.meta(catalog.KindChannel, ch.DisplayName)
	m[catalog.MetaFolder], m[catalog.MetaChannelID] = ch.DisplayName, ch.ID
	b.put(prefix+"_channel.json", m, rec)

	changes, link, err := b.delta(ctx, ch, base)
	if err != nil {
		b.fail("messages of channel %s: %s", ch.DisplayName, describe(err, "ChannelMessage.Read.All"))
		b.carry(prefix + "messages/")
		b.carry(prefix + "hosted/")
		if it, ok := b.prev.Get(prefix + "_state/delta"); ok {
			b.add(it, nil)
		}
		return
	}
	b.carry(prefix + "hosted/")
	ok := b.threads(ctx, ch, base, changes)
	if ok && link != "" {
		b.put(prefix+"_state/delta", map[string]string{catalog.MetaKind: catalog.KindState, catalog.MetaWorkload: Name,
			catalog.MetaUserID: b.u.ID, catalog.MetaUser: b.u.Name}, []byte(link))
	} else if it, found := b.prev.Get(prefix + "_state/delta"); found {
		b.add(it, nil)
	}
}

// delta reads the channel's message changes since the previous
// snapshot's deltaLink, or all messages when there is none or Graph
// refused it (410). full is then reported in Resynced.
func (b *backup) delta(ctx context.Context, ch channelRecord, base string) (map[string]json.RawMessage, string, error) {
	prefix := b.channelPrefix(ch.ID)
	var link string
	if it, ok := b.prev.Get(prefix + "_state/delta"); ok {
		if body, err := b.prev.Read(it); err == nil {
			link = string(body)
		}
	}
	changes := map[string]json.RawMessage{}
	collect := func(raw json.RawMessage) error {
		var m message
		if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" {
			return fmt.Errorf("a channel message without an id")
		}
		changes[m.ID] = raw
		return nil
	}
	if link != "" {
		ri, err := b.c.LinkRequest(link)
		if err != nil {
			return nil, "", err
		}
		next, err := b.c.Pages(ctx, ri, collect)
		if st, _ := graph.ErrorOf(err); st != 410 {
			return changes, next, err
		}
		b.res.Resynced = append(b.res.Resynced, "channel "+ch.DisplayName)
		clear(changes)
	}
	ri, err := b.c.Request(base+"/messages/delta", nil)
	if err != nil {
		return nil, "", err
	}
	// A full enumeration: threads it does not name are carried by
	// threads, as a deletion keeps them.
	next, err := b.c.Pages(ctx, ri, collect)
	return changes, next, err
}

// threads writes the channel's threads: changed ones read again with
// their replies and hosted contents, the others carried. It reports
// whether every changed thread was stored.
func (b *backup) threads(ctx context.Context, ch channelRecord, base string, changes map[string]json.RawMessage) bool {
	prefix := b.channelPrefix(ch.ID)
	var work []threadWork
	seen := map[string]bool{}
	_ = b.prev.Each(prefix+"messages/", func(it vault.Item) error {
		id := it.Meta[catalog.MetaItemID]
		seen[id] = true
		if raw, changed := changes[id]; changed {
			work = append(work, newThreadWork(raw, &it))
			return nil
		}
		b.carryThread(it)
		return nil
	})
	for id, raw := range changes {
		if !seen[id] {
			work = append(work, newThreadWork(raw, nil))
		}
	}
	all := true
	for len(work) > 0 {
		n := min(len(work), replyBatch)
		b.readReplies(ctx, base, work[:n])
		for _, w := range work[:n] {
			all = b.changed(ctx, ch, w) && all
		}
		work = work[n:]
	}
	return all && b.sinkErr == nil
}

// replyWorkers is how many threads' replies a team's backup reads at
// once, and replyBatch how many changed threads it holds in memory with
// their replies. One request at a time would hold a team to one request
// per round trip, below the Teams request limit the governor paces to.
const (
	replyWorkers = 4
	replyBatch   = 64
)

// threadWork is a changed thread: its message as the delta returned it
// (raw, and decoded: the delta kept only elements with an id), its
// previous record (nil when new), whether that record holds the same
// message, and its replies once read.
type threadWork struct {
	raw     json.RawMessage
	m       message
	prev    *vault.Item
	same    bool
	replies []json.RawMessage
	err     error
}

func newThreadWork(raw json.RawMessage, prev *vault.Item) threadWork {
	w := threadWork{raw: raw, prev: prev}
	_ = json.Unmarshal(raw, &w.m)
	return w
}

// readReplies reads, replyWorkers at a time, the replies of the threads
// in work that changed will store anew: not deleted, and not the same
// message as before.
func (b *backup) readReplies(ctx context.Context, base string, work []threadWork) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, replyWorkers)
	for i := range work {
		w := &work[i]
		if w.m.Removed != nil || w.m.Deleted != "" {
			continue
		}
		if w.same = w.prev != nil && b.sameMessage(*w.prev, w.raw); w.same {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.replies, w.err = b.c.All(ctx, base+"/messages/"+url.PathEscape(w.m.ID)+"/replies", nil)
		}()
	}
	wg.Wait()
}

func (b *backup) carryThread(it vault.Item) {
	if b.add(it, nil) {
		b.res.Items++
		b.res.CarriedItems++
	}
}

// changed stores a thread the delta named, with the replies readReplies
// read for it.
func (b *backup) changed(ctx context.Context, ch channelRecord, w threadWork) bool {
	raw, prev, m := w.raw, w.prev, w.m
	meta := b.messageMeta(ch, m)
	if m.Removed != nil || m.Deleted != "" {
		if prev != nil {
			// Deleted in Teams: keep what it said, marked deleted.
			kept := *prev
			if kept.Meta[catalog.MetaDeleted] == "" {
				kept.Meta = cloneMeta(kept.Meta)
				kept.Meta[catalog.MetaDeleted] = firstNonEmpty(m.Deleted, "removed")
			}
			b.carryThread(kept)
			return true
		}
		if m.Removed != nil {
			return true
		}
		meta[catalog.MetaDeleted] = m.Deleted
	}
	if prev != nil && w.same {
		b.carryThread(*prev)
		return true
	}
	t := Thread{Message: raw, Replies: []json.RawMessage{}}
	if m.Deleted == "" {
		replies, err := w.replies, w.err
		if err != nil {
			b.fail("replies of message %s in channel %s: %s", m.ID, ch.DisplayName, graph.Describe(err))
			if prev != nil {
				b.carryThread(*prev)
			}
			return false
		}
		t.Replies = replies
		if !b.hosted(ctx, ch, &t, m.ID) {
			if prev != nil {
				b.carryThread(*prev)
			}
			return false
		}
	}
	body, _ := json.Marshal(t)
	if b.put(b.channelPrefix(ch.ID)+"messages/"+workloads.EscapeID(m.ID)+".json", meta, body) {
		b.res.Items++
		b.res.NewItems++
	}
	return true
}

// sameMessage reports whether the previous thread's message is the one
// Graph returned now, byte for byte.
func (b *backup) sameMessage(prev vault.Item, raw json.RawMessage) bool {
	old, err := b.prev.Read(prev)
	if err != nil {
		return false
	}
	var t Thread
	if json.Unmarshal(old, &t) != nil {
		return false
	}
	return bytes.Equal(t.Message, raw)
}

func (b *backup) messageMeta(ch channelRecord, m message) map[string]string {
	meta := b.meta(catalog.KindChannelMessage, ch.DisplayName)
	meta[catalog.MetaFolder], meta[catalog.MetaChannelID] = ch.DisplayName, ch.ID
	meta[catalog.MetaItemID], meta[catalog.MetaDate] = m.ID, m.Created
	if m.From.User != nil {
		meta[catalog.MetaFrom] = m.From.User.DisplayName
	}
	meta[catalog.MetaSubject] = preview(PlainText(m.Body.Content))
	return meta
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// PlainText is a message body without its HTML tags and entities.
func PlainText(s string) string {
	s = tagRE.ReplaceAllString(s, " ")
	return strings.TrimSpace(strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&nbsp;", " ").Replace(s))
}

func cloneMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
