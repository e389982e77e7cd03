package tenantsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// hostedContent is an image pasted into a channel message, served by
// .../hostedContents/{id}/$value. Its bytes are a function of seed.
type hostedContent struct {
	id, contentType string
	size            int
	seed            uint64
	// data is the content of an imported image.
	data []byte
}

// content is a real image of the content type (PNG or JPEG, a noise
// pattern of about size pixels' worth drawn from seed), so that a browser
// can show a transcript that embeds it.
func (h *hostedContent) content() []byte { return seeded(h.data, h.seed, h.size, h.draw) }

func (h *hostedContent) draw(r *rand.Rand) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 160, max(16, h.size/480)))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if h.contentType == "image/jpeg" {
		_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	} else {
		_ = png.Encode(&b, img)
	}
	return b.Bytes()
}

// conversation is a Microsoft 365 group conversation; its threads hold
// the posts.
type conversation struct {
	id, topic string
	threads   []*convThread
}

type convThread struct {
	id, topic string
	conv      *conversation
	posts     []*groupPost
}

type groupPost struct {
	id          string
	from        *user
	body        string
	created     time.Time
	attachments []*attachment
}

var conversationTopics = []string{"Planung Sommerfest", "Budget Q3 – Rückfragen", "Nouvelle imprimante au 2e étage", "Kundentermin Fabrikam", "週次ミーティングの議事録", "Urlaubsvertretung August"}

// generateTeamsAdditions gives every channel of a team a few messages
// with pasted images (appended after the generated ones, with ids of
// their own) and a change log over its messages, and every group a few
// conversations. It draws from streams of its own.
func (s *Sim) generateTeamsAdditions() {
	for gi, g := range s.groups {
		r := rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "teams-additions"), uint64(gi)))
		for ci, ch := range g.channels {
			for m := range 1 + r.IntN(2) {
				msg := &chatMessage{
					id:      fmt.Sprint(1750000000000 + int64(ci)*1000 + int64(m)),
					from:    g.members[r.IntN(len(g.members))],
					body:    phrases[r.IntN(len(phrases))],
					created: genEpoch.Add(time.Duration(200*24+r.IntN(30*24)) * time.Hour),
				}
				for h := range 1 + r.IntN(2) {
					ct := []string{"image/png", "image/jpeg"}[r.IntN(2)]
					raw := fmt.Sprintf("id=x_0-weu-d%d-%s,type=1,url=https://eu-api.asm.skype.com/v1/objects/0-weu-d%d-%s/views/imgo", h, shortHash(msg.id, h), h, shortHash(msg.id, h))
					msg.hosted = append(msg.hosted, &hostedContent{
						id:          base64.RawURLEncoding.EncodeToString([]byte(raw)),
						contentType: ct, size: 4_000 + r.IntN(120_000), seed: seedOf(s.cfg.Seed, "hosted", msg.id, h),
					})
				}
				ch.messages = append(ch.messages, msg)
			}
			ch.log = &collection{id: "channellog:" + g.id + ":" + ch.id}
			for _, m := range ch.messages {
				s.logAdd(ch.log, m.id)
			}
		}
		if len(g.members) == 0 {
			continue
		}
		for c := range 2 + r.IntN(2) {
			conv := &conversation{id: itemID("AAQkAGconv", s.cfg.Seed, g.id, c), topic: conversationTopics[(gi+c+r.IntN(2))%len(conversationTopics)]}
			th := &convThread{id: itemID("AAQkAGthread", s.cfg.Seed, g.id, c), topic: conv.topic, conv: conv}
			when := genEpoch.Add(time.Duration(r.IntN(250*24)) * time.Hour)
			for p := range 1 + r.IntN(4) {
				when = when.Add(time.Duration(1+r.IntN(48)) * time.Hour)
				th.posts = append(th.posts, &groupPost{
					id:   itemID("AAMkAGpost", s.cfg.Seed, th.id, p),
					from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: when,
				})
			}
			conv.threads = append(conv.threads, th)
			g.conversations = append(g.conversations, conv)
		}
	}
}

// hostedBodyHTML is the HTML body of a message with pasted images: its
// text, then an <img> per hosted content pointing at its $value.
func hostedBodyHTML(base string, g *group, ch *channel, m *chatMessage) string {
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(m.body) + "</p>")
	for _, h := range m.hosted {
		src := fmt.Sprintf("%s/teams/%s/channels/%s/messages/%s/hostedContents/%s/$value", base, g.id, ch.id, m.id, h.id)
		fmt.Fprintf(&b, `<p><img src="%s" alt="image" itemtype="http://schema.skype.com/AMSImage" style="vertical-align:bottom"></p>`, html.EscapeString(src))
	}
	return b.String()
}

func (s *Sim) registerTeamsRoutes() {
	rt := &s.routes
	const get = http.MethodGet
	msgs := "teams/{gid}/channels/{chid}/messages"
	rt.add(get, msgs+"/delta()", "teams", permChannelRead, handleChannelMessagesDelta)
	rt.add(get, msgs+"/{cmid}", "teams", permChannelRead, handleGetChannelMessage)
	rt.add(get, msgs+"/{cmid}/hostedContents", "teams", permChannelRead, handleListHostedContents)
	rt.add(get, msgs+"/{cmid}/hostedContents/{hcid}", "teams", permChannelRead, handleGetHostedContent)
	rt.add(get, msgs+"/{cmid}/hostedContents/{hcid}/$value", "teams", permChannelRead, handleHostedContentValue)

	rt.add(get, "groups/{gid}/conversations", "groups", permGroupRead, handleListConversations)
	rt.add(get, "groups/{gid}/conversations/{cvid}", "groups", permGroupRead, handleGetConversation)
	rt.add(get, "groups/{gid}/conversations/{cvid}/threads", "groups", permGroupRead, handleListThreads)
	rt.add(get, "groups/{gid}/conversations/{cvid}/threads/{thid}", "groups", permGroupRead, handleGetThread)
	rt.add(get, "groups/{gid}/conversations/{cvid}/threads/{thid}/posts", "groups", permGroupRead, handleListPosts)
	rt.add(get, "groups/{gid}/threads", "groups", permGroupRead, handleListThreads)
	rt.add(get, "groups/{gid}/threads/{thid}", "groups", permGroupRead, handleGetThread)
	rt.add(get, "groups/{gid}/threads/{thid}/posts", "groups", permGroupRead, handleListPosts)
	rt.add(get, "groups/{gid}/threads/{thid}/posts/{pid}", "groups", permGroupRead, handleGetPost)
}

// channel resolves {gid} and {chid}.
func (q *request) channel() (*group, *channel, *graphError) {
	g, gerr := q.group()
	if gerr != nil {
		return nil, nil, gerr
	}
	i := slices.IndexFunc(g.channels, func(c *channel) bool { return c.id == q.param("chid") })
	if i < 0 {
		return nil, nil, errf(http.StatusNotFound, "NotFound", "Channel not found.")
	}
	return g, g.channels[i], nil
}

// chatMessage resolves {cmid} among a channel's top-level messages.
func (q *request) chatMessage() (*group, *channel, *chatMessage, *graphError) {
	g, ch, gerr := q.channel()
	if gerr != nil {
		return nil, nil, nil, gerr
	}
	i := slices.IndexFunc(ch.messages, func(m *chatMessage) bool { return m.id == q.param("cmid") })
	if i < 0 {
		return nil, nil, nil, errf(http.StatusNotFound, "NotFound", "Message not found.")
	}
	return g, ch, ch.messages[i], nil
}

func handleGetChannelMessage(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		g, ch, m, gerr := q.chatMessage()
		if gerr != nil {
			return nil, gerr
		}
		return chatMessageJSON(q.sim.baseURL, g, ch, m, ""), nil
	})
}

// handleChannelMessagesDelta serves a channel's messages delta: the
// top-level messages (replies are read per message), paged with
// @odata.nextLink and ending in an @odata.deltaLink.
func handleChannelMessagesDelta(q *request) *graphError {
	return readPair(q, q.channel, func(g *group, ch *channel) (any, *graphError) {
		byID := make(map[string]*chatMessage, len(ch.messages))
		for _, m := range ch.messages {
			byID[m.id] = m
		}
		body, gerr := q.serveDelta(ch.log, "#microsoft.graph.chatMessage", func(id string) map[string]any {
			if m := byID[id]; m != nil {
				return chatMessageJSON(q.sim.baseURL, g, ch, m, "")
			}
			return nil
		})
		if gerr == nil {
			q.sim.counters.servedMessages(body)
		}
		return body, gerr
	})
}

func hostedContentJSON(h *hostedContent) map[string]any {
	return map[string]any{"id": h.id, "contentType": h.contentType, "contentBytes": nil}
}

func handleListHostedContents(q *request) *graphError {
	return q.read(func() (any, *graphError) {
		_, _, m, gerr := q.chatMessage()
		if gerr != nil {
			return nil, gerr
		}
		all := []map[string]any{}
		for _, h := range m.hosted {
			all = append(all, hostedContentJSON(h))
		}
		return q.listPage("chatMessageHostedContents", all, 100, 999)
	})
}

func (q *request) hostedContent() (*hostedContent, *graphError) {
	_, _, m, gerr := q.chatMessage()
	if gerr != nil {
		return nil, gerr
	}
	for _, h := range m.hosted {
		if h.id == q.param("hcid") {
			return h, nil
		}
	}
	return nil, errf(http.StatusNotFound, "NotFound", "Hosted content not found.")
}

func handleGetHostedContent(q *request) *graphError {
	return readOf(q, q.hostedContent, func(h *hostedContent) (any, *graphError) {
		return hostedContentJSON(h), nil
	})
}

func handleHostedContentValue(q *request) *graphError {
	q.sim.mu.RLock()
	h, gerr := q.hostedContent()
	q.sim.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	writeRaw(q.w, http.StatusOK, h.contentType, h.content())
	return nil
}

// postChannelMessages posts count messages to the channel of g named
// name (the first when empty), as team members chatting would.
func (s *Sim) postChannelMessages(g *group, name string, count int, res *ScenarioResult) error {
	var ch *channel
	for _, c := range g.channels {
		if name == "" || strings.EqualFold(c.displayName, name) {
			ch = c
			break
		}
	}
	if ch == nil {
		return fmt.Errorf("scenario post-channel-messages: team %s has no channel %q", g.displayName, name)
	}
	for range count {
		seq := s.seq + 1
		r := s.newRand(seq)
		m := &chatMessage{id: fmt.Sprint(1900000000000 + seq), from: g.members[r.IntN(len(g.members))], body: phrases[r.IntN(len(phrases))], created: s.logicalNow(seq)}
		ch.messages = append(ch.messages, m)
		s.logAdd(ch.log, m.id)
		res.ItemsCreated++
		res.IDs = append(res.IDs, m.id)
	}
	return nil
}

func emailOf(u *user) map[string]any {
	return map[string]any{"emailAddress": map[string]any{"name": u.displayName, "address": u.mail}}
}

func threadSenders(th *convThread) []any {
	var names []any
	for _, p := range th.posts {
		if !slices.Contains(names, any(p.from.displayName)) {
			names = append(names, p.from.displayName)
		}
	}
	return names
}

func threadJSON(g *group, th *convThread) map[string]any {
	last := th.posts[len(th.posts)-1]
	return map[string]any{
		"id": th.id, "topic": th.topic, "hasAttachments": false, "isLocked": false,
		"lastDeliveredDateTime": ts(last.created),
		"uniqueSenders":         threadSenders(th),
		"preview":               preview(last.body),
		"toRecipients":          []any{map[string]any{"emailAddress": map[string]any{"name": g.displayName, "address": g.mail}}},
		"ccRecipients":          []any{},
	}
}

func conversationJSON(c *conversation) map[string]any {
	var senders []any
	last := c.threads[0].posts[0]
	for _, th := range c.threads {
		for _, s := range threadSenders(th) {
			if !slices.Contains(senders, s) {
				senders = append(senders, s)
			}
		}
		if p := th.posts[len(th.posts)-1]; p.created.After(last.created) {
			last = p
		}
	}
	return map[string]any{
		"id": c.id, "topic": c.topic, "hasAttachments": false,
		"lastDeliveredDateTime": ts(last.created), "uniqueSenders": senders, "preview": preview(last.body),
	}
}

func postJSON(th *convThread, p *groupPost) map[string]any {
	ck := shortHash(p.id, 1)
	return map[string]any{
		"@odata.etag": `W/"` + ck + `"`, "id": p.id, "changeKey": ck, "categories": []any{},
		"createdDateTime": ts(p.created), "lastModifiedDateTime": ts(p.created), "receivedDateTime": ts(p.created),
		"hasAttachments": len(p.attachments) > 0,
		"body":           map[string]any{"contentType": "html", "content": "<html><body><div>" + html.EscapeString(p.body) + "</div></body></html>"},
		"from":           emailOf(p.from), "sender": emailOf(p.from),
		"conversationThreadId": th.id, "conversationId": th.conv.id,
		"newParticipants": []any{},
	}
}

func (q *request) conversation(g *group) (*conversation, *graphError) {
	for _, c := range g.conversations {
		if c.id == q.param("cvid") {
			return c, nil
		}
	}
	return nil, errf(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

// thread resolves {thid}, within {cvid} when the path names one.
func (q *request) thread() (*group, *convThread, *graphError) {
	g, gerr := q.group()
	if gerr != nil {
		return nil, nil, gerr
	}
	convs := g.conversations
	if q.param("cvid") != "" {
		c, gerr := q.conversation(g)
		if gerr != nil {
			return nil, nil, gerr
		}
		convs = []*conversation{c}
	}
	for _, c := range convs {
		for _, th := range c.threads {
			if th.id == q.param("thid") {
				return g, th, nil
			}
		}
	}
	return nil, nil, errf(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

func handleListConversations(q *request) *graphError {
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		all := []map[string]any{}
		for _, c := range g.conversations {
			all = append(all, project(conversationJSON(c), selectFields(q.r)))
		}
		return q.listPage("groups('"+g.id+"')/conversations", all, 10, 999)
	})
}

func handleGetConversation(q *request) *graphError {
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		c, gerr := q.conversation(g)
		if gerr != nil {
			return nil, gerr
		}
		return conversationJSON(c), nil
	})
}

func handleListThreads(q *request) *graphError {
	return readOf(q, q.group, func(g *group) (any, *graphError) {
		convs := g.conversations
		if q.param("cvid") != "" {
			c, gerr := q.conversation(g)
			if gerr != nil {
				return nil, gerr
			}
			convs = []*conversation{c}
		}
		all := []map[string]any{}
		for _, c := range convs {
			for _, th := range c.threads {
				all = append(all, project(threadJSON(g, th), selectFields(q.r)))
			}
		}
		return q.listPage("groups('"+g.id+"')/threads", all, 10, 999)
	})
}

func handleGetThread(q *request) *graphError {
	return readPair(q, q.thread, func(g *group, th *convThread) (any, *graphError) {
		return threadJSON(g, th), nil
	})
}

func handleListPosts(q *request) *graphError {
	return readPair(q, q.thread, func(g *group, th *convThread) (any, *graphError) {
		all := []map[string]any{}
		for _, p := range th.posts {
			all = append(all, project(postJSON(th, p), selectFields(q.r)))
		}
		return q.listPage("groups('"+g.id+"')/threads('"+th.id+"')/posts", all, 10, 999)
	})
}

func handleGetPost(q *request) *graphError {
	return readPair(q, q.thread, func(_ *group, th *convThread) (any, *graphError) {
		for _, p := range th.posts {
			if p.id == q.param("pid") {
				return postJSON(th, p), nil
			}
		}
		return nil, errf(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
	})
}
