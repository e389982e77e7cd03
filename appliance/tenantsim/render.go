package tenantsim

import (
	"net/mail"
	"strings"
	"unicode/utf8"
)

// defaultUserFields are the properties Graph returns for a user without
// $select; accountEnabled and assignedLicenses need $select, as in Graph.
var defaultUserFields = map[string]bool{
	"businessphones": true, "displayname": true, "givenname": true, "jobtitle": true,
	"mail": true, "mobilephone": true, "officelocation": true, "preferredlanguage": true,
	"surname": true, "userprincipalname": true, "id": true,
}

// e3SkuID is the Office 365 E3 SKU id every licensed user holds.
const e3SkuID = "6fd2c87f-b296-42f0-b197-1e91e994b900"

func userJSON(u *user) map[string]any {
	lic := []any{}
	if u.licensed {
		lic = append(lic, map[string]any{"skuId": e3SkuID, "disabledPlans": []any{}})
	}
	m := map[string]any{
		"id":                u.id,
		"businessPhones":    []any{},
		"displayName":       u.displayName,
		"givenName":         nullable(u.givenName),
		"surname":           nullable(u.surname),
		"jobTitle":          nullable(u.jobTitle),
		"mail":              u.mail,
		"mobilePhone":       nil,
		"officeLocation":    nullable(u.office),
		"preferredLanguage": u.lang,
		"userPrincipalName": u.upn,
		"accountEnabled":    u.enabled,
		"department":        nullable(u.department),
		"usageLocation":     "DE",
		"assignedLicenses":  lic,
		"userType":          "Member",
	}
	if u.deleted {
		m["deletedDateTime"] = ts(u.deletedAt)
	}
	return m
}

// nullable renders an empty string property as null, as Graph does for a
// property that was never set.
func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func emailAddr(a mail.Address) map[string]any {
	return map[string]any{"emailAddress": map[string]any{"name": a.Name, "address": a.Address}}
}

func recipients(as []mail.Address) []any {
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = emailAddr(a)
	}
	return out
}

func preview(s string) string {
	if len(s) > 2048 {
		// Only the first 255 characters are kept; do not scan a long body.
		s = s[:2048]
	}
	s = strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "")
	if utf8.RuneCountInString(s) <= 255 {
		return s
	}
	return string([]rune(s)[:255])
}

func messageJSON(it *item) map[string]any {
	m := it.msg
	ck := it.changeKey()
	return map[string]any{
		"@odata.etag":                `W/"` + ck + `"`,
		"id":                         it.id,
		"createdDateTime":            ts(it.created),
		"lastModifiedDateTime":       ts(it.modified),
		"changeKey":                  ck,
		"categories":                 categoriesJSON(m.categories),
		"receivedDateTime":           ts(m.date),
		"sentDateTime":               ts(m.date),
		"hasAttachments":             hasFileAttachments(m),
		"internetMessageId":          m.messageID,
		"subject":                    m.subject,
		"bodyPreview":                m.bodyPreview,
		"importance":                 m.importance,
		"parentFolderId":             it.coll.id,
		"conversationId":             "AAQk" + shortHash(m.subject, 3),
		"isDeliveryReceiptRequested": false,
		"isReadReceiptRequested":     false,
		"isRead":                     m.isRead,
		"isDraft":                    m.isDraft,
		"webLink":                    "https://outlook.office365.com/owa/?ItemID=" + it.id,
		"inferenceClassification":    "focused",
		"body":                       map[string]any{"contentType": "text", "content": m.body},
		"sender":                     emailAddr(m.from),
		"from":                       emailAddr(m.from),
		"toRecipients":               recipients(m.to),
		"ccRecipients":               recipients(m.cc),
		"bccRecipients":              []any{},
		"replyTo":                    []any{},
		"flag":                       map[string]any{"flagStatus": "notFlagged"},
	}
}

func categoriesJSON(cs []string) []any {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}

// hasFileAttachments mirrors Graph: inline images alone do not set
// hasAttachments.
func hasFileAttachments(m *message) bool {
	for _, a := range m.attachments {
		if !a.inline {
			return true
		}
	}
	return false
}

func attachmentJSON(it *item, a *attachment, withContent bool) map[string]any {
	j := map[string]any{
		"@odata.type":             "#microsoft.graph.fileAttachment",
		"@odata.mediaContentType": a.contentType,
		"id":                      a.id,
		"lastModifiedDateTime":    ts(it.modified),
		"name":                    a.name,
		"contentType":             a.contentType,
		"size":                    a.size,
		"isInline":                a.inline,
		"contentId":               nil,
		"contentLocation":         nil,
	}
	if a.inline {
		j["contentId"] = a.id
	}
	if withContent {
		j["contentBytes"] = a.content()
	}
	return j
}

func folderJSON(u *user, c *collection) map[string]any {
	unread, total := 0, 0
	for _, m := range c.order {
		total++
		if it := u.items[m.id]; it != nil && !it.msg.isRead {
			unread++
		}
	}
	return map[string]any{
		"id":               c.id,
		"displayName":      c.name,
		"parentFolderId":   c.parentID,
		"childFolderCount": len(c.children),
		"unreadItemCount":  unread,
		"totalItemCount":   total,
		"isHidden":         false,
	}
}

func propsJSON(it *item, extra map[string]any) map[string]any {
	ck := it.changeKey()
	m := make(map[string]any, len(it.props)+8)
	for k, v := range it.props {
		m[k] = v
	}
	m["@odata.etag"] = `W/"` + ck + `"`
	m["id"] = it.id
	m["createdDateTime"] = ts(it.created)
	m["lastModifiedDateTime"] = ts(it.modified)
	m["changeKey"] = ck
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func contactJSON(it *item) map[string]any {
	return propsJSON(it, map[string]any{"parentFolderId": it.coll.id})
}

func eventJSON(it *item) map[string]any { return propsJSON(it, nil) }
