package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// BackupRoles are the application permissions the backup app needs for
// the workloads Strongroom protects. All are read-only.
var BackupRoles = []string{"User.Read.All", "Mail.Read", "Contacts.Read", "Calendars.Read",
	"Files.Read.All", "Sites.Read.All", "Group.Read.All", "ChannelMessage.Read.All", "TeamMember.Read.All", "TeamsTab.Read.All"}

// RestoreRoles are what the separate restore app needs to write back.
var RestoreRoles = []string{"User.Read.All", "Mail.ReadWrite", "Contacts.ReadWrite", "Calendars.ReadWrite",
	"Files.ReadWrite.All", "Sites.ReadWrite.All", "Group.ReadWrite.All", "Teamwork.Migrate.All"}

// Roles signs in and returns the application permissions (the token's
// "roles" claim) the app holds. A sign-in failure comes back with a
// message that says which setting to check.
func (c *Client) Roles(ctx context.Context) ([]string, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}})
	if err != nil {
		return nil, fmt.Errorf("sign-in to the tenant failed: check tenant_id, client_id and the client secret or certificate (%v)", redact(err))
	}
	for _, part := range strings.Split(tok.Token, ".") {
		b, err := base64.RawURLEncoding.DecodeString(part)
		if err != nil {
			continue
		}
		var claims struct {
			Roles []string `json:"roles"`
		}
		if json.Unmarshal(b, &claims) == nil && claims.Roles != nil {
			sort.Strings(claims.Roles)
			return claims.Roles, nil
		}
	}
	return nil, nil
}

// Missing returns the roles of want that have is lacking.
func Missing(have, want []string) []string {
	set := map[string]bool{}
	for _, r := range have {
		set[r] = true
		// A ReadWrite permission includes the matching Read.
		if base, ok := strings.CutSuffix(r, ".ReadWrite.All"); ok {
			set[base+".Read.All"] = true
		}
		if base, ok := strings.CutSuffix(r, ".ReadWrite"); ok {
			set[base+".Read"] = true
		}
	}
	var out []string
	for _, r := range want {
		if !set[r] {
			out = append(out, r)
		}
	}
	return out
}

// redact keeps secrets out of error text: azidentity errors can echo the
// request, and nothing the agent logs may contain a client secret.
func redact(err error) string {
	s := err.Error()
	if i := strings.Index(s, "client_secret="); i >= 0 {
		j := strings.IndexAny(s[i:], "& \n")
		if j < 0 {
			j = len(s) - i
		}
		s = s[:i] + "client_secret=REDACTED" + s[i+j:]
	}
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}
