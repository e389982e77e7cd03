// Package simclient builds a msgraph-sdk-go client aimed at a running
// tenant simulator. It exists for the simulator's own tests and examples;
// the agent builds its Graph client in its own package.
package simclient

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// Options says where the simulator is and which app to sign in as.
type Options struct {
	TenantID      string
	AuthorityHost string // https://127.0.0.1:PORT/
	BaseURL       string // https://127.0.0.1:PORT/v1.0
	CAPEM         []byte
	ClientID      string
	ClientSecret  string
	// Retry adds kiota's retry handler (honouring Retry-After) to the
	// chain; without it 429 and 503 reach the caller.
	Retry bool
}

// HTTPClient returns a client that trusts only the simulator's CA.
func HTTPClient(caPEM []byte) (*http.Client, error) { return tenantsim.TrustingClient(caPEM) }

// New signs in with azidentity's ClientSecretCredential against the
// simulator's authority and returns a Graph client on its base URL.
//
// The middleware chain is fixed here rather than taken from the SDK's
// defaults: no request compression (kiota-http-go #183 re-sends a consumed
// body when compression and retry are combined), then redirect, optional
// retry, parameter-name decoding, user agent and headers inspection.
func New(o Options) (*msgraphsdk.GraphServiceClient, error) {
	hc, err := HTTPClient(o.CAPEM)
	if err != nil {
		return nil, err
	}
	cred, err := azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, o.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: o.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
			Transport: hc,
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		return nil, fmt.Errorf("client secret credential: %w", err)
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse base URL %q: %w", o.BaseURL, err)
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{"https://graph.microsoft.com/.default"}, []string{base.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("authentication provider: %w", err)
	}
	mw := []khttp.Middleware{khttp.NewRedirectHandler()}
	if o.Retry {
		mw = append(mw, khttp.NewRetryHandler())
	}
	mw = append(mw, khttp.NewParametersNameDecodingHandler(), khttp.NewUserAgentHandler(), khttp.NewHeadersInspectionHandler())
	graphHTTP := &http.Client{
		Timeout:   hc.Timeout,
		Transport: khttp.NewCustomTransportWithParentTransport(hc.Transport, mw...),
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, graphHTTP)
	if err != nil {
		return nil, fmt.Errorf("request adapter: %w", err)
	}
	adapter.SetBaseUrl(o.BaseURL)
	return msgraphsdk.NewGraphServiceClient(adapter), nil
}
