package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

// fill sets every exported field reachable from v to a value that is not
// its zero: slices and maps get one element, pointers a target.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		v.SetMapIndex(k, e)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), depth+1)
		}
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(3)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	}
}

// omitted are the fields the agent has that the wire leaves out, by their
// JSON path.
var omitted = map[string][]string{
	"Status": {"vault.latest_snapshot.item_list", "vault.latest_snapshot.segments"},
}

func drop(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	if sub, ok := m[path[0]].(map[string]any); ok {
		drop(sub, path[1:])
	}
}

func generic(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// sameOnTheWire checks that every field of from, filled in, decodes
// strictly into to's type (no field unknown to it) and encodes back to
// the same JSON (no field lost or changed in type).
func sameOnTheWire(t *testing.T, name string, from, to any) {
	t.Helper()
	src := reflect.New(reflect.TypeOf(from)).Elem()
	fill(src, 0)
	b, err := json.Marshal(src.Interface())
	if err != nil {
		t.Fatal(err)
	}
	want := generic(t, b)
	if m, ok := want.(map[string]any); ok {
		for _, p := range omitted[name] {
			drop(m, splitPath(p))
		}
		b, _ = json.Marshal(m)
	}
	dst := reflect.New(reflect.TypeOf(to))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst.Interface()); err != nil {
		t.Errorf("%s: the wire type does not take every field the agent sends: %v", name, err)
		return
	}
	back, err := json.Marshal(dst.Interface())
	if err != nil {
		t.Fatal(err)
	}
	if got := generic(t, back); !reflect.DeepEqual(got, generic(t, b)) {
		t.Errorf("%s: changed on the wire:\n sent %s\n got  %s", name, b, back)
	}
}

func splitPath(p string) []string { return bytes2strings(bytes.Split([]byte(p), []byte("."))) }

func bytes2strings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func TestWireTypesCarryEveryAgentField(t *testing.T) {
	results := map[string][2]any{
		"Status":            {agent.Status{}, Status{}},
		"BackupReport":      {agent.BackupReport{}, BackupReport{}},
		"SnapshotSummary":   {agent.SnapshotSummary{}, SnapshotSummary{}},
		"Node":              {catalog.Node{}, Node{}},
		"Entry":             {catalog.Entry{}, Entry{}},
		"RestoreReport":     {agent.RestoreReport{}, RestoreReport{}},
		"RollbackReport":    {agent.RollbackReport{}, RollbackReport{}},
		"ExportReport":      {agent.ExportReport{}, ExportReport{}},
		"RestoreTestReport": {agent.RestoreTestReport{}, RestoreTestReport{}},
		"ScrubReport":       {vault.ScrubReport{}, ScrubReport{}},
		"Report":            {agent.Report{}, Report{}},
		"RetentionChange":   {agent.RetentionChange{}, RetentionChange{}},
	}
	for name, p := range results {
		sameOnTheWire(t, name, p[0], p[1])
	}
	// Requests travel the other way: every field a client can set reaches
	// the agent.
	requests := map[string][2]any{
		"BackupRequest":   {BackupRequest{}, agent.BackupRequest{}},
		"RestoreRequest":  {RestoreRequest{}, agent.RestoreRequest{}},
		"RollbackRequest": {RollbackRequest{}, agent.RollbackRequest{}},
		"ExportRequest":   {ExportRequest{}, agent.ExportRequest{}},
		"Query":           {Query{}, catalog.Query{}},
	}
	for name, p := range requests {
		sameOnTheWire(t, name, p[0], p[1])
	}
}

func TestVocabularyMatchesTheAgent(t *testing.T) {
	pairs := map[string][2]string{
		"UnitBackedUp": {string(UnitBackedUp), string(agent.UnitBackedUp)},
		"UnitFailed":   {string(UnitFailed), string(agent.UnitFailed)},
		"UnitDeparted": {string(UnitDeparted), string(agent.UnitDeparted)},
		"UnitCarried":  {string(UnitCarried), string(agent.UnitCarried)},
		"UnitNoData":   {string(UnitNoData), string(agent.UnitNoData)},
		"RunSuccess":   {string(RunSuccess), string(agent.RunSuccess)},
		"RunPartial":   {string(RunPartial), string(agent.RunPartial)},
		"RunFailed":    {string(RunFailed), string(agent.RunFailed)},
		"MetaKind":     {MetaKind, catalog.MetaKind},
		"MetaWorkload": {MetaWorkload, catalog.MetaWorkload},
		"MetaUser":     {MetaUser, catalog.MetaUser},
		"MetaFolder":   {MetaFolder, catalog.MetaFolder},
		"MetaSubject":  {MetaSubject, catalog.MetaSubject},
		"MetaFrom":     {MetaFrom, catalog.MetaFrom},
		"MetaDate":     {MetaDate, catalog.MetaDate},
		"MetaVersion":  {MetaVersion, catalog.MetaVersion},
	}
	for name, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("%s: the wire says %q, the agent %q", name, p[0], p[1])
		}
	}
}
