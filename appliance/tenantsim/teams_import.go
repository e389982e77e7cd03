package tenantsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Teams' import path, as Graph serves it to migration tools: a channel
// created with "@microsoft.graph.channelCreationMode": "migration" takes
// messages and replies that carry their original createdDateTime and
// from; completeMigration ends the import, after which the channel is an
// ordinary one and an application can no longer post into it. Outside
// migration mode an application cannot post channel messages at all.

var (
	permChannelCreate = permission{"Channel.Create", "Teamwork.Migrate.All", "Group.ReadWrite.All"}
	permMigrate       = permission{"Teamwork.Migrate.All"}
	permGroupWrite    = permission{"Group.ReadWrite.All"}
)

func (s *Sim) registerImportRoutes() {
	rt := &s.routes
	const post = http.MethodPost
	rt.add(post, "teams/{gid}/channels", "teams", permChannelCreate, handleCreateChannel)
	rt.add(post, "teams/{gid}/channels/{chid}/messages", "teams", permMigrate, handleImportMessage)
	rt.add(post, "teams/{gid}/channels/{chid}/messages/{cmid}/replies", "teams", permMigrate, handleImportMessage)
	rt.add(post, "teams/{gid}/channels/{chid}/completeMigration", "teams", permMigrate, handleCompleteMigration)
	rt.add(post, "groups/{gid}/threads", "groups", permGroupWrite, handleCreateThread)
	rt.add(post, "groups/{gid}/threads/{thid}/reply", "groups", permGroupWrite, handleReplyThread)
}

func handleCreateChannel(q *request) *graphError {
	var in struct {
		DisplayName    string `json:"displayName"`
		Description    string `json:"description"`
		MembershipType string `json:"membershipType"`
		Mode           string `json:"@microsoft.graph.channelCreationMode"`
		Created        string `json:"createdDateTime"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	name := strings.TrimSpace(in.DisplayName)
	if name == "" || len([]rune(name)) > 50 || strings.ContainsAny(name, `~#%&*{}+/\:<>?|'"`) {
		return errf(http.StatusBadRequest, "BadRequest", "displayName is required, at most 50 characters, without ~ # % & * { } + / \\ : < > ? | ' \".")
	}
	migration := in.Mode == "migration"
	if in.Mode != "" && !migration {
		return errf(http.StatusBadRequest, "BadRequest", "@microsoft.graph.channelCreationMode must be migration.")
	}
	created := time.Time{}
	if in.Created != "" {
		t, err := time.Parse(time.RFC3339Nano, in.Created)
		if err != nil || !migration {
			return errf(http.StatusBadRequest, "BadRequest", "createdDateTime can only be set, as an ISO 8601 time, on a channel created in migration mode.")
		}
		created = t
	}
	return writeOf(q, q.team, func(g *group) (any, *graphError) {
		if slices.ContainsFunc(g.channels, func(c *channel) bool { return strings.EqualFold(c.displayName, name) }) {
			return nil, errf(http.StatusBadRequest, "NameAlreadyExists", "Channel name already existed, please use other name.")
		}
		seq := q.sim.nextSeq()
		if created.IsZero() {
			created = q.sim.logicalNow(seq)
		}
		kind := in.MembershipType
		if kind == "" {
			kind = "standard"
		}
		ch := q.sim.newChannel(g, name, kind, created)
		ch.migration = migration
		return channelJSON(g, ch), nil
	})
}

// importedMessage is the body of a message posted through the import
// path.
type importedMessage struct {
	Created string `json:"createdDateTime"`
	From    *struct {
		User *struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"from"`
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Importance string `json:"importance"`
	Hosted     []struct {
		TempID       string `json:"@microsoft.graph.temporaryId"`
		ContentBytes string `json:"contentBytes"`
		ContentType  string `json:"contentType"`
	} `json:"hostedContents"`
}

func handleImportMessage(q *request) *graphError {
	var in importedMessage
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	return writePair(q, q.channel, func(g *group, ch *channel) (any, *graphError) {
		if !ch.migration {
			return nil, errf(http.StatusForbidden, "Forbidden", "An application can post channel messages only into a channel in migration mode (created with @microsoft.graph.channelCreationMode and not completed).")
		}
		m, gerr := q.sim.newImportedMessage(g, ch, in)
		if gerr != nil {
			return nil, gerr
		}
		replyTo := ""
		if cmid := q.param("cmid"); cmid != "" {
			i := slices.IndexFunc(ch.messages, func(p *chatMessage) bool { return p.id == cmid })
			if i < 0 {
				return nil, errf(http.StatusNotFound, "NotFound", "Message not found.")
			}
			parent := ch.messages[i]
			if m.created.Before(parent.created) {
				return nil, errf(http.StatusBadRequest, "BadRequest", "A reply's createdDateTime cannot be before its message's.")
			}
			parent.replies = append(parent.replies, m)
			parent.modified = m.created
			q.sim.logTouch(ch.log, parent.id)
			replyTo = cmid
		} else {
			ch.messages = append(ch.messages, m)
			q.sim.logAdd(ch.log, m.id)
		}
		return chatMessageJSON(q.sim.baseURL, g, ch, m, replyTo), nil
	})
}

// newImportedMessage checks an imported message and makes it, with its
// hosted contents; the caller holds the write lock.
func (s *Sim) newImportedMessage(g *group, ch *channel, in importedMessage) (*chatMessage, *graphError) {
	created, err := time.Parse(time.RFC3339Nano, in.Created)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "BadRequest", "createdDateTime is required when importing a message.")
	}
	if created.Before(ch.created) {
		return nil, errf(http.StatusBadRequest, "BadRequest", "A message's createdDateTime cannot be before its channel's createdDateTime.")
	}
	if in.From == nil || in.From.User == nil {
		return nil, errf(http.StatusBadRequest, "BadRequest", "from.user is required when importing a message.")
	}
	var from *user
	for _, u := range s.users {
		if u.id == in.From.User.ID {
			from = u
		}
	}
	if from == nil {
		return nil, errf(http.StatusBadRequest, "BadRequest", "from.user "+in.From.User.ID+" is not a user of the tenant.")
	}
	seq := s.nextSeq()
	m := &chatMessage{id: fmt.Sprint(2000000000000 + seq), from: from, body: in.Body.Content, created: created}
	m.bodyType = strings.ToLower(in.Body.ContentType)
	m.importance = in.Importance
	for i, h := range in.Hosted {
		data, err := base64.StdEncoding.DecodeString(h.ContentBytes)
		if err != nil || h.TempID == "" {
			return nil, errf(http.StatusBadRequest, "BadRequest", "hostedContents need a @microsoft.graph.temporaryId and base64 contentBytes.")
		}
		hc := &hostedContent{id: base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("imported-%s-%d", m.id, i))), contentType: h.ContentType, data: data}
		m.hosted = append(m.hosted, hc)
		url := fmt.Sprintf("%s/teams/%s/channels/%s/messages/%s/hostedContents/%s/$value", s.baseURL, g.id, ch.id, m.id, hc.id)
		m.body = strings.ReplaceAll(m.body, "../hostedContents/"+h.TempID+"/$value", url)
	}
	return m, nil
}

func handleCompleteMigration(q *request) *graphError {
	return writePair(q, q.channel, func(_ *group, ch *channel) (any, *graphError) {
		if !ch.migration {
			return nil, errf(http.StatusBadRequest, "BadRequest", "The channel is not in migration mode.")
		}
		ch.migration = false
		return nil, nil
	})
}

// newPost is a post as the group's threads and reply take it.
type newPost struct {
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Attachments []struct {
		Type         string `json:"@odata.type"`
		Name         string `json:"name"`
		ContentType  string `json:"contentType"`
		ContentBytes string `json:"contentBytes"`
	} `json:"attachments"`
}

// attachments makes a new post's file attachments.
func (p newPost) attachments(postID string) ([]*attachment, *graphError) {
	var out []*attachment
	for i, a := range p.Attachments {
		data, err := base64.StdEncoding.DecodeString(a.ContentBytes)
		if err != nil || a.Name == "" || a.Type != "#microsoft.graph.fileAttachment" {
			return nil, errf(http.StatusBadRequest, "BadRequest", "A post's attachments must be #microsoft.graph.fileAttachment with a name and base64 contentBytes.")
		}
		out = append(out, &attachment{id: itemID("AAMkAGatt", postID, i), name: a.Name, contentType: a.ContentType, size: len(data), data: data})
	}
	return out, nil
}

// addPost appends a post of the group's author to th.
func (q *request) addPost(g *group, th *convThread, p newPost, label string) *graphError {
	from := postAuthor(g)
	if from == nil {
		return errf(http.StatusBadRequest, "BadRequest", "The group has no member to post as.")
	}
	seq := q.sim.nextSeq()
	gp := &groupPost{id: itemID("AAMkAGpost", q.sim.cfg.Seed, th.id, label, seq), from: from, body: p.Body.Content, created: q.sim.logicalNow(seq)}
	atts, gerr := p.attachments(gp.id)
	if gerr != nil {
		return gerr
	}
	gp.attachments = atts
	th.posts = append(th.posts, gp)
	return nil
}

// postAuthor is who an application's post is from: the group's first
// owner, else its first member.
func postAuthor(g *group) *user {
	for _, u := range append(slices.Clone(g.owners), g.members...) {
		if !u.deleted {
			return u
		}
	}
	return nil
}

func handleCreateThread(q *request) *graphError {
	var in struct {
		Topic string    `json:"topic"`
		Posts []newPost `json:"posts"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if strings.TrimSpace(in.Topic) == "" || len(in.Posts) != 1 {
		return errf(http.StatusBadRequest, "BadRequest", "A new thread needs a topic and exactly one post.")
	}
	return writeOf(q, q.group, func(g *group) (any, *graphError) {
		seq := q.sim.nextSeq()
		conv := &conversation{id: itemID("AAQkAGconv", q.sim.cfg.Seed, g.id, "new", seq), topic: in.Topic}
		th := &convThread{id: itemID("AAQkAGthread", q.sim.cfg.Seed, g.id, "new", seq), topic: in.Topic, conv: conv}
		if gerr := q.addPost(g, th, in.Posts[0], "first"); gerr != nil {
			return nil, gerr
		}
		conv.threads = append(conv.threads, th)
		g.conversations = append(g.conversations, conv)
		return threadJSON(g, th), nil
	})
}

func handleReplyThread(q *request) *graphError {
	var in struct {
		Post newPost `json:"post"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	return writePair(q, q.thread, func(g *group, th *convThread) (any, *graphError) {
		return nil, q.addPost(g, th, in.Post, "reply")
	})
}
