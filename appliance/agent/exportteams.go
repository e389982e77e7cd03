package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/export"
	"github.com/strongroom/strongroom/appliance/workloads/groups"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
	"github.com/strongroom/strongroom/storage/vault"
)

// byUnitAnd groups items by their unit and a second meta key, keeping
// each group sorted by date, and returns the keys in order.
func byUnitAnd(items []vault.Item, key string) ([]string, map[string][]vault.Item) {
	groupsOf := map[string][]vault.Item{}
	var keys []string
	for _, it := range items {
		k := it.Meta[catalog.MetaUser] + "\x00" + it.Meta[key]
		if groupsOf[k] == nil {
			keys = append(keys, k)
		}
		groupsOf[k] = append(groupsOf[k], it)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groupsOf[k]
		sort.SliceStable(g, func(i, j int) bool { return metaTime(g[i]).Before(metaTime(g[j])) })
	}
	return keys, groupsOf
}

// metaTime is an item's date as a time (zero when it does not parse).
func metaTime(it vault.Item) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, it.Meta[catalog.MetaDate])
	return t
}

// channels writes each selected channel as "<team> - <channel>.html", a
// self-contained transcript with its pasted images embedded, and
// "<team> - <channel>.json", its threads as stored.
func (x *exporter) channels(ctx context.Context, snap vault.Snapshot, items []vault.Item) error {
	hosted := map[string]vault.Item{}
	err := x.a.v.EachItem(snap, func(it vault.Item) error {
		if it.Meta[catalog.MetaKind] == catalog.KindHostedContent {
			hosted[it.Path] = it
		}
		return nil
	})
	if err != nil {
		return err
	}
	keys, byChannel := byUnitAnd(items, catalog.MetaChannelID)
	used := map[string]bool{}
	for _, k := range keys {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		threads := byChannel[k]
		first := threads[0].Meta
		t := export.ChannelTranscript{Team: first[catalog.MetaUser], Channel: first[catalog.MetaFolder]}
		images := map[string]export.Image{}
		var stored []teams.Thread
		for _, it := range threads {
			data, err := x.read(it)
			if err != nil {
				return err
			}
			var th teams.Thread
			if err := json.Unmarshal(data, &th); err != nil {
				return fmt.Errorf("channel %s: thread %s is not readable: %w", t.Channel, it.Meta[catalog.MetaItemID], err)
			}
			x.count(data)
			stored = append(stored, th)
			t.Threads = append(t.Threads, export.TranscriptThread{Message: th.Message, Replies: th.Replies})
			for _, h := range th.Hosted {
				if hit, ok := hosted[h.Path]; ok {
					img, err := x.read(hit)
					if err != nil {
						return err
					}
					images[h.URL] = export.Image{ContentType: http.DetectContentType(img), Data: img}
				}
			}
		}
		base := freePath(used, safeName(t.Team+" - "+t.Channel), first[catalog.MetaChannelID])
		if err := x.writeTranscript(base, t, images, stored); err != nil {
			return err
		}
	}
	return nil
}

func (x *exporter) writeTranscript(base string, t export.ChannelTranscript, images map[string]export.Image, stored []teams.Thread) error {
	f, err := x.root.Create(base + ".html")
	if err != nil {
		return err
	}
	if err := export.WriteTranscriptHTML(f, t, images); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	js, err := json.MarshalIndent(map[string]any{"team": t.Team, "channel": t.Channel, "threads": stored}, "", "  ")
	if err != nil {
		return err
	}
	if err := x.root.WriteFile(base+".json", js, 0o640); err != nil {
		return err
	}
	x.rep.Files = append(x.rep.Files, filepath.Join(x.dest, base+".html"), filepath.Join(x.dest, base+".json"))
	return nil
}

// conversations writes each selected group's conversation threads as one
// mbox, "<group>.mbox": every post a message with the thread's topic as
// its subject and its attachments, threads in the order of their last
// post.
func (x *exporter) conversations(ctx context.Context, items []vault.Item) error {
	keys, byGroup := byUnitAnd(items, "")
	for _, k := range keys {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		threads := byGroup[k]
		rel := safeName(threads[0].Meta[catalog.MetaUser]) + ".mbox"
		f, err := x.root.Create(rel)
		if err != nil {
			return err
		}
		mb := export.NewMbox(f)
		for _, it := range threads {
			if err = x.threadToMbox(mb, it); err != nil {
				break
			}
		}
		if err == nil {
			err = mb.Close()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		x.rep.Files = append(x.rep.Files, filepath.Join(x.dest, rel))
	}
	return nil
}

func (x *exporter) threadToMbox(mb *export.MboxWriter, it vault.Item) error {
	data, err := x.read(it)
	if err != nil {
		return err
	}
	var th groups.Thread
	if err := json.Unmarshal(data, &th); err != nil {
		return fmt.Errorf("thread %s is not readable: %w", it.Meta[catalog.MetaSubject], err)
	}
	x.count(data)
	for _, p := range th.Posts {
		msg, from, date, err := export.GroupPostMIME(it.Meta[catalog.MetaSubject], p.Post, p.Attachments)
		if err != nil {
			return err
		}
		if err := mb.Add(msg, from, date); err != nil {
			return err
		}
	}
	return nil
}
