package exchange

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// deltaPage is a messages delta page of n elements with the fields the
// backup selects (messageFields), every tenth a removal, as Graph sends
// it.
func deltaPage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(message)","value":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%10 == 9 {
			fmt.Fprintf(&b, `{"@odata.type":"#microsoft.graph.message","id":"AAMkAD%060d","@removed":{"reason":"deleted"}}`, i)
			continue
		}
		fmt.Fprintf(&b, `{"@odata.type":"#microsoft.graph.message","@odata.etag":"W/\"CQAAABYAAAD%08d\"","id":"AAMkAD%060d",`+
			`"changeKey":"CQAAABYAAAD%08d","lastModifiedDateTime":"2026-11-%02dT09:%02d:00Z","subject":"Quarterly figures, revision %d",`+
			`"from":{"emailAddress":{"name":"Sender %d","address":"sender%d@contoso.com"}},`+
			`"toRecipients":[{"emailAddress":{"name":"Alice","address":"alice@contoso.com"}},{"emailAddress":{"name":"Bob","address":"bob@contoso.com"}}],`+
			`"receivedDateTime":"2026-11-%02dT09:%02d:00Z","internetMessageId":"<%d.%d@mail.contoso.com>",`+
			`"parentFolderId":"AAMkADinbox%050d","isDraft":false}`,
			i, i, i, 1+i%28, i%60, i, i%37, i%37, 1+i%28, i%60, i, i*7, 0)
	}
	b.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users/alice/mailFolders/inbox/messages/delta?$skiptoken=abc"}`)
	return []byte(b.String())
}

// BenchmarkDeltaPageParse is the agent's work per delta page of messages
// once its body has arrived: the page decoded into its elements, each
// element into the entry the backup compares and catalogs (Graph's page
// size for message delta is up to 1000 with odata.maxpagesize; the agent
// asks for 200).
func BenchmarkDeltaPageParse(b *testing.B) {
	body := deltaPage(200)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var p struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			b.Fatal(err)
		}
		removed := 0
		for _, raw := range p.Value {
			e, err := parseEntry(raw)
			if err != nil {
				b.Fatal(err)
			}
			if e.removed() {
				removed++
			}
		}
		if len(p.Value) != 200 || removed != 20 || p.NextLink == "" {
			b.Fatalf("page parsed to %d elements, %d removals, nextLink %q", len(p.Value), removed, p.NextLink)
		}
	}
}
