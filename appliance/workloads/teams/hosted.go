package teams

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
)

// hostedRE finds the $value URLs of hosted contents in a message body.
var hostedRE = regexp.MustCompile(`src="([^"]*/hostedContents/([^/"]+)/\$value)"`)

// hosted stores the hosted contents the thread's bodies reference that
// the previous snapshot does not hold (those were carried with the
// channel), and lists them all in t.Hosted. Only URLs under the Graph
// root are followed: the token is never sent elsewhere. It reports
// whether every one was stored.
func (b *backup) hosted(ctx context.Context, ch channelRecord, t *Thread, msgID string) bool {
	bodies := []json.RawMessage{t.Message}
	bodies = append(bodies, t.Replies...)
	root := strings.TrimSuffix(b.c.G.BaseURL(), "/") + "/"
	ok := true
	for _, raw := range bodies {
		var m message
		if json.Unmarshal(raw, &m) != nil || m.Body.ContentType != "html" {
			continue
		}
		for _, sm := range hostedRE.FindAllStringSubmatch(m.Body.Content, -1) {
			u, id := html.UnescapeString(sm[1]), sm[2]
			p := b.channelPrefix(ch.ID) + "hosted/" + workloads.EscapeID(msgID) + "/" + workloads.EscapeID(id)
			t.Hosted = append(t.Hosted, HostedRef{ID: id, URL: u, Path: p})
			if _, have := b.prev.Get(p); have {
				continue
			}
			if !strings.HasPrefix(u, root) {
				b.fail("hosted content %s of message %s: its URL is not under the Graph root", id, msgID)
				ok = false
				continue
			}
			if !b.download(ctx, ch, u, p, id, msgID) {
				ok = false
			}
		}
	}
	return ok
}

// download reads one hosted content and stores it at p.
func (b *backup) download(ctx context.Context, ch channelRecord, u, p, id, msgID string) bool {
	ri, err := b.c.LinkRequest(u)
	if err != nil {
		b.fail("hosted content %s of message %s: %v", id, msgID, err)
		return false
	}
	ri.Headers.Add("Accept", "*/*")
	body, err := b.c.Send(ctx, ri)
	if err != nil {
		b.fail("hosted content %s of message %s: %s", id, msgID, graph.Describe(err))
		return false
	}
	meta := b.meta(catalog.KindHostedContent, id)
	meta[catalog.MetaFolder], meta[catalog.MetaChannelID], meta[catalog.MetaItemID] = ch.DisplayName, ch.ID, id
	meta[catalog.MetaParentID] = msgID
	if !b.put(p, meta, body) {
		return false
	}
	b.res.Bytes += int64(len(body))
	return true
}
