package graph

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"

	"github.com/strongroom/strongroom/appliance/sealed"
)

// Defaults for Microsoft's public cloud.
const (
	DefaultBaseURL   = "https://graph.microsoft.com/v1.0"
	DefaultAuthority = "https://login.microsoftonline.com/"
	graphScope       = "https://graph.microsoft.com/.default"
)

// App is an Entra ID app registration the agent signs in as.
type App struct {
	ClientID     string `yaml:"client_id" json:"client_id"`
	ClientSecret string `yaml:"client_secret,omitempty" json:"-"`
	// ClientSecretFile holds the client secret instead: on the appliance
	// the secret sealed to its TPM (sealed.Ref, ${CREDENTIALS_DIRECTORY}/...).
	ClientSecretFile string `yaml:"client_secret_file,omitempty" json:"-"`
	CertificateFile  string `yaml:"certificate_file,omitempty" json:"certificate_file,omitempty"`
}

// HasSecret reports whether the app names a way to sign in.
func (a App) HasSecret() bool {
	return a.ClientSecret != "" || a.ClientSecretFile != "" || a.CertificateFile != ""
}

// Config says which tenant to reach and how.
type Config struct {
	TenantID      string
	BaseURL       string // default DefaultBaseURL
	AuthorityHost string // default DefaultAuthority
	CAFile        string // extra CA to trust (the local simulator's)
	App           App
	// Timeout bounds a token request (default 2m). Graph requests have
	// no overall timeout: the governor bounds each attempt (see
	// GovernorOptions.AttemptTimeout), so that its waits and retries, and
	// a large download, are not cut short.
	Timeout time.Duration
}

// Client is a Graph client for one app of one tenant.
type Client struct {
	SDK      *msgraphsdk.GraphServiceClient
	Governor *Governor
	HTTP     *http.Client // the governed client, for raw requests
	cred     azcore.TokenCredential
	baseURL  string
}

// BaseURL is the Graph root the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// New builds a client. The middleware chain is fixed and explicit: redirect,
// parameter-name decoding, user agent, headers inspection, then the
// governor (which does all retrying). kiota's retry and compression
// handlers are left out on purpose: retries belong to the governor, and
// request compression with retries re-sends consumed bodies
// (kiota-http-go #183).
func New(cfg Config, gov GovernorOptions) (*Client, error) {
	if cfg.TenantID == "" || cfg.App.ClientID == "" {
		return nil, errors.New("graph: tenant_id and the app's client_id are required in the configuration")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = DefaultAuthority
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme != "https" && base.Hostname() != "127.0.0.1" && base.Hostname() != "localhost" {
		return nil, fmt.Errorf("graph: base URL %q must be https", cfg.BaseURL)
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 15 * time.Second,
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("graph: ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("graph: ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	inner, err := credential(cfg, &http.Client{Transport: tr, Timeout: cfg.Timeout})
	if err != nil {
		return nil, err
	}
	if gov.Now == nil {
		gov.Now = time.Now
	}
	cred := &tokenSource{inner: inner, now: gov.Now}
	if gov.Reauth == nil {
		gov.Reauth = cred.refresh
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{graphScope}, []string{base.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph: authentication provider: %w", err)
	}
	g := NewGovernor(tr, gov)
	mw := []khttp.Middleware{
		khttp.NewRedirectHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	// Timeout 0: kiota turns a client timeout into a deadline for the
	// whole request, governor waits and retries included.
	hc := &http.Client{Timeout: 0, Transport: khttp.NewCustomTransportWithParentTransport(g, mw...)}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(cfg.BaseURL)
	return &Client{SDK: msgraphsdk.NewGraphServiceClient(adapter), Governor: g, HTTP: &http.Client{Transport: g},
		cred: cred, baseURL: cfg.BaseURL}, nil
}

func credential(cfg Config, hc *http.Client) (azcore.TokenCredential, error) {
	co := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Transport: hc,
	}
	if cfg.App.CertificateFile != "" {
		data, err := os.ReadFile(cfg.App.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("graph: certificate_file: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(data, nil)
		if err != nil {
			return nil, fmt.Errorf("graph: certificate_file %s: %w", cfg.App.CertificateFile, err)
		}
		return azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.App.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	}
	secret := cfg.App.ClientSecret
	if secret == "" && cfg.App.ClientSecretFile != "" {
		b, err := sealed.ReadFile(cfg.App.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("graph: client_secret_file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		return nil, errors.New("graph: the app needs a client_secret, client_secret_file or certificate_file in the configuration")
	}
	return azidentity.NewClientSecretCredential(cfg.TenantID, cfg.App.ClientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
}
