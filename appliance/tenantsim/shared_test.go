package tenantsim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKSharedMailboxes guards shared mailboxes as Exchange Online
// has them: listed in /users with mail set, no license and sign-in
// blocked, yet with a mailbox whose mail the SDK reads and which matches
// the ground truth; an unlicensed ordinary user still has no mailbox.
func TestSimSDKSharedMailboxes(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	resp, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "mail", "accountEnabled", "assignedLicenses"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var shared, unlicensed []models.Userable
	it, err := msgraphcore.NewPageIterator[models.Userable](resp, c.GetAdapter(), models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	if err := it.Iterate(ctx, func(u models.Userable) bool {
		if len(u.GetAssignedLicenses()) == 0 {
			if strings.HasPrefix(*u.GetUserPrincipalName(), "info@") {
				shared = append(shared, u)
			} else {
				unlicensed = append(unlicensed, u)
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(shared) != 1 || len(unlicensed) != 1 {
		t.Fatalf("%d shared and %d unlicensed users listed, want 1 and 1", len(shared), len(unlicensed))
	}
	sm := shared[0]
	if sm.GetMail() == nil || *sm.GetMail() != *sm.GetUserPrincipalName() || *sm.GetAccountEnabled() {
		t.Errorf("shared mailbox %s: mail %v, enabled %v; want its address and sign-in blocked", *sm.GetUserPrincipalName(), sm.GetMail(), *sm.GetAccountEnabled())
	}
	var info tenantsim.UserInfo
	for _, u := range s.Users() {
		if u.ID == *sm.GetId() {
			info = u
		}
	}
	if !info.Shared || info.Licensed {
		t.Errorf("Users() says %+v for the shared mailbox", info)
	}

	truth, err := s.DumpMailbox(*sm.GetId())
	if err != nil {
		t.Fatalf("dump shared mailbox: %v", err)
	}
	var want int
	for _, m := range truth.Messages {
		if m.FolderPath == "Inbox" {
			want++
		}
	}
	msgs, err := c.Users().ByUserId(*sm.GetUserPrincipalName()).MailFolders().ByMailFolderId("inbox").Messages().Get(ctx, &users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{Top: ptr(int32(1000))},
	})
	if err != nil {
		t.Fatalf("shared mailbox inbox: %v", err)
	}
	if want == 0 || len(msgs.GetValue()) != want {
		t.Errorf("shared mailbox inbox: %d messages via SDK, dump has %d", len(msgs.GetValue()), want)
	}
	seen, _, _ := messagesDelta(t, c, *sm.GetId(), "inbox", "")
	if len(seen) != want {
		t.Errorf("shared mailbox delta saw %d messages, want %d", len(seen), want)
	}

	_, err = c.Users().ByUserId(*unlicensed[0].GetId()).MailFolders().Get(ctx, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 404 {
		t.Errorf("unlicensed user's mail folders: err %v, want 404", err)
	}
	if _, err := s.DumpMailbox(*unlicensed[0].GetId()); err == nil {
		t.Error("unlicensed user's mailbox dumps")
	}
}
