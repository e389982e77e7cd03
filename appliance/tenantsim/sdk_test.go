package tenantsim_test

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/mail"
	"slices"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKUsersPaging guards that the SDK's own models parse the user
// list and that its PageIterator follows nextLinks to every live user.
func TestSimSDKUsersPaging(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	top := int32(3)
	resp, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &top, Select: []string{"id", "userPrincipalName", "accountEnabled", "assignedLicenses"}},
	})
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](resp, c.GetAdapter(), models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	disabled, unlicensed := 0, 0
	if err := it.Iterate(ctx, func(u models.Userable) bool {
		got = append(got, *u.GetUserPrincipalName())
		if !*u.GetAccountEnabled() {
			disabled++
		}
		if len(u.GetAssignedLicenses()) == 0 {
			unlicensed++
		}
		return true
	}); err != nil {
		t.Fatalf("iterate users: %v", err)
	}
	var want []string
	for _, u := range s.Users() {
		if !u.Deleted {
			want = append(want, u.UPN)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("users via SDK = %v, want %v", got, want)
	}
	// One disabled and one unlicensed user among the 8, plus the shared
	// mailbox, which is both.
	if disabled != 2 || unlicensed != 2 {
		t.Errorf("disabled=%d unlicensed=%d, want 2 and 2", disabled, unlicensed)
	}
}

// messagesDelta runs one delta round on a folder through the SDK
// iterator and returns the ids seen, the ids removed and the delta link.
func messagesDelta(t *testing.T, c *msgraphsdk.GraphServiceClient, uid, folder, link string) (seen, removed []string, next string) {
	t.Helper()
	ctx := context.Background()
	h := abstractions.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize=7")
	b := c.Users().ByUserId(uid).MailFolders().ByMailFolderId(folder).Messages().Delta()
	if link != "" {
		b = b.WithUrl(link)
	}
	resp, err := b.GetAsDeltaGetResponse(ctx, &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{Headers: h})
	if err != nil {
		t.Fatalf("messages delta: %v", err)
	}
	it, err := msgraphcore.NewPageIterator[models.Messageable](resp, c.GetAdapter(), users.CreateItemMailFoldersItemMessagesDeltaGetResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	it.SetHeaders(h)
	if err := it.Iterate(ctx, func(m models.Messageable) bool {
		if _, ok := m.GetAdditionalData()["@removed"]; ok {
			removed = append(removed, *m.GetId())
		} else {
			seen = append(seen, *m.GetId())
		}
		return true
	}); err != nil {
		t.Fatalf("iterate delta: %v", err)
	}
	if it.GetOdataDeltaLink() == nil {
		t.Fatal("delta round ended without a deltaLink")
	}
	return seen, removed, *it.GetOdataDeltaLink()
}

// TestSimSDKMessagesDelta guards the delta contract the agent's
// incremental backup rests on: a full round returns every message of the
// folder, an unchanged round returns nothing, and after mutations a round
// returns exactly the new and the removed messages.
func TestSimSDKMessagesDelta(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	dump, err := s.DumpMailbox(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var inInbox []string
	for _, m := range dump.Messages {
		if m.FolderPath == "Inbox" {
			inInbox = append(inInbox, m.ID)
		}
	}
	seen, removed, link := messagesDelta(t, c, u.ID, "inbox", "")
	if !slices.Equal(seen, inInbox) || len(removed) != 0 {
		t.Fatalf("full delta saw %d (removed %d), dump has %d in Inbox", len(seen), len(removed), len(inInbox))
	}
	seen, removed, link = messagesDelta(t, c, u.ID, "inbox", link)
	if len(seen)+len(removed) != 0 {
		t.Fatalf("unchanged delta returned %d items and %d removals", len(seen), len(removed))
	}

	burst, err := s.Apply(tenantsim.Scenario{Name: "mail-burst", User: u.UPN, Count: 9})
	if err != nil {
		t.Fatal(err)
	}
	del, err := s.Apply(tenantsim.Scenario{Name: "delete-messages", User: u.UPN, Folder: "Inbox", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	seen, removed, _ = messagesDelta(t, c, u.ID, "inbox", link)
	if !slices.Equal(seen, burst.IDs) {
		t.Errorf("delta after burst saw %v, want %v", seen, burst.IDs)
	}
	if !slices.Equal(removed, del.IDs) {
		t.Errorf("delta after delete removed %v, want %v", removed, del.IDs)
	}
}

// TestSimSDKDeltaResync guards the 410 path: after the simulator voids
// delta tokens, the SDK surfaces a 410 ODataError with resyncRequired.
func TestSimSDKDeltaResync(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	u := firstMailbox(t, s)
	_, _, link := messagesDelta(t, c, u.ID, "inbox", "")
	s.ExpireDeltaTokens()
	_, err := c.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Messages().Delta().WithUrl(link).GetAsDeltaGetResponse(context.Background(), nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("delta with voided token: err %v, want an ODataError", err)
	}
	if oe.ResponseStatusCode != 410 || *oe.GetErrorEscaped().GetCode() != "resyncRequired" {
		t.Errorf("got %d %s, want 410 resyncRequired", oe.ResponseStatusCode, *oe.GetErrorEscaped().GetCode())
	}
}

// TestSimSDKMessageShapes guards the message, attachment and MIME shapes:
// the SDK parses them, $value equals the ground-truth dump, and the MIME
// is valid RFC 5322 whose Subject decodes to the JSON subject.
func TestSimSDKMessageShapes(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	dump, err := s.DumpMailbox(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	withAttachments := 0
	for _, d := range dump.Messages[:20] {
		m, err := c.Users().ByUserId(u.ID).Messages().ByMessageId(d.ID).Get(ctx, nil)
		if err != nil {
			t.Fatalf("get message %s: %v", d.ID, err)
		}
		if *m.GetSubject() != d.Subject || *m.GetParentFolderId() != d.FolderID {
			t.Errorf("message %s: subject %q folder %s, dump says %q %s", d.ID, *m.GetSubject(), *m.GetParentFolderId(), d.Subject, d.FolderID)
		}
		raw, err := c.Users().ByUserId(u.ID).Messages().ByMessageId(d.ID).Content().Get(ctx, nil)
		if err != nil {
			t.Fatalf("get $value %s: %v", d.ID, err)
		}
		if !bytes.Equal(raw, d.MIME) {
			t.Errorf("message %s: $value differs from dump", d.ID)
		}
		pm, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("message %s: MIME does not parse: %v", d.ID, err)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
		if err != nil || subj != d.Subject {
			t.Errorf("message %s: MIME subject %q, want %q", d.ID, subj, d.Subject)
		}
		atts, err := c.Users().ByUserId(u.ID).Messages().ByMessageId(d.ID).Attachments().Get(ctx, nil)
		if err != nil {
			t.Fatalf("attachments of %s: %v", d.ID, err)
		}
		for _, a := range atts.GetValue() {
			fa, ok := a.(models.FileAttachmentable)
			if !ok {
				t.Fatalf("attachment %s parsed as %T, want a file attachment", *a.GetId(), a)
			}
			if int(*fa.GetSize()) != len(fa.GetContentBytes()) {
				t.Errorf("attachment %s: size %d but %d content bytes", *a.GetName(), *fa.GetSize(), len(fa.GetContentBytes()))
			}
		}
		if len(atts.GetValue()) > 0 {
			withAttachments++
		}
	}
	if withAttachments == 0 {
		t.Error("no message among the first 20 has attachments")
	}
}

// TestSimSDKContactsAndEvents guards the contact and event shapes and
// their delta queries through the SDK.
func TestSimSDKContactsAndEvents(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)

	cresp, err := c.Users().ByUserId(u.ID).Contacts().Delta().GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatalf("contacts delta: %v", err)
	}
	cit, err := msgraphcore.NewPageIterator[models.Contactable](cresp, c.GetAdapter(), users.CreateItemContactsDeltaGetResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	contacts := 0
	if err := cit.Iterate(ctx, func(ct models.Contactable) bool {
		if len(ct.GetEmailAddresses()) == 0 || ct.GetDisplayName() == nil {
			t.Errorf("contact %s lacks name or address", *ct.GetId())
		}
		contacts++
		return true
	}); err != nil {
		t.Fatalf("iterate contacts: %v", err)
	}
	if contacts == 0 || cit.GetOdataDeltaLink() == nil {
		t.Errorf("contacts delta: %d contacts, deltaLink %v", contacts, cit.GetOdataDeltaLink())
	}

	// Graph v1.0 serves event delta on a calendarView only, with its
	// window: occurrences of a series rather than its master.
	eresp, err := c.Users().ByUserId(u.ID).CalendarView().Delta().GetAsDeltaGetResponse(ctx, &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{
			StartDateTime: ptr("2024-12-01T00:00:00Z"), EndDateTime: ptr("2026-12-01T00:00:00Z")}})
	if err != nil {
		t.Fatalf("calendarView delta: %v", err)
	}
	eit, err := msgraphcore.NewPageIterator[models.Eventable](eresp, c.GetAdapter(), users.CreateItemCalendarViewDeltaGetResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	recurring, withAttendees := 0, 0
	if err := eit.Iterate(ctx, func(e models.Eventable) bool {
		if e.GetTypeEscaped() != nil && *e.GetTypeEscaped() == models.SERIESMASTER_EVENTTYPE {
			t.Errorf("calendarView delta served series master %s", *e.GetId())
		}
		if e.GetSeriesMasterId() != nil && e.GetTypeEscaped() != nil && *e.GetTypeEscaped() == models.OCCURRENCE_EVENTTYPE {
			recurring++
		}
		if len(e.GetAttendees()) > 0 {
			withAttendees++
		}
		if e.GetStart() == nil || e.GetStart().GetDateTime() == nil {
			t.Errorf("event %s has no start", *e.GetId())
		}
		return true
	}); err != nil {
		t.Fatalf("iterate events: %v", err)
	}
	if recurring == 0 || withAttendees == 0 {
		t.Errorf("events: %d occurrences, %d with attendees; want some of each", recurring, withAttendees)
	}
}

// TestSimSDKRestoreFolderAndContact guards restore writes made through
// the SDK: the restore app creates a folder and a contact and later reads
// see them, while the backup app is refused with 403.
func TestSimSDKRestoreFolderAndContact(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	ctx := context.Background()
	u := firstMailbox(t, s)
	f := models.NewMailFolder()
	name := "Wiederhergestellt – 2025"
	f.SetDisplayName(&name)

	_, err := sdkClient(t, s, s.BackupApp()).Users().ByUserId(u.ID).MailFolders().Post(ctx, f, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 403 {
		t.Fatalf("backup app creating a folder: err %v, want 403", err)
	}

	rc := sdkClient(t, s, s.RestoreApp())
	created, err := rc.Users().ByUserId(u.ID).MailFolders().Post(ctx, f, nil)
	if err != nil {
		t.Fatalf("restore app creating a folder: %v", err)
	}
	got, err := rc.Users().ByUserId(u.ID).MailFolders().ByMailFolderId(*created.GetId()).Get(ctx, nil)
	if err != nil || *got.GetDisplayName() != name {
		t.Fatalf("read back folder: %v", err)
	}
	ct := models.NewContact()
	given := "Zoë"
	ct.SetGivenName(&given)
	if _, err := rc.Users().ByUserId(u.ID).Contacts().Post(ctx, ct, nil); err != nil {
		t.Fatalf("create contact: %v", err)
	}
	list, err := rc.Users().ByUserId(u.ID).Contacts().Get(ctx, &users.ItemContactsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemContactsRequestBuilderGetQueryParameters{Top: ptr(int32(1000))},
	})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range list.GetValue() {
		if c.GetGivenName() != nil && *c.GetGivenName() == given {
			found = true
		}
	}
	if !found {
		t.Error("created contact not in later listing")
	}
}

func ptr[T any](v T) *T { return &v }

// TestSimSDKMailFoldersDelta guards mailFolders/delta: the full round
// lists every folder of the dump, and after delete-folder the next round
// reports exactly the deleted folders as removed.
func TestSimSDKMailFoldersDelta(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	round := func(link string) (seen, removed []string, next string) {
		b := c.Users().ByUserId(u.ID).MailFolders().Delta()
		if link != "" {
			b = b.WithUrl(link)
		}
		resp, err := b.GetAsDeltaGetResponse(ctx, nil)
		if err != nil {
			t.Fatalf("mailFolders delta: %v", err)
		}
		it, err := msgraphcore.NewPageIterator[models.MailFolderable](resp, c.GetAdapter(), users.CreateItemMailFoldersDeltaGetResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Iterate(ctx, func(f models.MailFolderable) bool {
			if _, ok := f.GetAdditionalData()["@removed"]; ok {
				removed = append(removed, *f.GetId())
			} else {
				seen = append(seen, *f.GetId())
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return seen, removed, *it.GetOdataDeltaLink()
	}
	dump, _ := s.DumpMailbox(u.ID)
	var want, doomed []string
	for _, f := range dump.Folders {
		want = append(want, f.ID)
		if f.Path == "Inbox/Signed Contracts" || f.Path == "Inbox/Signed Contracts/2025" {
			doomed = append(doomed, f.ID)
		}
	}
	seen, _, link := round("")
	slices.Sort(seen)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("full folder delta saw %d folders, dump has %d", len(seen), len(want))
	}
	if _, err := s.Apply(tenantsim.Scenario{Name: "delete-folder", User: u.ID, Folder: "Inbox/Signed Contracts"}); err != nil {
		t.Fatal(err)
	}
	seen, removed, _ := round(link)
	slices.Sort(removed)
	slices.Sort(doomed)
	if len(seen) != 0 || !slices.Equal(removed, doomed) {
		t.Errorf("after delete-folder: seen %v removed %v, want removed %v", seen, removed, doomed)
	}
}

// TestSimSDKContactChildFolders guards nested contact folders through the
// SDK: the generated child folder is listed under its parent (and not at
// the top level), its contacts list and come by delta, a contact added
// to it comes by its deltaLink, and a child folder can be created.
func TestSimSDKContactChildFolders(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	ub := c.Users().ByUserId(u.ID)

	top, err := ub.ContactFolders().Get(ctx, nil)
	if err != nil {
		t.Fatalf("list contact folders: %v", err)
	}
	if len(top.GetValue()) == 0 {
		t.Fatal("no contact folders")
	}
	for _, f := range top.GetValue() {
		if *f.GetDisplayName() == tenantsim.ContactChildFolder {
			t.Errorf("child folder %s listed at the top level", *f.GetId())
		}
	}
	parent := top.GetValue()[0]
	kids, err := ub.ContactFolders().ByContactFolderId(*parent.GetId()).ChildFolders().Get(ctx, nil)
	if err != nil {
		t.Fatalf("list child folders: %v", err)
	}
	if len(kids.GetValue()) != 1 {
		t.Fatalf("%d child folders under %s, want 1", len(kids.GetValue()), *parent.GetDisplayName())
	}
	child := kids.GetValue()[0]
	if *child.GetDisplayName() != tenantsim.ContactChildFolder || *child.GetParentFolderId() != *parent.GetId() {
		t.Errorf("child folder %q with parent %q, want %q under %q", *child.GetDisplayName(), *child.GetParentFolderId(), tenantsim.ContactChildFolder, *parent.GetId())
	}
	cb := ub.ContactFolders().ByContactFolderId(*child.GetId())
	grand, err := cb.ChildFolders().Get(ctx, nil)
	if err != nil || len(grand.GetValue()) != 0 {
		t.Fatalf("child folders of the child: %v, %v", grand, err)
	}

	list, err := cb.Contacts().Get(ctx, nil)
	if err != nil {
		t.Fatalf("list child folder contacts: %v", err)
	}
	var listed []string
	for _, ct := range list.GetValue() {
		if ct.GetDisplayName() == nil || len(ct.GetEmailAddresses()) == 0 || *ct.GetParentFolderId() != *child.GetId() {
			t.Errorf("contact %s lacks name or address or is not in the child folder", *ct.GetId())
		}
		listed = append(listed, *ct.GetId())
	}
	if len(listed) != 3 {
		t.Errorf("%d contacts in the child folder, want 3", len(listed))
	}

	delta := func(d *users.ItemContactFoldersItemContactsDeltaRequestBuilder) ([]string, string) {
		t.Helper()
		resp, err := d.GetAsDeltaGetResponse(ctx, nil)
		if err != nil {
			t.Fatalf("child folder contacts delta: %v", err)
		}
		it, err := msgraphcore.NewPageIterator[models.Contactable](resp, c.GetAdapter(), users.CreateItemContactFoldersItemContactsDeltaGetResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		if err := it.Iterate(ctx, func(ct models.Contactable) bool {
			ids = append(ids, *ct.GetId())
			return true
		}); err != nil {
			t.Fatalf("iterate child folder delta: %v", err)
		}
		if it.GetOdataDeltaLink() == nil {
			t.Fatal("child folder delta has no deltaLink")
		}
		return ids, *it.GetOdataDeltaLink()
	}
	ids, link := delta(cb.Contacts().Delta())
	if !slices.Equal(ids, listed) {
		t.Errorf("delta of the child folder = %v, listing = %v", ids, listed)
	}

	rc := sdkClient(t, s, s.RestoreApp())
	rcb := rc.Users().ByUserId(u.ID).ContactFolders().ByContactFolderId(*child.GetId())
	ct := models.NewContact()
	ct.SetDisplayName(ptr("Zoë Nested"))
	created, err := rcb.Contacts().Post(ctx, ct, nil)
	if err != nil {
		t.Fatalf("create contact in child folder: %v", err)
	}
	ids, _ = delta(users.NewItemContactFoldersItemContactsDeltaRequestBuilder(link, c.GetAdapter()))
	if !slices.Equal(ids, []string{*created.GetId()}) {
		t.Errorf("delta after one new contact = %v, want [%s]", ids, *created.GetId())
	}

	nf := models.NewContactFolder()
	nf.SetDisplayName(ptr("Unterordner"))
	made, err := rcb.ChildFolders().Post(ctx, nf, nil)
	if err != nil {
		t.Fatalf("create child folder: %v", err)
	}
	if *made.GetParentFolderId() != *child.GetId() {
		t.Errorf("new child folder's parent = %s, want %s", *made.GetParentFolderId(), *child.GetId())
	}
	grand, err = cb.ChildFolders().Get(ctx, nil)
	if err != nil || len(grand.GetValue()) != 1 || *grand.GetValue()[0].GetId() != *made.GetId() {
		t.Errorf("child folders after create: %v, %v", grand, err)
	}
	again, err := ub.ContactFolders().Get(ctx, nil)
	if err != nil || len(again.GetValue()) != len(top.GetValue()) {
		t.Errorf("top-level contact folders changed after creating a child folder: %v", err)
	}
}
