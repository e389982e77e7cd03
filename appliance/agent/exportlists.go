package agent

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

// lists writes each SharePoint list of the selection as one file named
// after it: the stored record as it is (format json), or its items as CSV
// (format csv).
func (x *exporter) lists(ctx context.Context, items []vault.Item) error {
	sort.Slice(items, func(i, j int) bool { return items[i].Meta[catalog.MetaName] < items[j].Meta[catalog.MetaName] })
	used := map[string]bool{}
	for _, it := range items {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		data, err := x.read(it)
		if err != nil {
			return err
		}
		out := data
		if x.format == "csv" {
			if out, err = listCSV(data); err != nil {
				return fmt.Errorf("list %s: %w", it.Meta[catalog.MetaName], err)
			}
		}
		rel := freePath(used, safeName(it.Meta[catalog.MetaName])+"."+x.format, it.Meta[catalog.MetaItemID])
		if err := x.root.WriteFile(rel, out, 0o640); err != nil {
			return err
		}
		x.rep.Files = append(x.rep.Files, filepath.Join(x.dest, rel))
		x.count(data)
	}
	return nil
}

// listCSV turns a stored list record into CSV: a header of the union of
// its items' field names, sorted, then one row per item. Text fields are
// written as they are, other values as JSON, missing ones empty.
func listCSV(record []byte) ([]byte, error) {
	var rec struct {
		Items []struct {
			Fields map[string]json.RawMessage `json:"fields"`
		} `json:"items"`
	}
	if err := json.Unmarshal(record, &rec); err != nil {
		return nil, fmt.Errorf("the stored list is not readable: %w", err)
	}
	seen := map[string]bool{}
	var cols []string
	for _, item := range rec.Items {
		for k := range item.Fields {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(cols); err != nil {
		return nil, err
	}
	row := make([]string, len(cols))
	for _, item := range rec.Items {
		for i, c := range cols {
			row[i] = fieldText(item.Fields[c])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// fieldText is a list field's value as one CSV cell.
func fieldText(raw json.RawMessage) string {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		return compact.String()
	}
	return v
}
