// Package groups backs up Microsoft 365 groups through Microsoft Graph:
// each group's record with its members and owners, and its conversations'
// threads with every post and the posts' attachments. A group's site is
// backed up by the sharepoint workload, a team's channels by the teams
// workload. Its calendar is not: Graph serves group calendars to
// signed-in users only, never to an application.
//
// A group is one protected unit, named by its mail address. Its layout in
// a snapshot (ids escaped with workloads.EscapeID):
//
//	groups/<group>/_group.json            {"group": ..., "members": [...], "owners": [...]}
//	groups/<group>/threads/<thread>.json  {"thread": ..., "posts": [{"post": ..., "attachments": [...]}]}
//
// Graph has no delta for group threads: every run lists the threads, and
// a thread whose record (with its lastDeliveredDateTime) is the one the
// previous snapshot holds is carried without reading its posts again.
package groups

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
	"github.com/strongroom/strongroom/storage/vault"
)

// Name is the workload's name: the first element of its paths in a
// snapshot and its metrics label.
const Name = "groups"

// Workload protects every Microsoft 365 group of the tenant.
type Workload struct{}

// Name implements workloads.Workload.
func (Workload) Name() string { return Name }

// Noun implements workloads.Workload.
func (Workload) Noun() (string, string) { return "group", "groups" }

// Discover lists every Microsoft 365 (unified) group, teams included.
func (Workload) Discover(ctx context.Context, t workloads.Tenant) ([]workloads.Unit, error) {
	return teams.ListGroups(ctx, t.Graph, false)
}

// PathPrefix is where a group lives in a snapshot.
func PathPrefix(groupID string) string { return workloads.Prefix(Name, groupID) }

// Thread is a stored conversation thread.
type Thread struct {
	Thread json.RawMessage `json:"thread"`
	Posts  []Post          `json:"posts"`
}

// Post is a thread's post with its attachments (file attachments with
// their contentBytes).
type Post struct {
	Post        json.RawMessage   `json:"post"`
	Attachments []json.RawMessage `json:"attachments,omitempty"`
}

type backup struct {
	c    *graph.Caller
	sink workloads.Sink
	prev workloads.Previous
	u    workloads.Unit
	base string

	res     workloads.Result
	sinkErr error
}

// Backup implements workloads.Workload: the group's record first (a group
// that answers 404 is gone and nothing is written), then members and
// owners, then threads. When the threads cannot be listed, the previous
// snapshot's are kept.
func (Workload) Backup(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, u workloads.Unit) (workloads.Result, error) {
	b := &backup{c: &graph.Caller{G: g, PageSize: 50}, sink: sink, prev: workloads.OrEmpty(prev), u: u, base: "/groups/" + url.PathEscape(u.ID)}
	err := b.run(ctx)
	return workloads.Finish("group "+u.Name, b.c, &b.res, err, b.sinkErr)
}

func (b *backup) run(ctx context.Context) error {
	rec, err := workloads.ReadRecord(ctx, b.c, b.base, "group "+b.u.Name, graph.Describe)
	if err != nil {
		return err
	}
	sel := url.Values{"$select": {"id,displayName,userPrincipalName,mail"}}
	members, err := b.c.All(ctx, b.base+"/members", sel)
	if err != nil {
		return fmt.Errorf("back up group %s: list the members: %s", b.u.Name, graph.Describe(err))
	}
	owners, err := b.c.All(ctx, b.base+"/owners", sel)
	if err != nil {
		return fmt.Errorf("back up group %s: list the owners: %s", b.u.Name, graph.Describe(err))
	}
	body, _ := json.Marshal(map[string]any{"group": json.RawMessage(rec), "members": members, "owners": owners})
	b.put(PathPrefix(b.u.ID)+"_group.json", b.meta(catalog.KindGroup, b.u.DisplayName), body)
	b.threads(ctx)
	return nil
}

// threadRecord is the part of a thread the backup reads.
type threadRecord struct {
	ID    string `json:"id"`
	Topic string `json:"topic"`
	Last  string `json:"lastDeliveredDateTime"`
}

// threads stores every conversation thread with its posts.
func (b *backup) threads(ctx context.Context) {
	raws, err := b.c.All(ctx, b.base+"/threads", nil)
	if err != nil {
		b.fail("list the conversation threads: %s", graph.Describe(err))
		b.carry(PathPrefix(b.u.ID) + "threads/")
		return
	}
	b.res.Collections++
	for _, raw := range raws {
		var th threadRecord
		if json.Unmarshal(raw, &th) != nil || th.ID == "" {
			b.fail("a conversation thread without an id")
			continue
		}
		p := PathPrefix(b.u.ID) + "threads/" + workloads.EscapeID(th.ID) + ".json"
		m := b.meta(catalog.KindGroupThread, th.Topic)
		m[catalog.MetaItemID], m[catalog.MetaSubject], m[catalog.MetaDate] = th.ID, th.Topic, th.Last
		b.res.Items++
		if it, ok := b.prev.Get(p); ok && b.sameThread(it, raw) {
			it.Meta = m
			b.add(it)
			b.res.CarriedItems++
			continue
		}
		t, err := b.posts(ctx, th, raw)
		if err != nil {
			b.fail("thread %q: %s", th.Topic, graph.Describe(err))
			if it, ok := b.prev.Get(p); ok {
				b.add(it)
			}
			continue
		}
		body, _ := json.Marshal(t)
		b.put(p, m, body)
		b.res.NewItems++
	}
}

// posts reads a thread's posts and the attachments of those that have
// some.
func (b *backup) posts(ctx context.Context, th threadRecord, raw json.RawMessage) (Thread, error) {
	tp := b.base + "/threads/" + url.PathEscape(th.ID) + "/posts"
	posts, err := b.c.All(ctx, tp, nil)
	if err != nil {
		return Thread{}, err
	}
	t := Thread{Thread: raw, Posts: []Post{}}
	for _, p := range posts {
		var pr struct {
			ID             string `json:"id"`
			HasAttachments bool   `json:"hasAttachments"`
		}
		_ = json.Unmarshal(p, &pr)
		post := Post{Post: p}
		if pr.HasAttachments {
			if post.Attachments, err = b.c.All(ctx, tp+"/"+url.PathEscape(pr.ID)+"/attachments", nil); err != nil {
				return Thread{}, err
			}
			for _, a := range post.Attachments {
				b.res.Bytes += int64(len(a))
			}
		}
		t.Posts = append(t.Posts, post)
	}
	return t, nil
}

// sameThread reports whether the previous record of a thread holds the
// thread record Graph returned now.
func (b *backup) sameThread(it vault.Item, raw json.RawMessage) bool {
	old, err := b.prev.Read(it)
	if err != nil {
		return false
	}
	var t Thread
	return json.Unmarshal(old, &t) == nil && bytes.Equal(t.Thread, raw)
}

func (b *backup) meta(kind, name string) map[string]string {
	return map[string]string{catalog.MetaKind: kind, catalog.MetaWorkload: Name, catalog.MetaUserID: b.u.ID,
		catalog.MetaUser: b.u.Name, catalog.MetaName: name}
}

func (b *backup) put(p string, meta map[string]string, body []byte) {
	if b.sinkErr != nil {
		return
	}
	if _, err := b.sink.Put(vault.Item{Path: p, Meta: meta}, bytes.NewReader(body)); err != nil {
		b.sinkErr = err
		return
	}
	b.res.Written++
}

func (b *backup) add(it vault.Item) {
	if b.sinkErr != nil {
		return
	}
	if err := b.sink.Add(it); err != nil {
		b.sinkErr = err
		return
	}
	b.res.Written++
}

// carry records the previous snapshot's items under prefix again.
func (b *backup) carry(prefix string) {
	_ = b.prev.Each(prefix, func(it vault.Item) error {
		b.add(it)
		b.res.Items++
		b.res.CarriedItems++
		return b.sinkErr
	})
}

func (b *backup) fail(format string, args ...any) {
	b.res.Failed++
	b.res.Errors = append(b.res.Errors, fmt.Sprintf(format, args...))
}
