package teams

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/vault"
)

// Kinds implements workloads.Restorer: channel threads, and the images
// pasted into them (selected with them unless --kind channels leaves
// them out; a restored message then shows no image), and the team's
// record (a whole team).
func (Workload) Kinds() map[string]string {
	return map[string]string{"channels": catalog.KindChannelMessage, "channel-images": catalog.KindHostedContent, "team": catalog.KindTeam}
}

// Restore implements workloads.Restorer through Graph's import path: for
// every channel the threads belong to, a new channel is created in
// migration mode in the team (o.TargetUserID, a team's id or mail, or
// the original team), named o.TargetFolder or "Restored – <channel>
// <date>" (Teams forbids ':' in channel names); each thread's message
// and replies are posted in order with their original author, time,
// body, importance and pasted images; then the migration is completed so
// the channel opens as an ordinary one. Messages whose author has left
// the tenant cannot be imported and are counted as failed. When the
// items hold the team's record (a whole team selected), the restore goes
// to the original team (o.TargetUserID is "" or its id) and it no longer
// exists, the team is created again as a whole instead (recreate.go).
func (w Workload) Restore(ctx context.Context, g *graph.Client, src workloads.Source, items []vault.Item, o workloads.RestoreOptions) (workloads.RestoreResult, error) {
	r := &restorer{c: &graph.Caller{G: g}, src: src, hosted: map[string]vault.Item{}, from: o.From, to: o.To}
	var threads []vault.Item
	var record *vault.Item
	for i, it := range items {
		switch it.Meta[catalog.MetaKind] {
		case catalog.KindHostedContent:
			r.hosted[it.Path] = it
		case catalog.KindChannelMessage:
			threads = append(threads, it)
		case catalog.KindTeam:
			record = &items[i]
		}
	}
	if record != nil && (o.TargetUserID == "" || o.TargetUserID == record.Meta[catalog.MetaUserID]) {
		gone, err := r.teamGone(ctx, record.Meta[catalog.MetaUserID])
		if err != nil {
			return r.res, err
		}
		if gone {
			return r.res, r.recreate(ctx, *record, threads, o.Collision)
		}
	}
	if len(threads) == 0 {
		return r.res, fmt.Errorf("the selection holds no channel messages to restore; select a team (--user its mail) and a channel (--folder)")
	}
	team, err := r.targetTeam(ctx, o.TargetUserID, threads[0].Meta[catalog.MetaUserID])
	if err != nil {
		return r.res, err
	}
	byChannel := map[string][]vault.Item{}
	var order []string
	for _, it := range threads {
		id := it.Meta[catalog.MetaChannelID]
		if byChannel[id] == nil {
			order = append(order, id)
		}
		byChannel[id] = append(byChannel[id], it)
	}
	for _, id := range order {
		if ctx.Err() != nil {
			return r.res, ctx.Err()
		}
		name := o.TargetFolder
		if name == "" {
			name = restoredName(byChannel[id][0].Meta[catalog.MetaFolder], clock.Wall().UTC().Format("2006-01-02"))
		}
		r.channel(ctx, team, name, byChannel[id])
	}
	if (!o.From.IsZero() || !o.To.IsZero()) && r.res.Restored+r.res.Failed+r.res.Skipped == 0 {
		return r.res, fmt.Errorf("no message or reply of the selection was created in the time window %s; widen --from/--to (see 'strongroom ls' for the messages' times)", windowText(o.From, o.To))
	}
	return r.res, nil
}

// windowText shows a time window as [from, to), "…" for an open end.
func windowText(from, to time.Time) string {
	show := func(t time.Time) string {
		if t.IsZero() {
			return "…"
		}
		return t.UTC().Format(time.RFC3339)
	}
	return "[" + show(from) + ", " + show(to) + ")"
}

// restoredName is "Restored – <channel> <date>", the channel's name
// shortened so that the whole stays within Teams' 50 characters.
func restoredName(channel, date string) string {
	room := 50 - len([]rune("Restored –  "+date))
	if rs := []rune(channel); len(rs) > room {
		channel = strings.TrimSpace(string(rs[:room]))
	}
	return "Restored – " + channel + " " + date
}

type restorer struct {
	c      *graph.Caller
	src    workloads.Source
	hosted map[string]vault.Item
	res    workloads.RestoreResult
	// from and to bound the time window of messages restored (zero: no
	// bound); see window.
	from, to time.Time
}

// inWindow reports whether a message created at created is in [from, to).
func (r *restorer) inWindow(created string) bool {
	t := when(created)
	return (r.from.IsZero() || !t.Before(r.from)) && (r.to.IsZero() || t.Before(r.to))
}

// window narrows a thread to the time window: a thread is kept when its
// message or one of its replies was created in the window; of its
// replies only those are kept, and its message always (the replies hang
// on it in the restored channel).
func (r *restorer) window(t Thread, created string) (Thread, bool) {
	if r.from.IsZero() && r.to.IsZero() {
		return t, true
	}
	var replies []json.RawMessage
	for _, raw := range t.Replies {
		var m message
		if json.Unmarshal(raw, &m) == nil && r.inWindow(m.Created) {
			replies = append(replies, raw)
		}
	}
	t.Replies = replies
	return t, r.inWindow(created) || len(replies) > 0
}

func (r *restorer) fail(n int, format string, args ...any) {
	r.res.Failed += n
	r.res.Errors = append(r.res.Errors, fmt.Sprintf(format, args...))
}

// targetTeam resolves the team to restore into: target (id or mail), or
// the original team.
func (r *restorer) targetTeam(ctx context.Context, target, original string) (string, error) {
	return ResolveGroup(ctx, r.c.G, target, original, true)
}

// loaded is a stored thread with its message's creation time.
type loaded struct {
	Thread
	created string
}

// channel creates one restored channel and imports threads into it.
func (r *restorer) channel(ctx context.Context, team, name string, items []vault.Item) {
	threads := r.load(items)
	if len(threads) == 0 {
		return
	}
	base := "/teams/" + url.PathEscape(team) + "/channels"
	chID, err := r.createChannel(ctx, base, name, "standard", threads[0].created)
	if err != nil {
		r.fail(posts(threads), "create channel %q: %s; %s", name, graph.Describe(err), channelRemedy(err))
		return
	}
	r.fill(ctx, base, chID, name, threads)
}

// posts counts the messages and replies of threads.
func posts(threads []loaded) int {
	n := 0
	for _, t := range threads {
		n += 1 + len(t.Replies)
	}
	return n
}

// load reads stored threads, oldest first; one that cannot be read is
// counted as failed.
func (r *restorer) load(items []vault.Item) []loaded {
	var threads []loaded
	for _, it := range items {
		var buf bytes.Buffer
		var t Thread
		if err := r.src.WriteItem(&buf, it); err != nil || json.Unmarshal(buf.Bytes(), &t) != nil {
			r.fail(1, "thread %s: the stored copy is not readable (%v); run 'strongroom vault scrub --repair'", it.Meta[catalog.MetaItemID], err)
			continue
		}
		var m message
		_ = json.Unmarshal(t.Message, &m)
		if t, ok := r.window(t, m.Created); ok {
			threads = append(threads, loaded{Thread: t, created: m.Created})
		}
	}
	sort.SliceStable(threads, func(i, j int) bool { return when(threads[i].created).Before(when(threads[j].created)) })
	return threads
}

// fill imports threads into the channel chID (in migration mode) of the
// channels at base, each message before its replies, and then completes
// the channel's migration.
func (r *restorer) fill(ctx context.Context, base, chID, name string, threads []loaded) {
	msgs := base + "/" + url.PathEscape(chID) + "/messages"
	for _, t := range threads {
		newID, ok := r.post(ctx, msgs, t.Message, t.Hosted)
		if !ok {
			r.res.Failed += len(t.Replies)
			continue
		}
		for _, rp := range inOrder(t.Replies) {
			r.post(ctx, msgs+"/"+url.PathEscape(newID)+"/replies", rp, t.Hosted)
		}
	}
	if _, err := r.c.Write(ctx, abstractions.POST, base+"/"+url.PathEscape(chID)+"/completeMigration", "application/json", nil); err != nil {
		r.fail(0, "complete the migration of channel %q: %s; it stays hidden in migration mode until completed: POST .../channels/%s/completeMigration", name, graph.Describe(err), chID)
	}
}

// channelRemedy says what to do when a channel cannot be created.
func channelRemedy(err error) string {
	switch st, _ := graph.ErrorOf(err); st {
	case http.StatusNotFound:
		return "the team no longer exists: restore the whole team (--user its mail, without --folder) to create it again, or restore into another team with --target-user TEAM-MAIL"
	case http.StatusForbidden, http.StatusUnauthorized:
		return "grant the restore app Teamwork.Migrate.All (and Channel.Create) and consent to it"
	}
	return "try again; if it persists, restore into another team with --target-user TEAM-MAIL"
}

// when parses a Graph timestamp (zero when it does not parse), so that
// times with and without fractions of a second order correctly.
func when(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// inOrder returns replies sorted by their createdDateTime: Graph does
// not promise the order it lists them in, and an import keeps the order
// of posting.
func inOrder(replies []json.RawMessage) []json.RawMessage {
	type dated struct {
		raw     json.RawMessage
		created string
	}
	out := make([]dated, len(replies))
	for i, raw := range replies {
		var m message
		_ = json.Unmarshal(raw, &m)
		out[i] = dated{raw, m.Created}
	}
	sort.SliceStable(out, func(i, j int) bool { return when(out[i].created).Before(when(out[j].created)) })
	sorted := make([]json.RawMessage, len(out))
	for i, d := range out {
		sorted[i] = d.raw
	}
	return sorted
}

// createChannel creates the channel (of membership type kind) in
// migration mode as of created, adding " (2)", " (3)" when the name is
// taken.
func (r *restorer) createChannel(ctx context.Context, base, name, kind, created string) (string, error) {
	for n := 1; ; n++ {
		try := name
		if n > 1 {
			try = fmt.Sprintf("%s (%d)", name, n)
		}
		body := map[string]any{"displayName": try, "membershipType": firstNonEmpty(kind, "standard"), "description": "Restored by Strongroom",
			"@microsoft.graph.channelCreationMode": "migration", "createdDateTime": created}
		out, err := r.c.WriteJSON(ctx, abstractions.POST, base, body)
		if st, code := graph.ErrorOf(err); st == http.StatusBadRequest && code == "NameAlreadyExists" && n < 5 {
			continue
		}
		if err != nil {
			return "", err
		}
		var ch channelRecord
		if err := json.Unmarshal(out, &ch); err != nil || ch.ID == "" {
			return "", fmt.Errorf("the created channel has no id")
		}
		return ch.ID, nil
	}
}

// post imports one message (or reply) and returns its new id.
func (r *restorer) post(ctx context.Context, path string, raw json.RawMessage, hosted []HostedRef) (string, bool) {
	var m struct {
		message
		Importance string `json:"importance"`
		Subject    string `json:"subject"`
		From       struct {
			User *struct {
				ID          string `json:"id"`
				DisplayName string `json:"displayName"`
			} `json:"user"`
		} `json:"from"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.From.User == nil {
		r.fail(1, "a message without an author cannot be imported")
		return "", false
	}
	if m.Deleted != "" && strings.TrimSpace(m.Body.Content) == "" {
		r.res.Skipped++ // deleted before it was first backed up: nothing to restore
		return "", false
	}
	body := map[string]any{"createdDateTime": m.Created, "importance": firstNonEmpty(m.Importance, "normal"),
		"from": map[string]any{"user": map[string]any{"id": m.From.User.ID, "displayName": m.From.User.DisplayName, "userIdentityType": "aadUser"}},
		"body": map[string]any{"contentType": firstNonEmpty(m.Body.ContentType, "text"), "content": m.Body.Content}}
	if m.Subject != "" {
		body["subject"] = m.Subject
	}
	if !r.attachHosted(body, m.Body.Content, hosted) {
		r.fail(0, "message of %s at %s: a pasted image is not in the selection (select without --kind, or restore with --kind channel-images too)", m.From.User.DisplayName, m.Created)
	}
	out, err := r.c.WriteJSON(ctx, abstractions.POST, path, body)
	if err != nil {
		r.fail(1, "message of %s at %s: %s", m.From.User.DisplayName, m.Created, graph.Describe(err))
		return "", false
	}
	var created channelRecord
	_ = json.Unmarshal(out, &created)
	r.res.Restored++
	r.res.Bytes += int64(len(m.Body.Content))
	return created.ID, true
}

// attachHosted re-attaches the pasted images a body references as the
// import's hostedContents, pointing the body at them. It reports whether
// every referenced image was available.
func (r *restorer) attachHosted(body map[string]any, content string, hosted []HostedRef) bool {
	var list []map[string]any
	all := true
	for _, h := range hosted {
		if !strings.Contains(content, h.URL) && !strings.Contains(content, strings.ReplaceAll(h.URL, "&", "&amp;")) {
			continue
		}
		it, ok := r.hosted[h.Path]
		var buf bytes.Buffer
		if !ok || r.src.WriteItem(&buf, it) != nil {
			all = false
			continue
		}
		tmp := fmt.Sprint(len(list) + 1)
		list = append(list, map[string]any{"@microsoft.graph.temporaryId": tmp, "contentBytes": base64.StdEncoding.EncodeToString(buf.Bytes()),
			"contentType": http.DetectContentType(buf.Bytes())})
		content = strings.ReplaceAll(content, h.URL, "../hostedContents/"+tmp+"/$value")
		content = strings.ReplaceAll(content, strings.ReplaceAll(h.URL, "&", "&amp;"), "../hostedContents/"+tmp+"/$value")
	}
	if len(list) > 0 {
		body["hostedContents"] = list
		body["body"].(map[string]any)["content"] = content
	}
	return all
}
