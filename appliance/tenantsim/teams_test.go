package tenantsim_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/teams"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// firstTeam returns the id of the group that is a team and its channels.
func firstTeam(t *testing.T, c *msgraphsdk.GraphServiceClient) (string, []models.Channelable) {
	t.Helper()
	ctx := context.Background()
	groups, err := c.Groups().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.GetValue() {
		// resourceProvisioningOptions is not in the v1.0 model; the SDK
		// keeps it in the additional data.
		opts, _ := g.GetAdditionalData()["resourceProvisioningOptions"].([]any)
		for _, o := range opts {
			if s, ok := o.(*string); ok && *s == "Team" {
				chans, err := c.Teams().ByTeamId(*g.GetId()).Channels().Get(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				return *g.GetId(), chans.GetValue()
			}
		}
	}
	t.Fatal("no team")
	return "", nil
}

// TestSimSDKChannelHostedContent guards hosted content through the SDK:
// some channel messages have an HTML body whose images point at their
// hosted contents, which list as chatMessageHostedContent and whose
// $value is the image.
func TestSimSDKChannelHostedContent(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	team, chans := firstTeam(t, c)
	images := 0
	for _, ch := range chans {
		cb := c.Teams().ByTeamId(team).Channels().ByChannelId(*ch.GetId())
		msgs, err := cb.Messages().Get(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs.GetValue() {
			hcs, err := cb.Messages().ByChatMessageId(*m.GetId()).HostedContents().Get(ctx, nil)
			if err != nil {
				t.Fatalf("hosted contents of %s: %v", *m.GetId(), err)
			}
			html := *m.GetBody().GetContentType() == models.HTML_BODYTYPE
			if html != (len(hcs.GetValue()) > 0) {
				t.Errorf("message %s: html body %v but %d hosted contents", *m.GetId(), html, len(hcs.GetValue()))
			}
			for _, h := range hcs.GetValue() {
				if !strings.Contains(*m.GetBody().GetContent(), "/hostedContents/"+*h.GetId()+"/$value") {
					t.Errorf("message %s body does not reference hosted content %s", *m.GetId(), *h.GetId())
				}
				one, err := cb.Messages().ByChatMessageId(*m.GetId()).HostedContents().ByChatMessageHostedContentId(*h.GetId()).Get(ctx, nil)
				if err != nil || *one.GetContentType() != *h.GetContentType() {
					t.Fatalf("hosted content %s: %v", *h.GetId(), err)
				}
				b, err := cb.Messages().ByChatMessageId(*m.GetId()).HostedContents().ByChatMessageHostedContentId(*h.GetId()).Content().Get(ctx, nil)
				if err != nil || len(b) < 1000 {
					t.Fatalf("hosted content %s $value: %v, %d bytes", *h.GetId(), err, len(b))
				}
				if !strings.HasPrefix(string(b), "\x89PNG") && !strings.HasPrefix(string(b), "\xff\xd8\xff") {
					t.Errorf("hosted content %s is not an image", *h.GetId())
				}
				images++
			}
		}
	}
	if images == 0 {
		t.Error("no channel message has hosted content")
	}
}

// TestSimSDKChannelMessagesDelta guards a channel's messages delta
// through the SDK iterator: a full round pages ($top) through every
// top-level message, an unchanged round returns nothing, and after
// post-channel-messages the round returns exactly the new messages.
func TestSimSDKChannelMessagesDelta(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	team, chans := firstTeam(t, c)
	ch := chans[0]
	round := func(link string) (ids []string, next string) {
		b := c.Teams().ByTeamId(team).Channels().ByChannelId(*ch.GetId()).Messages().Delta()
		if link != "" {
			b = b.WithUrl(link)
		}
		resp, err := b.GetAsDeltaGetResponse(ctx, &teams.ItemChannelsItemMessagesDeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &teams.ItemChannelsItemMessagesDeltaRequestBuilderGetQueryParameters{Top: ptr(int32(3))},
		})
		if err != nil {
			t.Fatalf("channel messages delta: %v", err)
		}
		if link == "" && resp.GetOdataNextLink() == nil {
			t.Error("full channel delta with $top=3 did not page")
		}
		it, err := msgraphcore.NewPageIterator[models.ChatMessageable](resp, c.GetAdapter(), teams.CreateItemChannelsItemMessagesDeltaGetResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		it.SetHeaders(abstractions.NewRequestHeaders())
		if err := it.Iterate(ctx, func(m models.ChatMessageable) bool {
			if m.GetFrom() == nil || m.GetBody() == nil || m.GetChannelIdentity() == nil {
				t.Errorf("delta message %s lacks from, body or channel", *m.GetId())
			}
			ids = append(ids, *m.GetId())
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if it.GetOdataDeltaLink() == nil {
			t.Fatal("channel delta ended without a deltaLink")
		}
		return ids, *it.GetOdataDeltaLink()
	}
	list, err := c.Teams().ByTeamId(team).Channels().ByChannelId(*ch.GetId()).Messages().Get(ctx, &teams.ItemChannelsItemMessagesRequestBuilderGetRequestConfiguration{
		QueryParameters: &teams.ItemChannelsItemMessagesRequestBuilderGetQueryParameters{Top: ptr(int32(50))},
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range list.GetValue() {
		want = append(want, *m.GetId())
	}
	if len(want) <= 3 {
		t.Fatalf("channel has %d messages; the test needs more than a page", len(want))
	}
	got, link := round("")
	if !slices.Equal(got, want) {
		t.Fatalf("full channel delta saw %v, want %v", got, want)
	}
	if got, link = round(link); len(got) != 0 {
		t.Fatalf("unchanged channel delta returned %v", got)
	}
	res, err := s.Apply(tenantsim.Scenario{Name: "post-channel-messages", Folder: *ch.GetDisplayName(), Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ = round(link); !slices.Equal(got, res.IDs) || len(got) != 4 {
		t.Errorf("channel delta after posting saw %v, want %v", got, res.IDs)
	}
}

// TestSimSDKGroupConversations guards group conversations, threads and
// posts through the SDK: every conversation's threads, listed under the
// conversation and under the group, have posts from group members.
func TestSimSDKGroupConversations(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	groups, err := c.Groups().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	posts := 0
	for _, g := range groups.GetValue() {
		gb := c.Groups().ByGroupId(*g.GetId())
		convs, err := gb.Conversations().Get(ctx, nil)
		if err != nil {
			t.Fatalf("conversations: %v", err)
		}
		if len(convs.GetValue()) == 0 {
			t.Fatalf("group %s has no conversations", *g.GetDisplayName())
		}
		all, err := gb.Threads().Get(ctx, nil)
		if err != nil {
			t.Fatalf("threads: %v", err)
		}
		var viaConv []string
		for _, cv := range convs.GetValue() {
			if cv.GetTopic() == nil || cv.GetLastDeliveredDateTime() == nil || len(cv.GetUniqueSenders()) == 0 {
				t.Errorf("conversation %s lacks topic, date or senders", *cv.GetId())
			}
			ths, err := gb.Conversations().ByConversationId(*cv.GetId()).Threads().Get(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range ths.GetValue() {
				viaConv = append(viaConv, *th.GetId())
				ps, err := gb.Conversations().ByConversationId(*cv.GetId()).Threads().ByConversationThreadId(*th.GetId()).Posts().Get(ctx, nil)
				if err != nil || len(ps.GetValue()) == 0 {
					t.Fatalf("posts via conversation: %v", err)
				}
			}
		}
		var ids []string
		for _, th := range all.GetValue() {
			ids = append(ids, *th.GetId())
			if len(th.GetToRecipients()) == 0 || th.GetIsLocked() == nil {
				t.Errorf("thread %s lacks recipients or isLocked", *th.GetId())
			}
			ps, err := gb.Threads().ByConversationThreadId(*th.GetId()).Posts().Get(ctx, nil)
			if err != nil {
				t.Fatalf("posts: %v", err)
			}
			for _, p := range ps.GetValue() {
				if p.GetFrom() == nil || p.GetBody() == nil || *p.GetBody().GetContentType() != models.HTML_BODYTYPE || *p.GetConversationThreadId() != *th.GetId() || p.GetReceivedDateTime() == nil {
					t.Errorf("post %s: from, html body, thread id or date missing", *p.GetId())
				}
				one, err := gb.Threads().ByConversationThreadId(*th.GetId()).Posts().ByPostId(*p.GetId()).Get(ctx, nil)
				if err != nil || *one.GetId() != *p.GetId() {
					t.Fatalf("get post: %v", err)
				}
				posts++
			}
		}
		if !slices.Equal(ids, viaConv) {
			t.Errorf("group threads %v differ from threads via conversations %v", ids, viaConv)
		}
	}
	if posts == 0 {
		t.Error("no posts")
	}
}

// TestSimSDKTeamStateAndImport guards the team record, members, channel
// filter and tabs as the SDK's models read them, and the import path as
// the SDK's builders send it: a channel in migration mode takes a message
// with its original time and author, completeMigration closes it, and an
// application cannot post into an ordinary channel.
func TestSimSDKTeamStateAndImport(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	team, _ := firstTeam(t, c)
	tm, err := c.Teams().ByTeamId(team).Get(ctx, nil)
	if err != nil || tm.GetIsArchived() == nil || *tm.GetIsArchived() || tm.GetMessagingSettings() == nil {
		t.Fatalf("team record: %v", err)
	}
	members, err := c.Teams().ByTeamId(team).Members().Get(ctx, nil)
	owners := 0
	for _, m := range members.GetValue() {
		if slices.Contains(m.GetRoles(), "owner") {
			owners++
		}
	}
	if err != nil || owners != 1 || len(members.GetValue()) < 2 {
		t.Fatalf("members: %v, %d owners", err, owners)
	}
	filter := "membershipType eq 'private'"
	private, err := c.Teams().ByTeamId(team).Channels().Get(ctx, &teams.ItemChannelsRequestBuilderGetRequestConfiguration{QueryParameters: &teams.ItemChannelsRequestBuilderGetQueryParameters{Filter: &filter}})
	if err != nil || len(private.GetValue()) != 1 || *private.GetValue()[0].GetMembershipType() != models.PRIVATE_CHANNELMEMBERSHIPTYPE {
		t.Fatalf("private channels: %v", err)
	}
	general := "General"
	var generalID string
	all, _ := c.Teams().ByTeamId(team).Channels().Get(ctx, nil)
	for _, ch := range all.GetValue() {
		if *ch.GetDisplayName() == general {
			generalID = *ch.GetId()
		}
	}
	tabs, err := c.Teams().ByTeamId(team).Channels().ByChannelId(generalID).Tabs().Get(ctx, nil)
	if err != nil || len(tabs.GetValue()) == 0 || tabs.GetValue()[0].GetTeamsApp() == nil {
		t.Fatalf("tabs: %v", err)
	}

	r := sdkClient(t, s, s.RestoreApp())
	author := *members.GetValue()[0].(models.AadUserConversationMemberable).GetUserId()
	post := func(channel string, when time.Time) error {
		m := models.NewChatMessage()
		m.SetCreatedDateTime(&when)
		id, from := models.NewIdentity(), models.NewChatMessageFromIdentitySet()
		id.SetId(&author)
		from.SetUser(id)
		m.SetFrom(from)
		body, text := models.NewItemBody(), "Importiert"
		body.SetContent(&text)
		m.SetBody(body)
		_, err := r.Teams().ByTeamId(team).Channels().ByChannelId(channel).Messages().Post(ctx, m, nil)
		return err
	}
	if err := post(generalID, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)); err == nil {
		t.Fatal("an application posted into an ordinary channel")
	}
	ch := models.NewChannel()
	name, created := "Archiv Import", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ch.SetDisplayName(&name)
	ch.SetCreatedDateTime(&created)
	ch.SetAdditionalData(map[string]any{"@microsoft.graph.channelCreationMode": "migration"})
	made, err := r.Teams().ByTeamId(team).Channels().Post(ctx, ch, nil)
	if err != nil {
		t.Fatalf("create a channel in migration mode: %v", err)
	}
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := post(*made.GetId(), when); err != nil {
		t.Fatalf("import a message: %v", err)
	}
	if err := r.Teams().ByTeamId(team).Channels().ByChannelId(*made.GetId()).CompleteMigration().Post(ctx, nil); err != nil {
		t.Fatalf("completeMigration: %v", err)
	}
	if err := post(*made.GetId(), when.Add(time.Hour)); err == nil {
		t.Fatal("an application posted into a channel whose migration is completed")
	}
	d, err := s.DumpChannel(team, name)
	if err != nil || len(d.Messages) != 1 || !d.Messages[0].Created.Equal(when) || d.Messages[0].Body != "Importiert" {
		t.Fatalf("imported channel: %v %+v", err, d)
	}
}
