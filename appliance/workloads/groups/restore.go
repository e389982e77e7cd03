package groups

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/export"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
	"github.com/strongroom/strongroom/storage/vault"
)

// Kinds implements workloads.Restorer.
func (Workload) Kinds() map[string]string {
	return map[string]string{"conversations": catalog.KindGroupThread}
}

// Restore implements workloads.Restorer: each selected thread is posted
// again into the group (o.TargetUserID, a group's id or mail, or the
// original one) as a new thread "Restored: <topic>", its first post
// starting it and the others as replies, in order, with their
// attachments. Graph posts them as the restore app's group member, so
// each post begins with a line naming its original author and time.
func (Workload) Restore(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	var res workloads.RestoreResult
	if len(items) == 0 {
		return res, fmt.Errorf("the selection holds no group conversation to restore; select a group (--user its mail) with --kind conversations")
	}
	c := &graph.Caller{G: g}
	group, err := targetGroup(ctx, g, o.TargetUserID, items[0].Meta[catalog.MetaUserID])
	if err != nil {
		return res, err
	}
	base := "/groups/" + url.PathEscape(group) + "/threads"
	for _, it := range items {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		var buf bytes.Buffer
		var t Thread
		if err := src.WriteItem(&buf, it); err != nil || json.Unmarshal(buf.Bytes(), &t) != nil || len(t.Posts) == 0 {
			res.Failed++
			res.Errors = append(res.Errors, fmt.Sprintf("thread %q: the stored copy is not readable (%v); run 'strongroom vault scrub --repair'", it.Meta[catalog.MetaSubject], err))
			continue
		}
		restoreThread(ctx, c, base, "Restored: "+it.Meta[catalog.MetaSubject], t, &res)
	}
	return res, nil
}

// restoreThread posts one thread: a new thread with its first post, then
// a reply per further post.
func restoreThread(ctx context.Context, c *graph.Caller, base, topic string, t Thread, res *workloads.RestoreResult) {
	out, err := c.WriteJSON(ctx, abstractions.POST, base, map[string]any{"topic": topic, "posts": []any{repost(t.Posts[0])}})
	if err != nil {
		res.Failed += len(t.Posts)
		res.Errors = append(res.Errors, fmt.Sprintf("thread %q: %s; the restore app needs Group.ReadWrite.All", topic, graph.Describe(err)))
		return
	}
	res.Restored++
	var th struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(out, &th) != nil || th.ID == "" {
		res.Failed += len(t.Posts) - 1
		res.Errors = append(res.Errors, fmt.Sprintf("thread %q: Graph returned no thread id; its replies were not posted", topic))
		return
	}
	for _, p := range t.Posts[1:] {
		if _, err := c.WriteJSON(ctx, abstractions.POST, base+"/"+url.PathEscape(th.ID)+"/reply", map[string]any{"post": repost(p)}); err != nil {
			res.Failed++
			res.Errors = append(res.Errors, fmt.Sprintf("a reply in thread %q: %s", topic, graph.Describe(err)))
			continue
		}
		res.Restored++
	}
}

// repost is a stored post as a new post's body: a line naming its
// original author and time, then its body, with its file attachments.
func repost(p Post) map[string]any {
	var in export.GroupPost
	_ = json.Unmarshal(p.Post, &in)
	when := in.Created
	if t, err := time.Parse(time.RFC3339Nano, in.Created); err == nil {
		when = t.UTC().Format("2006-01-02 15:04 UTC")
	}
	content := in.Body.Content
	if !strings.EqualFold(in.Body.ContentType, "html") {
		content = html.EscapeString(content)
	}
	header := fmt.Sprintf("<p><i>Originally posted by %s &lt;%s&gt; on %s</i></p>", html.EscapeString(in.From.EmailAddress.Name),
		html.EscapeString(in.From.EmailAddress.Address), html.EscapeString(when))
	post := map[string]any{"body": map[string]any{"contentType": "html", "content": header + content}}
	var atts []any
	for _, a := range p.Attachments {
		var fa export.FileAttachment
		if json.Unmarshal(a, &fa) == nil && fa.ContentBytes != "" {
			atts = append(atts, map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": fa.Name, "contentType": fa.ContentType, "contentBytes": fa.ContentBytes})
		}
	}
	if len(atts) > 0 {
		post["attachments"] = atts
	}
	return post
}

// targetGroup resolves the group to restore into: target (id or mail),
// or the original group.
func targetGroup(ctx context.Context, g *graph.Client, target, original string) (string, error) {
	return teams.ResolveGroup(ctx, g, target, original, false)
}
