package tenantsim_test

import (
	"context"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimSDKFileHashes guards file.hashes as OneDrive for Business sends
// them: every file of a drive delta carries a quickXorHash (and the
// SHA-256) of exactly the content the ground truth holds.
func TestSimSDKFileHashes(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	truth, err := s.DumpDrive(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	current := map[string][]byte{}
	for _, it := range truth.Items {
		if !it.Folder {
			current[it.ID] = it.Versions[len(it.Versions)-1].Content
		}
	}
	resp, err := c.Drives().ByDriveId(truth.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := msgraphcore.NewPageIterator[models.DriveItemable](resp, c.GetAdapter(), drives.CreateItemItemsItemDeltaGetResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = pages.Iterate(ctx, func(di models.DriveItemable) bool {
		if di.GetFile() == nil {
			return true
		}
		files++
		h := di.GetFile().GetHashes()
		want, ok := current[*di.GetId()]
		switch {
		case !ok:
			t.Errorf("delta file %s is not in the ground truth", *di.GetName())
		case h == nil || h.GetQuickXorHash() == nil:
			t.Errorf("file %s has no quickXorHash", *di.GetName())
		case *h.GetQuickXorHash() != tenantsim.QuickXorHash(want):
			t.Errorf("file %s: quickXorHash %s, content hashes to %s", *di.GetName(), *h.GetQuickXorHash(), tenantsim.QuickXorHash(want))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != len(current) {
		t.Errorf("delta saw %d files, ground truth has %d", files, len(current))
	}
}
