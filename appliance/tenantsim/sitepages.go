package tenantsim

import (
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// sitePage is a modern page of a site's Site Pages library. Its canvas
// is horizontal sections of columns of text web parts.
type sitePage struct {
	id, name, title    string
	layout             string // pageLayout: "home" or "article"
	promotion          string // promotionKind: "page" or "newsPost"
	author             *user  // nil: the system account
	created, modified  time.Time
	sections           []pageSection
	showComments       bool
	titleAreaLayout    string
	titleAreaAlignment string
	showAuthor         bool
	showPublishedDate  bool
	// draft is set on a page created or changed through Graph until it
	// is published.
	draft bool
}

type pageSection struct {
	layout, emphasis string
	columns          []pageColumn
}

type pageColumn struct {
	width int
	parts []textPart
}

// textPart is a text web part; raw, when set, is another kind of web
// part as it was written.
type textPart struct {
	id, html string
	raw      map[string]any
}

var pageTitles = []string{"Willkommen im Team", "Reisekostenrichtlinie 2025", "Nouvelles du trimestre", "Onboarding – Überblick", "社内イベントのお知らせ", "IT-Sicherheit: Phishing erkennen"}

// generateSitePages gives every site a home page and a few articles and
// news posts, from a stream of their own.
func (s *Sim) generateSitePages() {
	for i, st := range s.sites {
		r := rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "site-pages"), uint64(i)))
		var authors []*user
		if st.group != nil {
			authors = st.group.members
		}
		n := 2 + r.IntN(3)
		for p := range n + 1 {
			pg := &sitePage{
				id:     guid(s.cfg.Seed, "site-page", i, p),
				layout: "article", promotion: "page",
				created:            genEpoch.Add(time.Duration(r.IntN(150*24)) * time.Hour),
				showComments:       r.IntN(2) == 0,
				titleAreaLayout:    []string{"imageAndTitle", "plain", "colorBlock", "overlap"}[r.IntN(4)],
				titleAreaAlignment: []string{"left", "center"}[r.IntN(2)],
			}
			if p == 0 {
				pg.name, pg.title, pg.layout, pg.titleAreaLayout = "Home.aspx", st.displayName, "home", "plain"
			} else {
				pg.title = pageTitles[(p+i+r.IntN(2))%len(pageTitles)]
				pg.name = strings.NewReplacer(" ", "-", ":", "", "–", "-").Replace(pg.title) + ".aspx"
				if r.IntN(3) == 0 {
					pg.promotion = "newsPost"
				}
			}
			pg.modified = pg.created.Add(time.Duration(r.IntN(30*24)) * time.Hour)
			if len(authors) > 0 {
				pg.author = authors[r.IntN(len(authors))]
			}
			pg.showAuthor, pg.showPublishedDate = pg.author != nil, pg.promotion == "newsPost"
			layouts := []struct {
				name   string
				widths []int
			}{{"oneColumn", []int{12}}, {"twoColumns", []int{6, 6}}, {"oneThirdRightColumn", []int{8, 4}}}
			for sec := range 1 + r.IntN(3) {
				l := layouts[r.IntN(len(layouts))]
				ps := pageSection{layout: l.name, emphasis: []string{"none", "neutral", "soft"}[r.IntN(3)]}
				for c, w := range l.widths {
					col := pageColumn{width: w}
					for wp := range 1 + r.IntN(2) {
						var b strings.Builder
						b.WriteString("<p>")
						for range 1 + r.IntN(4) {
							b.WriteString(html.EscapeString(phrases[r.IntN(len(phrases))]))
							b.WriteString(" ")
						}
						b.WriteString("</p>")
						col.parts = append(col.parts, textPart{id: guid(pg.id, sec, c, wp), html: b.String()})
					}
					ps.columns = append(ps.columns, col)
				}
				pg.sections = append(pg.sections, ps)
			}
			st.pages = append(st.pages, pg)
		}
	}
}

func identityJSON(u *user) map[string]any {
	if u == nil {
		return map[string]any{"user": map[string]any{"displayName": "System Account"}}
	}
	return map[string]any{"user": map[string]any{"id": u.id, "displayName": u.displayName, "email": u.mail}}
}

// sitePageJSON renders a page as a sitePage; the canvas only when asked
// ($expand=canvasLayout), as Graph does.
func sitePageJSON(st *site, pg *sitePage, withCanvas bool) map[string]any {
	web := "https://contoso-sim.sharepoint.com/sites/" + st.name + "/SitePages/" + pg.name
	j := map[string]any{
		"@odata.type":          "#microsoft.graph.sitePage",
		"@odata.etag":          fmt.Sprintf(`"{%s},%d"`, strings.ToUpper(pg.id), 3),
		"eTag":                 fmt.Sprintf(`"{%s},%d"`, strings.ToUpper(pg.id), 3),
		"id":                   pg.id,
		"name":                 pg.name,
		"title":                pg.title,
		"webUrl":               web,
		"createdDateTime":      ts(pg.created),
		"lastModifiedDateTime": ts(pg.modified),
		"createdBy":            identityJSON(pg.author),
		"lastModifiedBy":       identityJSON(pg.author),
		"parentReference":      map[string]any{"siteId": st.id},
		"contentType":          map[string]any{"id": "0x0101009D1CB255DA76424F860D91F20E6C4118", "name": "Site Page"},
		"pageLayout":           pg.layout,
		"promotionKind":        pg.promotion,
		"showComments":         pg.showComments,
		"showRecommendedPages": false,
		"thumbnailWebUrl":      "https://contoso-sim.sharepoint.com/_layouts/15/images/sitepagethumbnail.png",
		"publishingState":      publishingState(pg),
		"titleArea": map[string]any{
			"enableGradientEffect":    true,
			"layout":                  pg.titleAreaLayout,
			"showAuthor":              pg.showAuthor,
			"showPublishedDate":       pg.showPublishedDate,
			"showTextBlockAboveTitle": false,
			"textAboveTitle":          "",
			"textAlignment":           pg.titleAreaAlignment,
			"imageWebUrl":             nil,
		},
	}
	if withCanvas {
		j["canvasLayout"] = canvasJSON(pg)
	}
	return j
}

func publishingState(pg *sitePage) map[string]any {
	if pg.draft {
		return map[string]any{"level": "draft", "versionId": "0.1"}
	}
	return map[string]any{"level": "published", "versionId": "1.0"}
}

func textPartJSON(p textPart) map[string]any {
	if p.raw != nil {
		return rawPartJSON(p)
	}
	return map[string]any{"@odata.type": "#microsoft.graph.textWebPart", "id": p.id, "innerHtml": p.html}
}

func canvasJSON(pg *sitePage) map[string]any {
	secs := []any{}
	for i, sec := range pg.sections {
		cols := []any{}
		for c, col := range sec.columns {
			parts := []any{}
			for _, p := range col.parts {
				parts = append(parts, textPartJSON(p))
			}
			cols = append(cols, map[string]any{"id": fmt.Sprint(c + 1), "width": col.width, "webparts": parts})
		}
		secs = append(secs, map[string]any{"id": fmt.Sprint(i + 1), "layout": sec.layout, "emphasis": sec.emphasis, "columns": cols})
	}
	return map[string]any{"horizontalSections": secs}
}

func (q *request) sitePage() (*site, *sitePage, *graphError) {
	st, gerr := q.site()
	if gerr != nil {
		return nil, nil, gerr
	}
	for _, pg := range st.pages {
		if pg.id == q.param("pgid") {
			return st, pg, nil
		}
	}
	return nil, nil, errf(http.StatusNotFound, "itemNotFound", "The page could not be found.")
}

func expands(q *request, rel string) bool {
	for _, e := range strings.Split(q.r.URL.Query().Get("$expand"), ",") {
		if strings.EqualFold(strings.TrimSpace(e), rel) {
			return true
		}
	}
	return false
}

// handleListPages serves /sites/{id}/pages (baseSitePage, each typed as
// a sitePage) and its cast /pages/microsoft.graph.sitePage.
func handleListPages(q *request) *graphError {
	return readOf(q, q.site, func(st *site) (any, *graphError) {
		sel := selectFields(q.r)
		canvas := expands(q, "canvasLayout")
		all := []map[string]any{}
		for _, pg := range st.pages {
			all = append(all, project(sitePageJSON(st, pg, canvas), sel))
		}
		ctx := "sites('" + st.id + "')/pages"
		if strings.HasSuffix(q.r.URL.Path, "graph.sitePage") {
			ctx += "/microsoft.graph.sitePage"
		}
		return q.listPage(ctx, all, 100, 999)
	})
}

func handleGetPage(q *request) *graphError {
	return readPair(q, q.sitePage, func(st *site, pg *sitePage) (any, *graphError) {
		return project(sitePageJSON(st, pg, expands(q, "canvasLayout")), selectFields(q.r)), nil
	})
}

func handlePageCanvas(q *request) *graphError {
	return readPair(q, q.sitePage, func(_ *site, pg *sitePage) (any, *graphError) {
		return canvasJSON(pg), nil
	})
}

func handlePageWebParts(q *request) *graphError {
	return readPair(q, q.sitePage, func(_ *site, pg *sitePage) (any, *graphError) {
		all := []map[string]any{}
		for _, sec := range pg.sections {
			for _, col := range sec.columns {
				for _, p := range col.parts {
					all = append(all, textPartJSON(p))
				}
			}
		}
		return q.listPage("webParts", all, 100, 999)
	})
}

// sharingLink is a sharing link of a drive item: the generated
// organization view link of a shared item, or one made with createLink.
type sharingLink struct {
	id, typ, scope string
	expires        string
	password       bool
	// key seeds the link's shareId and URL.
	key string
}

func (l *sharingLink) json() map[string]any {
	role, letter := "read", "w"
	if l.typ == "edit" {
		role, letter = "write", "x"
	}
	j := map[string]any{
		"id": l.id, "roles": []any{role}, "shareId": "u!" + shortHash(l.key, 6),
		"link": map[string]any{"type": l.typ, "scope": l.scope, "webUrl": "https://contoso-sim.sharepoint.com/:" + letter + ":/s/" + shortHash(l.key, 7)},
	}
	if l.password {
		j["hasPassword"] = true
	}
	if l.expires != "" {
		j["expirationDateTime"] = l.expires
	}
	return j
}

// sharingLinks lists an item's links: the generated one of a shared
// item first, then those made with createLink.
func (it *driveItem) sharingLinks() []*sharingLink {
	if !it.shared {
		return it.links
	}
	gen := &sharingLink{id: "link-" + shortHash(it.id, 5), typ: "view", scope: "organization", key: it.id}
	return append([]*sharingLink{gen}, it.links...)
}

// handleCreateLink serves POST .../createLink: a new sharing link of the
// requested type and scope (201), or the existing one of that type and
// scope when there is one (200), as OneDrive and SharePoint answer.
func handleCreateLink(q *request) *graphError {
	var in struct {
		Type               string `json:"type"`
		Scope              string `json:"scope"`
		Password           string `json:"password"`
		ExpirationDateTime string `json:"expirationDateTime"`
	}
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	switch in.Type {
	case "view", "edit":
	case "embed":
		return errf(http.StatusBadRequest, "invalidRequest", "Embed links are only supported for OneDrive personal.")
	default:
		return errf(http.StatusBadRequest, "invalidRequest", "Invalid request: type must be view or edit.")
	}
	if in.Scope == "" {
		in.Scope = "organization"
	}
	if in.Scope != "anonymous" && in.Scope != "organization" && in.Scope != "users" {
		return errf(http.StatusBadRequest, "invalidRequest", "Invalid request: scope must be anonymous, organization or users.")
	}
	if in.ExpirationDateTime != "" {
		if _, err := time.Parse(time.RFC3339, in.ExpirationDateTime); err != nil {
			return errf(http.StatusBadRequest, "invalidRequest", "Invalid expirationDateTime.")
		}
	}
	var status int
	var body map[string]any
	gerr := func() *graphError {
		q.sim.mu.Lock()
		defer q.sim.mu.Unlock()
		_, it, gerr := q.driveAndItem()
		if gerr != nil {
			return gerr
		}
		if in.Password == "" && in.ExpirationDateTime == "" {
			for _, l := range it.sharingLinks() {
				if l.typ == in.Type && l.scope == in.Scope && !l.password && l.expires == "" {
					status, body = http.StatusOK, l.json()
					return nil
				}
			}
		}
		id := "link-" + shortHash(it.id, int(q.sim.nextSeq()))
		l := &sharingLink{id: id, typ: in.Type, scope: in.Scope, expires: in.ExpirationDateTime, password: in.Password != "", key: id}
		it.links = append(it.links, l)
		status, body = http.StatusCreated, l.json()
		return nil
	}()
	if gerr != nil {
		return gerr
	}
	writeJSON(q.w, status, body)
	return nil
}
