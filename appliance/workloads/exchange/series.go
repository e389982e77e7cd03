package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/strongroom/strongroom/appliance/export"
	"github.com/strongroom/strongroom/appliance/graph"
)

// seriesSlack is how far an occurrence's original start may be from where
// the expanded pattern puts it and still be that occurrence: less than
// half the shortest gap between two occurrences (a day), more than a
// daylight-saving shift.
const seriesSlack = 3 * time.Hour

// seriesMaster returns a series master as Graph listed it, with what only
// its instances tell (Graph v1.0 lists masters, not occurrences, under
// /events): the exceptions, and the original starts of the occurrences
// the pattern has and Graph no longer serves (deleted), under
// export.AnnotationExceptions and export.AnnotationCancelled. A master
// whose occurrences are all as the pattern says is stored as listed.
func (b *backup) seriesMaster(ctx context.Context, e *entry) ([]byte, error) {
	starts, from, to, known := export.SeriesWindow(e.Raw)
	var exceptions []json.RawMessage
	var seen []time.Time
	ri, err := b.c.G.SDK.Users().ByUserId(b.u.ID).Events().ByEventId(e.ID).Instances().ToGetRequestInformation(ctx,
		&users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
			Headers: b.preferHeaders(),
			QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{
				StartDateTime: ptr(from.UTC().Format(time.RFC3339)),
				EndDateTime:   ptr(to.UTC().Format(time.RFC3339)),
				Top:           b.pageSize(1000),
			}})
	if err != nil {
		return nil, err
	}
	_, err = b.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var in struct {
			Type          string `json:"type"`
			IsCancelled   bool   `json:"isCancelled"`
			OriginalStart string `json:"originalStart"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			return fmt.Errorf("decode instance: %w", err)
		}
		if t, err := time.Parse(time.RFC3339Nano, in.OriginalStart); err == nil {
			seen = append(seen, t)
		}
		if in.Type == "exception" || in.IsCancelled {
			exceptions = append(exceptions, raw)
		}
		return nil
	})
	if err != nil && isUnsupported(err) {
		// Graph refuses the window: the series is kept as listed, with
		// its recurrence, and the run names what it lacks.
		b.failf("series %s: exceptions and deleted occurrences not read: %s", e.ID, graph.Describe(err))
		return e.Raw, nil
	}
	if err != nil {
		return nil, fmt.Errorf("instances: %w", err)
	}
	var cancelled []string
	if known {
		cancelled = missingStarts(starts, seen)
	}
	return annotateSeries(e.Raw, exceptions, cancelled)
}

// missingStarts returns the starts (RFC 3339, UTC) that no original start
// in seen is within seriesSlack of.
func missingStarts(starts, seen []time.Time) []string {
	var out []string
	for _, s := range starts {
		found := false
		for _, t := range seen {
			if d := t.Sub(s); d < seriesSlack && d > -seriesSlack {
				found = true
				break
			}
		}
		if !found {
			out = append(out, s.UTC().Format(time.RFC3339))
		}
	}
	return out
}

// annotateSeries adds the exceptions and cancelled starts to a master's
// JSON; with neither it returns raw unchanged.
func annotateSeries(raw json.RawMessage, exceptions []json.RawMessage, cancelled []string) ([]byte, error) {
	if len(exceptions) == 0 && len(cancelled) == 0 {
		return raw, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode series master: %w", err)
	}
	var err error
	if len(exceptions) > 0 {
		if m[export.AnnotationExceptions], err = json.Marshal(exceptions); err != nil {
			return nil, err
		}
	}
	if len(cancelled) > 0 {
		if m[export.AnnotationCancelled], err = json.Marshal(cancelled); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}

// restoreSeries gives the series master just created as id the
// exceptions and deleted occurrences its stored JSON raw records: Graph
// creates a series whole, so each recorded exception is written onto its
// occurrence (PATCH) and each deleted occurrence is deleted again.
func (r *restorer) restoreSeries(ctx context.Context, id string, raw []byte) error {
	var rec struct {
		Exceptions []json.RawMessage `json:"@strongroom.exceptions"`
		Cancelled  []string          `json:"@strongroom.cancelledOccurrences"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil || len(rec.Exceptions)+len(rec.Cancelled) == 0 {
		return err
	}
	_, from, to, _ := export.SeriesWindow(raw)
	ri, err := r.c.Request(r.userPath()+"/events/"+url.PathEscape(id)+"/instances", url.Values{
		"startDateTime": {from.UTC().Format(time.RFC3339)}, "endDateTime": {to.UTC().Format(time.RFC3339)}})
	if err != nil {
		return err
	}
	occ := map[time.Time]string{} // original start -> occurrence id
	if _, err := r.c.Pages(ctx, ri, func(raw json.RawMessage) error {
		var in struct{ ID, OriginalStart string }
		if err := json.Unmarshal(raw, &in); err != nil {
			return fmt.Errorf("decode instance: %w", err)
		}
		if t, err := time.Parse(time.RFC3339Nano, in.OriginalStart); err == nil {
			occ[t] = in.ID
		}
		return nil
	}); err != nil {
		return fmt.Errorf("instances of the restored series: %w", err)
	}
	for _, x := range rec.Exceptions {
		var m map[string]any
		if err := json.Unmarshal(x, &m); err != nil {
			return fmt.Errorf("decode exception: %w", err)
		}
		orig := fmt.Sprint(m["originalStart"])
		oid := nearest(occ, orig)
		if oid == "" {
			return fmt.Errorf("exception of %s: no such occurrence in the restored series", orig)
		}
		for _, k := range append(serverOwned, "type", "originalStartTimeZone", "originalEndTimeZone", "recurrence", "isCancelled") {
			delete(m, k)
		}
		if _, err := r.c.WriteJSON(ctx, abstractions.PATCH, r.userPath()+"/events/"+url.PathEscape(oid), m); err != nil {
			return fmt.Errorf("exception of %s: %w", orig, err)
		}
	}
	for _, c := range rec.Cancelled {
		if oid := nearest(occ, c); oid != "" {
			if err := r.deletePath(ctx, r.userPath()+"/events/"+url.PathEscape(oid)); err != nil {
				return fmt.Errorf("deleted occurrence %s: %w", c, err)
			}
		}
	}
	return nil
}

// nearest returns the occurrence whose original start is within
// seriesSlack of the RFC 3339 instant s; "" when none is.
func nearest(occ map[time.Time]string, s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return ""
	}
	for o, id := range occ {
		if d := o.Sub(t); d < seriesSlack && d > -seriesSlack {
			return id
		}
	}
	return ""
}
