package graph

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// tokenSource caches the app's access token and can replace it before it
// expires: when Graph answers 401 because the token was revoked or expired
// early (Microsoft's continuous access evaluation does this), the governor
// asks for a fresh one and retries once. azidentity's own cache would hand
// back the rejected token until its stated expiry; asking with a claims
// challenge makes it go to the token endpoint instead.
type tokenSource struct {
	inner azcore.TokenCredential
	now   func() time.Time // the client's clock, for the nbf claim
	mu    sync.Mutex
	tok   azcore.AccessToken
}

// GetToken implements azcore.TokenCredential.
func (t *tokenSource) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.Token != "" && time.Until(t.tok.ExpiresOn) > 2*time.Minute {
		return t.tok, nil
	}
	tok, err := t.inner.GetToken(ctx, opts)
	if err != nil {
		return tok, err
	}
	t.tok = tok
	return tok, nil
}

// refresh returns a token other than rejected: the current one if another
// request already refreshed it, else a new one from the token endpoint.
func (t *tokenSource) refresh(ctx context.Context, rejected string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.Token != "" && t.tok.Token != rejected {
		return t.tok.Token, nil
	}
	claims := fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, t.now().Unix())
	tok, err := t.inner.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}, Claims: claims})
	if err != nil {
		return "", fmt.Errorf("renew the access token after Graph rejected it: %s", redact(err))
	}
	t.tok = tok
	return tok.Token, nil
}

func bearer(h string) string {
	tok, _ := strings.CutPrefix(h, "Bearer ")
	return tok
}
