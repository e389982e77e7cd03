package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// User is a directory user as the agent needs it.
type User struct {
	ID          string `json:"id"`
	UPN         string `json:"upn"`
	DisplayName string `json:"display_name"`
	Mail        string `json:"mail,omitempty"`
	Enabled     bool   `json:"enabled"`
	Licensed    bool   `json:"licensed"`
}

// Users lists every user of the tenant, paging with $top=999 and only the
// fields the agent uses.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	top := int32(999)
	resp, err := c.SDK.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
			Top:    &top,
			Select: []string{"id", "userPrincipalName", "displayName", "mail", "accountEnabled", "assignedLicenses"},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", Explain(err))
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](resp, c.SDK.GetAdapter(), models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	var out []User
	err = it.Iterate(ctx, func(u models.Userable) bool {
		out = append(out, User{
			ID: deref(u.GetId()), UPN: deref(u.GetUserPrincipalName()), DisplayName: deref(u.GetDisplayName()), Mail: deref(u.GetMail()),
			Enabled: u.GetAccountEnabled() == nil || *u.GetAccountEnabled(), Licensed: len(u.GetAssignedLicenses()) > 0,
		})
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", Explain(err))
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Explain turns a Graph error into one that says what to do about it.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	var code int
	var msg string
	code = StatusCode(err)
	var me *odataerrors.ODataError
	if errors.As(err, &me) && me.GetErrorEscaped() != nil {
		msg = deref(me.GetErrorEscaped().GetCode()) + ": " + deref(me.GetErrorEscaped().GetMessage())
	}
	if msg == "" {
		msg = redact(err)
	}
	switch {
	case code == 401 || strings.Contains(msg, "InvalidAuthenticationToken"):
		return fmt.Errorf("%s (HTTP 401): the tenant rejected the app's credentials; check tenant_id, client_id and the secret or certificate, and that the secret has not expired", msg)
	case code == 403:
		return fmt.Errorf("%s (HTTP 403): the app lacks an application permission; grant it admin consent (needed for backup: %s)", msg, strings.Join(BackupRoles, ", "))
	case code == 429:
		return fmt.Errorf("%s (HTTP 429): still throttled after every retry; the next run continues where this one stopped", msg)
	case code >= 500:
		return fmt.Errorf("%s (HTTP %d): Microsoft Graph is unavailable; the next run retries", msg, code)
	case code != 0:
		return fmt.Errorf("%s (HTTP %d)", msg, code)
	}
	if what := signInRemedy(msg); what != "" {
		return fmt.Errorf("%w\n  what to do: %s", err, what)
	}
	return err
}

// signInRemedy names the fix for the sign-in and connection failures an
// operator meets while setting up: Entra ID's AADSTS codes and the
// network's refusals. "" when there is no specific one.
func signInRemedy(msg string) string {
	switch {
	case strings.Contains(msg, "AADSTS7000215") || strings.Contains(msg, "AADSTS7000222"):
		return "the app's client secret is wrong or expired: create a new one in Entra ID (App registrations, Certificates & secrets) and put it in the configuration's client_secret (on the appliance: the console's Tenant step)"
	case strings.Contains(msg, "AADSTS700016"):
		return "no app with this client_id in the tenant: check client_id and tenant_id, and that the app was created in this tenant"
	case strings.Contains(msg, "AADSTS90002") || strings.Contains(msg, "AADSTS900023"):
		return "no tenant with this tenant_id: copy the Directory (tenant) ID from Entra ID's overview into tenant_id"
	case strings.Contains(msg, "AADSTS7000112") || strings.Contains(msg, "AADSTS7000114"):
		return "the app is disabled in the tenant: enable it in Entra ID (Enterprise applications, Properties)"
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate signed by unknown authority"):
		return "the server's TLS certificate is not trusted: on a network with TLS inspection name its CA in ca_file; otherwise check graph_base_url and authority_host"
	case strings.Contains(msg, "no such host"):
		return "the host name does not resolve: check the appliance's DNS servers (console: Network) and graph_base_url / authority_host"
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "network is unreachable"):
		return "the host cannot be reached: check the appliance's network, gateway and any proxy (HTTPS_PROXY), and that outbound HTTPS to Microsoft is allowed"
	}
	return ""
}

// StatusCode returns the HTTP status of a Graph error, or 0.
func StatusCode(err error) int {
	var sc interface{ GetStatusCode() int }
	if errors.As(err, &sc) {
		return sc.GetStatusCode()
	}
	return 0
}
