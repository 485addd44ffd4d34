package kibana

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sdtriage/sdtriage/pipeline"
	"github.com/sdtriage/sdtriage/rules"
)

// These tests hold the shipped objects to the index template: Kibana
// cannot run here, so whatever would break in it (a field the mapping
// lacks, a text field in an aggregation, a reference to nothing) has to
// be caught by reading the objects.

// mappedFields flattens the index template's mapping into field path ->
// type, with multi-fields (error.message.keyword) as their own paths.
func mappedFields(t *testing.T) map[string]string {
	t.Helper()
	tmpl := pipeline.Template("sdtriage", "")
	b, err := json.Marshal(tmpl["template"].(map[string]any)["mappings"])
	if err != nil {
		t.Fatal(err)
	}
	type prop struct {
		Type       string          `json:"type"`
		Enabled    *bool           `json:"enabled"`
		Properties json.RawMessage `json:"properties"`
		Fields     json.RawMessage `json:"fields"`
	}
	fields := map[string]string{}
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		var props map[string]prop
		if err := json.Unmarshal(raw, &props); err != nil {
			t.Fatalf("mapping of %q: %v", prefix, err)
		}
		for name, p := range props {
			path := prefix + name
			switch {
			case p.Properties != nil:
				walk(path+".", p.Properties)
			case p.Enabled != nil && !*p.Enabled:
				fields[path] = "disabled object"
			default:
				fields[path] = p.Type
			}
			if p.Fields != nil {
				walk(path+".", p.Fields)
			}
		}
	}
	var root prop
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	walk("", root.Properties)
	return fields
}

// aggregatable are the mapping types Kibana can aggregate and sort on
// (doc values).
var aggregatable = map[string]bool{
	"keyword": true, "long": true, "integer": true, "short": true, "byte": true,
	"double": true, "float": true, "date": true, "date_nanos": true, "boolean": true, "ip": true,
}

// fieldUse is one use of a field by an object.
type fieldUse struct {
	where, field string
	aggregated   bool
}

// kqlTerm is one `field : value` (or a range, `field >= value`) of a KQL
// query.
var kqlTerm = regexp.MustCompile(`([@\w.]+)\s*(:|>=|<=|>|<)\s*("(?:[^"\\]|\\.)*"|[^\s()"]+)`)

// kqlFields returns the field : value pairs of a KQL query made of such
// terms, and/or/not and parentheses; anything else (free text, wildcards
// in field names) is an error, so that no field goes unchecked. Range
// terms are returned with the operator before the value (">=500").
func kqlFields(q string) ([][2]string, error) {
	var pairs [][2]string
	for _, m := range kqlTerm.FindAllStringSubmatch(q, -1) {
		op := m[2]
		if op == ":" {
			op = ""
		}
		pairs = append(pairs, [2]string{m[1], op + strings.Trim(m[3], `"`)})
	}
	for _, w := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(kqlTerm.ReplaceAllString(q, " "))) {
		if w != "and" && w != "or" && w != "not" {
			return nil, fmt.Errorf("KQL %q: %q is not a field : value term", q, w)
		}
	}
	return pairs, nil
}

func TestKQLFields(t *testing.T) {
	for _, tc := range []struct {
		q       string
		want    [][2]string
		wantErr bool
	}{
		{q: ``},
		{q: `event.outcome : "failure"`, want: [][2]string{{"event.outcome", "failure"}}},
		{q: `event.outcome:"failure" and (labels.provider : stability or not service.name : "a:b c")`,
			want: [][2]string{{"event.outcome", "failure"}, {"labels.provider", "stability"}, {"service.name", "a:b c"}}},
		{q: `@timestamp : * and classification.retryable : true`, want: [][2]string{{"@timestamp", "*"}, {"classification.retryable", "true"}}},
		{q: `http.response.status_code >= 500 and event.duration<3e10`,
			want: [][2]string{{"http.response.status_code", ">=500"}, {"event.duration", "<3e10"}}},
		{q: `timeout`, wantErr: true},
		{q: `event.outcome : "failure" and timeout`, wantErr: true},
	} {
		got, err := kqlFields(tc.q)
		if (err != nil) != tc.wantErr {
			t.Errorf("kqlFields(%q) error = %v, want error %v", tc.q, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && !slices.Equal(got, tc.want) {
			t.Errorf("kqlFields(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

// knownValues are the values a KQL term may compare these fields with.
func knownValues() map[string][]string {
	var cats, reasons []string
	for _, c := range rules.Categories() {
		cats = append(cats, string(c))
		reasons = append(reasons, rules.Reasons(c)...)
	}
	return map[string][]string{
		"event.outcome":            {"success", "failure"},
		"classification.category":  cats,
		"classification.reason":    reasons,
		"classification.retryable": {"true", "false"},
	}
}

// checkKQL records the fields of q and checks the values it compares
// known fields with.
func checkKQL(t *testing.T, where, q string, uses *[]fieldUse) {
	t.Helper()
	pairs, err := kqlFields(q)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	for _, p := range pairs {
		*uses = append(*uses, fieldUse{where: where + " query", field: p[0]})
		if vals, ok := knownValues()[p[0]]; ok && !slices.Contains(vals, p[1]) {
			t.Errorf("%s: KQL %q compares %s with %q, which it never holds (known: %s)", where, q, p[0], p[1], strings.Join(vals, ", "))
		}
		if p[0] == "classification.rule_id" {
			prefix, wildcard := strings.CutSuffix(p[1], "*")
			if !slices.ContainsFunc(rules.Default().Rules, func(r rules.Rule) bool {
				return r.ID == p[1] || (wildcard && strings.HasPrefix(r.ID, prefix))
			}) {
				t.Errorf("%s: KQL %q: no default rule has the id %q", where, q, p[1])
			}
		}
	}
}

// shippedObjects parses the embedded file.
func shippedObjects(t *testing.T) []Object {
	t.Helper()
	objs, err := Parse(objectsNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func attrs(t *testing.T, o Object, v any) {
	t.Helper()
	if err := json.Unmarshal(o.Attributes, v); err != nil {
		t.Fatalf("%s %s: attributes: %v", o.Type, o.ID, err)
	}
}

func unmarshalString(t *testing.T, where, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
}

// searchSource is the part of searchSourceJSON the objects use.
type searchSource struct {
	Query        struct{ Query, Language string }
	Filter       []any
	IndexRefName string
}

// lensState is the part of a Lens visualization the tests read.
type lensState struct {
	Title             string
	VisualizationType string
	References        []Reference
	State             struct {
		Visualization    json.RawMessage
		Query            struct{ Query, Language string }
		DatasourceStates struct {
			FormBased struct {
				Layers map[string]struct {
					Columns     map[string]lensColumn
					ColumnOrder []string
				}
			}
		}
	}
}

type lensColumn struct {
	OperationType string
	SourceField   string
	DataType      string
	IsBucketed    bool
	Filter        *struct{ Query, Language string }
	References    []string
	Params        struct {
		Formula string
		OrderBy *struct{ Type, ColumnID string }
	}
}

type panel struct {
	Type         string
	PanelIndex   string
	PanelRefName string
	Title        string
	GridData     struct {
		X, Y, W, H int
		I          string
	}
	EmbeddableConfig struct {
		Attributes *lensState
	}
}

// objectFieldUses collects every field the objects use, checking on the
// way the query language, the Lens column structure and the references
// that live inside attributes.
func objectFieldUses(t *testing.T, objs []Object) []fieldUse {
	var uses []fieldUse
	for _, o := range objs {
		where := o.Type + " " + o.ID
		switch o.Type {
		case "index-pattern":
			var a struct{ Title, TimeFieldName, FieldFormatMap, FieldAttrs string }
			attrs(t, o, &a)
			uses = append(uses, fieldUse{where: where + " timeFieldName", field: a.TimeFieldName, aggregated: true})
			for _, s := range []string{a.FieldFormatMap, a.FieldAttrs} {
				var m map[string]any
				unmarshalString(t, where, s, &m)
				for f := range m {
					uses = append(uses, fieldUse{where: where + " field attributes", field: f})
				}
			}
		case "search":
			var a struct {
				Columns               []string
				Sort                  [][]string
				KibanaSavedObjectMeta struct{ SearchSourceJSON string }
			}
			attrs(t, o, &a)
			for _, c := range a.Columns {
				uses = append(uses, fieldUse{where: where + " column", field: c})
			}
			for _, s := range a.Sort {
				if len(s) != 2 || (s[1] != "asc" && s[1] != "desc") {
					t.Errorf("%s: sort %q is not [field, asc|desc]", where, s)
					continue
				}
				uses = append(uses, fieldUse{where: where + " sort", field: s[0], aggregated: true})
			}
			var ss searchSource
			unmarshalString(t, where+" searchSourceJSON", a.KibanaSavedObjectMeta.SearchSourceJSON, &ss)
			if ss.Query.Language != "kuery" {
				t.Errorf("%s: query language %q, want kuery", where, ss.Query.Language)
			}
			checkKQL(t, where, ss.Query.Query, &uses)
			if !slices.ContainsFunc(o.References, func(r Reference) bool { return r.Name == ss.IndexRefName && r.Type == "index-pattern" }) {
				t.Errorf("%s: indexRefName %q has no index-pattern reference", where, ss.IndexRefName)
			}
		case "dashboard":
			var a struct{ PanelsJSON string }
			attrs(t, o, &a)
			var panels []panel
			unmarshalString(t, where+" panelsJSON", a.PanelsJSON, &panels)
			for _, p := range panels {
				uses = append(uses, panelFieldUses(t, o, p)...)
			}
		default:
			t.Errorf("%s: unexpected type", where)
		}
	}
	return uses
}

// panelFieldUses checks one dashboard panel and returns its fields.
func panelFieldUses(t *testing.T, dash Object, p panel) []fieldUse {
	where := fmt.Sprintf("dashboard %s panel %s (%s)", dash.ID, p.PanelIndex, p.Title)
	hasRef := func(name, typ string) bool {
		return slices.ContainsFunc(dash.References, func(r Reference) bool { return r.Name == p.PanelIndex+":"+name && r.Type == typ })
	}
	var uses []fieldUse
	switch p.Type {
	case "search":
		if p.PanelRefName == "" || !hasRef(p.PanelRefName, "search") {
			t.Errorf("%s: panelRefName %q has no search reference %q", where, p.PanelRefName, p.PanelIndex+":"+p.PanelRefName)
		}
	case "lens":
		l := p.EmbeddableConfig.Attributes
		if l == nil {
			t.Errorf("%s: a Lens panel by value needs embeddableConfig.attributes", where)
			return nil
		}
		if l.State.Query.Language != "kuery" {
			t.Errorf("%s: query language %q, want kuery", where, l.State.Query.Language)
		}
		checkKQL(t, where, l.State.Query.Query, &uses)
		if len(l.State.DatasourceStates.FormBased.Layers) == 0 {
			t.Errorf("%s: no formBased layer", where)
		}
		for id, layer := range l.State.DatasourceStates.FormBased.Layers {
			ref := "indexpattern-datasource-layer-" + id
			if !slices.ContainsFunc(l.References, func(r Reference) bool { return r.Name == ref && r.Type == "index-pattern" }) {
				t.Errorf("%s: layer %s has no reference %q in the Lens attributes", where, id, ref)
			}
			if !hasRef(ref, "index-pattern") {
				t.Errorf("%s: layer %s has no dashboard reference %q", where, id, p.PanelIndex+":"+ref)
			}
			order := slices.Clone(layer.ColumnOrder)
			sort.Strings(order)
			var ids []string
			for cid := range layer.Columns {
				ids = append(ids, cid)
			}
			sort.Strings(ids)
			if !slices.Equal(order, ids) {
				t.Errorf("%s: columnOrder %q and columns %q differ", where, layer.ColumnOrder, ids)
			}
			for cid, c := range layer.Columns {
				cw := where + " column " + cid
				for _, r := range c.References {
					if _, ok := layer.Columns[r]; !ok {
						t.Errorf("%s: references missing column %q", cw, r)
					}
				}
				if c.Params.OrderBy != nil && c.Params.OrderBy.Type == "column" {
					if _, ok := layer.Columns[c.Params.OrderBy.ColumnID]; !ok {
						t.Errorf("%s: ordered by missing column %q", cw, c.Params.OrderBy.ColumnID)
					}
				}
				if c.Filter != nil {
					checkKQL(t, cw+" filter", c.Filter.Query, &uses)
				}
				for _, m := range regexp.MustCompile(`kql='([^']*)'`).FindAllStringSubmatch(c.Params.Formula, -1) {
					checkKQL(t, cw+" formula", m[1], &uses)
				}
				switch {
				case c.SourceField == "___records___":
					if c.OperationType != "count" {
						t.Errorf("%s: ___records___ with %s, want count", cw, c.OperationType)
					}
				case c.SourceField != "":
					uses = append(uses, fieldUse{where: cw + " (" + c.OperationType + ")", field: c.SourceField, aggregated: true})
				}
			}
			for _, a := range accessors(t, where, l.State.Visualization) {
				if _, ok := layer.Columns[a]; !ok {
					t.Errorf("%s: the visualization shows column %q, which the layer lacks", where, a)
				}
			}
		}
	default:
		t.Errorf("%s: unexpected panel type %q", where, p.Type)
	}
	return uses
}

// accessors returns the column ids a Lens visualization state shows.
func accessors(t *testing.T, where string, vis json.RawMessage) []string {
	var v struct {
		MetricAccessor string
		Columns        []struct{ ColumnID string }
		Layers         []struct {
			XAccessor, SplitAccessor string
			Accessors                []string
		}
	}
	unmarshalString(t, where+" visualization", string(vis), &v)
	var out []string
	if v.MetricAccessor != "" {
		out = append(out, v.MetricAccessor)
	}
	for _, c := range v.Columns {
		out = append(out, c.ColumnID)
	}
	for _, l := range v.Layers {
		out = append(out, l.Accessors...)
		for _, a := range []string{l.XAccessor, l.SplitAccessor} {
			if a != "" {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		t.Errorf("%s: the visualization shows no column", where)
	}
	return out
}

// TestObjectFieldsAreMapped: every field an object uses is in the index
// template, and aggregated or sorted fields have doc values.
func TestObjectFieldsAreMapped(t *testing.T) {
	fields := mappedFields(t)
	uses := objectFieldUses(t, shippedObjects(t))
	if len(uses) < 20 {
		t.Fatalf("only %d field uses found: the walk over the objects is broken", len(uses))
	}
	for _, u := range uses {
		typ, ok := fields[u.field]
		switch {
		case !ok:
			t.Errorf("%s: field %q is not in the index template (pipeline.Template)", u.where, u.field)
		case typ == "disabled object":
			t.Errorf("%s: field %q is under an object that is not indexed", u.where, u.field)
		case u.aggregated && !aggregatable[typ]:
			t.Errorf("%s: field %q is %s, which Kibana cannot aggregate or sort on", u.where, u.field, typ)
		}
	}
}

func TestMappedFieldsWalk(t *testing.T) {
	fields := mappedFields(t)
	for f, want := range map[string]string{
		"@timestamp": "date", "classification.category": "keyword", "classification.retryable": "boolean",
		"error.message": "text", "error.message.keyword": "keyword", "http.response.status_code": "long", "raw": "disabled object",
	} {
		if got := fields[f]; got != want {
			t.Errorf("mappedFields()[%q] = %q, want %q", f, got, want)
		}
	}
}

// TestReferencesResolve: every reference names an object in the file.
func TestReferencesResolve(t *testing.T) {
	objs := shippedObjects(t)
	have := map[string]bool{}
	for _, o := range objs {
		key := o.Type + "/" + o.ID
		if have[key] {
			t.Errorf("%s appears twice", key)
		}
		have[key] = true
	}
	n := 0
	for _, o := range objs {
		names := map[string]bool{}
		for _, r := range o.References {
			n++
			if !have[r.Type+"/"+r.ID] {
				t.Errorf("%s %s: reference %q to %s %q, which the file lacks", o.Type, o.ID, r.Name, r.Type, r.ID)
			}
			if names[r.Name] {
				t.Errorf("%s %s: reference name %q used twice", o.Type, o.ID, r.Name)
			}
			names[r.Name] = true
		}
	}
	if n == 0 {
		t.Fatal("no reference found")
	}
}

// TestObjectsCoverTheTaxonomy: the saved searches the issue asks for
// exist, one per category, and the data view covers the template's
// indices with @timestamp as its time field.
func TestObjectsCoverTheTaxonomy(t *testing.T) {
	queries := map[string]string{}
	var title, timeField string
	for _, o := range shippedObjects(t) {
		switch o.Type {
		case "search":
			var a struct {
				KibanaSavedObjectMeta struct{ SearchSourceJSON string }
			}
			attrs(t, o, &a)
			var ss searchSource
			unmarshalString(t, o.ID, a.KibanaSavedObjectMeta.SearchSourceJSON, &ss)
			queries[ss.Query.Query] = o.ID
		case "index-pattern":
			var a struct{ Title, TimeFieldName string }
			attrs(t, o, &a)
			title, timeField = a.Title, a.TimeFieldName
		}
	}
	want := []string{failures}
	for _, c := range rules.Categories() {
		want = append(want, fmt.Sprintf(`%s and classification.category : "%s"`, failures, c))
	}
	for _, q := range want {
		if _, ok := queries[q]; !ok {
			t.Errorf("no saved search for %q", q)
		}
	}
	patterns := pipeline.Template("sdtriage", "")["index_patterns"].([]string)
	if title != patterns[0] || timeField != "@timestamp" {
		t.Errorf("data view title %q, time field %q; want %q, @timestamp", title, timeField, patterns[0])
	}
}

// TestDashboardLayout: panels have unique indices and do not overlap on
// the 48-column grid.
func TestDashboardLayout(t *testing.T) {
	for _, o := range shippedObjects(t) {
		if o.Type != "dashboard" {
			continue
		}
		var a struct{ PanelsJSON string }
		attrs(t, o, &a)
		var panels []panel
		unmarshalString(t, o.ID, a.PanelsJSON, &panels)
		cells := map[[2]int]string{}
		for _, p := range panels {
			g := p.GridData
			if g.I != p.PanelIndex || g.X < 0 || g.W <= 0 || g.H <= 0 || g.X+g.W > 48 {
				t.Errorf("panel %s (%s): grid %+v", p.PanelIndex, p.Title, g)
			}
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, ok := cells[[2]int{x, y}]; ok {
						t.Fatalf("panels %s and %s overlap at %d,%d", other, p.PanelIndex, x, y)
					}
					cells[[2]int{x, y}] = p.PanelIndex
				}
			}
		}
	}
}

func TestObjectsPrefix(t *testing.T) {
	b, err := Objects("acme-sd")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(shippedObjects(t)) {
		t.Fatalf("Objects returned %d objects, the file has %d", len(objs), len(shippedObjects(t)))
	}
	for _, o := range objs {
		if o.Type != "index-pattern" {
			continue
		}
		var a struct{ Title, Name, TimeFieldName string }
		attrs(t, o, &a)
		if a.Title != "acme-sd-*" || a.Name != "acme-sd" || a.TimeFieldName != "@timestamp" {
			t.Errorf("data view: %+v, want title acme-sd-*, name acme-sd, the rest kept", a)
		}
	}
	same, err := Objects("sdtriage")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(same); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\"type\":\"search\",\"id\":\"a\",\"attributes\":{}}\n\n{\"exportedCount\":1,\"missingRefCount\":0}\n", ""},
		{"{\"id\":\"a\",\"attributes\":{}}", "line 1: object without a type"},
		{"\n{\"type\":\"search\",\"attributes\":{}}", "line 2: search without an id"},
		{"{\"type\":\"search\",\"id\":\"a\",\"attributes\":\"x\"}", `line 1: search "a": attributes must be an object`},
		{"{\"type\":\"search\",\"id\":\"a\"}", `line 1: search "a": attributes must be an object`},
		{"not json", "line 1: invalid character"},
	} {
		_, err := Parse([]byte(tc.in))
		if tc.want == "" {
			if err != nil {
				t.Errorf("Parse(%q) = %v, want no error", tc.in, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(objectsNDJSON)
	f.Add([]byte("{\"exportedCount\":0}\n{\"type\":\"x\",\"id\":\"y\",\"attributes\":{}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, _ := Parse(b)
		for _, o := range objs {
			if o.Type == "" || o.ID == "" || len(o.Attributes) == 0 || o.Attributes[0] != '{' {
				t.Fatalf("Parse returned an invalid object %+v", o)
			}
		}
	})
}

// kibanaAttributes are the attribute names Kibana 8.x's saved object
// schemas accept for each type (dashboard and data view attributes are
// validated with unknowns forbidden): an attribute outside these makes the
// import fail.
var kibanaAttributes = map[string][]string{
	"index-pattern": {"title", "name", "timeFieldName", "fields", "fieldAttrs", "sourceFilters", "fieldFormatMap",
		"type", "typeMeta", "allowNoIndex", "runtimeFieldMap", "allowHidden"},
	"search": {"title", "description", "columns", "sort", "grid", "rowHeight", "rowsPerPage", "hideChart",
		"breakdownField", "kibanaSavedObjectMeta", "isTextBasedQuery", "usesAdHocDataView", "timeRestore",
		"timeRange", "refreshInterval", "viewMode", "hideAggregatedPreview", "hits", "version"},
	"dashboard": {"title", "description", "kibanaSavedObjectMeta", "timeRestore", "timeFrom", "timeTo",
		"refreshInterval", "controlGroupInput", "panelsJSON", "optionsJSON", "hits", "version"},
}

func TestAttributesKnownToKibana(t *testing.T) {
	for _, o := range shippedObjects(t) {
		var a map[string]json.RawMessage
		attrs(t, o, &a)
		for k := range a {
			if !slices.Contains(kibanaAttributes[o.Type], k) {
				t.Errorf("%s %s: attribute %q is not in Kibana's schema for %s", o.Type, o.ID, k, o.Type)
			}
		}
		if _, ok := a["title"]; !ok {
			t.Errorf("%s %s: no title", o.Type, o.ID)
		}
	}
}
