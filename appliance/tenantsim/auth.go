package tenantsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// App is an application registration in the simulated tenant: what a
// client needs for the client-credentials grant.
type App struct {
	Name         string
	ClientID     string
	ClientSecret string
	// Roles are the application permissions granted, as Graph names them
	// (Mail.Read, Mail.ReadWrite, ...).
	Roles []string
}

// permission is what a route needs: any one of the listed roles.
type permission []string

// Permissions of the routes. A ReadWrite role implies the Read one, as in
// Graph.
var (
	permNone          permission
	permUserRead      = permission{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All"}
	permMailRead      = permission{"Mail.Read", "Mail.ReadBasic.All", "Mail.ReadWrite"}
	permMailWrite     = permission{"Mail.ReadWrite"}
	permContactsRead  = permission{"Contacts.Read", "Contacts.ReadWrite"}
	permContactsWrite = permission{"Contacts.ReadWrite"}
	permCalRead       = permission{"Calendars.Read", "Calendars.ReadWrite"}
	permCalWrite      = permission{"Calendars.ReadWrite"}
)

// Roles granted to the two generated applications.
var (
	backupRoles = []string{
		"User.Read.All", "Group.Read.All", "Mail.Read", "Contacts.Read",
		"Calendars.Read", "Files.Read.All", "Sites.Read.All",
		"ChannelMessage.Read.All", "TeamMember.Read.All", "TeamsTab.Read.All",
	}
	restoreRoles = []string{
		"User.Read.All", "Mail.ReadWrite", "Contacts.ReadWrite",
		"Calendars.ReadWrite", "Files.ReadWrite.All", "Sites.ReadWrite.All",
		"Teamwork.Migrate.All", "Group.ReadWrite.All", "Sites.FullControl.All",
	}
)

// tokenClaims is the payload of an access token the simulator issues.
// Tokens are base64url(JSON) "." base64url(HMAC-SHA256) under a key that
// exists only in this process, so they cannot be forged or carried to
// another simulator.
type tokenClaims struct {
	AppID    string   `json:"appid"`
	TenantID string   `json:"tid"`
	Roles    []string `json:"roles"`
	IssuedAt int64    `json:"iat"` // Unix nanoseconds
	Expires  int64    `json:"exp"`
	Nonce    uint64   `json:"n"`
}

func (c *tokenClaims) has(p permission) bool {
	if len(p) == 0 {
		return true
	}
	for _, want := range p {
		for _, r := range c.Roles {
			if r == want {
				return true
			}
		}
	}
	return false
}

func (s *Sim) signToken(c tokenClaims) string {
	b, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verifyToken checks the Authorization header and returns the caller.
func (s *Sim) verifyToken(r *http.Request) (*tokenClaims, *graphError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errNoToken
	}
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || raw == "" {
		return nil, errBadToken
	}
	var c *tokenClaims
	if v, ok := s.tokenCache.Load(raw); ok {
		c = v.(*tokenClaims)
	} else {
		payload, sig, ok := strings.Cut(raw, ".")
		if !ok {
			return nil, errBadToken
		}
		got, err := base64.RawURLEncoding.DecodeString(sig)
		if err != nil {
			return nil, errBadToken
		}
		m := hmac.New(sha256.New, s.tokenKey)
		m.Write([]byte(payload))
		if !hmac.Equal(got, m.Sum(nil)) {
			return nil, errBadToken
		}
		b, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			return nil, errBadToken
		}
		c = new(tokenClaims)
		if err := json.Unmarshal(b, c); err != nil {
			return nil, errBadToken
		}
		s.tokenCache.Store(raw, c)
	}
	now := s.cfg.Now().Unix()
	if now >= c.Expires || c.IssuedAt < s.tokensValidFrom.Load() {
		return nil, errExpiredToken
	}
	if c.TenantID != s.tenantID {
		return nil, errBadToken
	}
	return c, nil
}

// handleOpenID serves the OpenID configuration MSAL reads before asking
// for a token. The issuer must be on the same host as the authority, or
// MSAL refuses it.
func (s *Sim) handleOpenID(w http.ResponseWriter, r *http.Request, tenant string) {
	if tenant != s.tenantID && tenant != "organizations" && tenant != "common" {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant '" + tenant + "' not found.",
		})
		return
	}
	base := s.authorityHost() + s.tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		"response_types_supported":              []string{"code", "token"},
		"tenant_region_scope":                   "EU",
	})
}

// handleToken is the client-credentials grant. Errors follow the OAuth 2.0
// shape ({"error","error_description"}) that MSAL parses, not Graph's.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request, tenant string) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	if tenant != s.tenantID {
		oauthErr(http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant '"+tenant+"' not found.")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must be form-encoded.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '"+gt+"'.")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	var app *App
	for _, a := range []*App{&s.backup, &s.restore} {
		if a.ClientID == id {
			app = a
		}
	}
	if app == nil {
		oauthErr(http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+id+"' was not found in the directory.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		oauthErr(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	now := s.cfg.Now()
	life := s.cfg.TokenLifetime
	tok := s.signToken(tokenClaims{
		AppID: app.ClientID, TenantID: s.tenantID, Roles: app.Roles,
		IssuedAt: now.UnixNano(), Expires: now.Add(life).Unix(), Nonce: s.nonce.Add(1),
	})
	secs := int(life / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}
