package tenantsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Site pages as a restore writes them: POST /sites/{id}/pages creates a
// draft sitePage with its title area and canvas layout, PATCH on the
// sitePage cast changes them (the page is a draft again), POST .../publish
// publishes it and DELETE removes it. A name already taken answers 409.

// pageIn is the part of a sitePage the simulator takes from a request.
type pageIn struct {
	Name          string  `json:"name"`
	Title         *string `json:"title"`
	PageLayout    string  `json:"pageLayout"`
	PromotionKind string  `json:"promotionKind"`
	ShowComments  *bool   `json:"showComments"`
	TitleArea     *struct {
		Layout            string `json:"layout"`
		TextAlignment     string `json:"textAlignment"`
		ShowAuthor        bool   `json:"showAuthor"`
		ShowPublishedDate bool   `json:"showPublishedDate"`
	} `json:"titleArea"`
	CanvasLayout *struct {
		HorizontalSections []struct {
			Layout   string `json:"layout"`
			Emphasis string `json:"emphasis"`
			Columns  []struct {
				Width    int              `json:"width"`
				Webparts []map[string]any `json:"webparts"`
			} `json:"columns"`
		} `json:"horizontalSections"`
	} `json:"canvasLayout"`
}

// apply sets what the request gives on pg.
func (in *pageIn) apply(pg *sitePage) {
	if in.Title != nil {
		pg.title = *in.Title
	}
	if in.PageLayout != "" {
		pg.layout = in.PageLayout
	}
	if in.PromotionKind != "" {
		pg.promotion = in.PromotionKind
	}
	if in.ShowComments != nil {
		pg.showComments = *in.ShowComments
	}
	if in.TitleArea != nil {
		ta := in.TitleArea
		pg.titleAreaLayout, pg.titleAreaAlignment, pg.showAuthor, pg.showPublishedDate = ta.Layout, ta.TextAlignment, ta.ShowAuthor, ta.ShowPublishedDate
	}
	if in.CanvasLayout == nil {
		return
	}
	pg.sections = nil
	for _, sec := range in.CanvasLayout.HorizontalSections {
		ps := pageSection{layout: sec.Layout, emphasis: sec.Emphasis}
		for _, col := range sec.Columns {
			pc := pageColumn{width: col.Width}
			for _, wp := range col.Webparts {
				id, _ := wp["id"].(string)
				if h, ok := wp["innerHtml"].(string); ok {
					pc.parts = append(pc.parts, textPart{id: id, html: h})
					continue
				}
				pc.parts = append(pc.parts, textPart{id: id, raw: wp})
			}
			ps.columns = append(ps.columns, pc)
		}
		pg.sections = append(pg.sections, ps)
	}
}

func handleCreatePage(q *request) *graphError {
	var in pageIn
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	if !strings.HasSuffix(strings.ToLower(in.Name), ".aspx") || strings.ContainsAny(in.Name, "/\\") {
		return errf(http.StatusBadRequest, "invalidRequest", "name must be a file name ending in .aspx.")
	}
	return writeOf(q, q.site, func(st *site) (any, *graphError) {
		if slices.ContainsFunc(st.pages, func(p *sitePage) bool { return strings.EqualFold(p.name, in.Name) }) {
			return nil, errf(http.StatusConflict, "nameAlreadyExists", "A page with the name "+in.Name+" already exists.")
		}
		seq := q.sim.nextSeq()
		now := q.sim.logicalNow(seq)
		pg := &sitePage{id: guid("site-page", st.id, seq), name: in.Name, title: strings.TrimSuffix(in.Name, ".aspx"), layout: "article", promotion: "page",
			created: now, modified: now, draft: true, titleAreaLayout: "plain", titleAreaAlignment: "left"}
		in.apply(pg)
		st.pages = append(st.pages, pg)
		return sitePageJSON(st, pg, true), nil
	})
}

// handleUpdatePage answers 200 with the changed page, a draft again.
func handleUpdatePage(q *request) *graphError {
	var in pageIn
	if gerr := q.decodeJSON(&in); gerr != nil {
		return gerr
	}
	return updatePair(q, q.sitePage, func(st *site, pg *sitePage) (any, *graphError) {
		in.Name = ""
		in.apply(pg)
		pg.modified, pg.draft = q.sim.logicalNow(q.sim.nextSeq()), true
		return sitePageJSON(st, pg, true), nil
	})
}

func handlePublishPage(q *request) *graphError {
	return writePair(q, q.sitePage, func(_ *site, pg *sitePage) (any, *graphError) {
		pg.draft = false
		q.sim.nextSeq()
		return nil, nil
	})
}

func handleDeletePage(q *request) *graphError {
	return writePair(q, q.sitePage, func(st *site, pg *sitePage) (any, *graphError) {
		st.pages = slices.DeleteFunc(st.pages, func(p *sitePage) bool { return p == pg })
		q.sim.nextSeq()
		return nil, nil
	})
}

// rawPartJSON is a web part other than text, as it was written.
func rawPartJSON(p textPart) map[string]any {
	var out map[string]any
	b, _ := json.Marshal(p.raw)
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{"id": p.id}
	}
	if _, ok := out["@odata.type"]; !ok {
		out["@odata.type"] = "#microsoft.graph.standardWebPart"
	}
	return out
}

// pageRoutes registers the page writes.
func (s *Sim) pageRoutes() {
	rt := &s.routes
	rt.add(http.MethodPost, "sites/{sid}/pages", "sites", permSitesWrite, handleCreatePage)
	rt.add(http.MethodDelete, "sites/{sid}/pages/{pgid}", "sites", permSitesWrite, handleDeletePage)
	for _, cast := range []string{"microsoft.graph.sitePage", "graph.sitePage"} {
		page := "sites/{sid}/pages/{pgid}/" + cast
		rt.add(http.MethodPatch, page, "sites", permSitesWrite, handleUpdatePage)
		rt.add(http.MethodPost, page+"/publish", "sites", permSitesWrite, handlePublishPage)
	}
}
