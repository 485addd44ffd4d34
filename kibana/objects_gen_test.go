package kibana

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The saved objects are written here in Go, where they can be read and
// reviewed, and rendered to objects.ndjson in the shape of a Kibana 8.x
// export (attributes that Kibana stores as JSON strings are strings).
// TestObjectsFile fails when the file and these definitions differ; -update
// rewrites the file.

var update = flag.Bool("update", false, "rewrite objects.ndjson from the definitions in objects_gen_test.go")

// Versions of the saved object shapes below. Kibana migrates objects of an
// older shape on import and refuses newer ones; these are the versions of
// Kibana's own 8.x sample data, which 8.11 to 8.19 import.
const (
	coreMigrationVersion = "8.8.0"
	panelVersion         = "8.11.0"
)

// failures is the KQL of every failure; the classification fields exist
// only on failures.
const failures = `event.outcome : "failure"`

// searchColumns are the Discover columns of the saved searches.
var searchColumns = []string{
	"service.name", "labels.provider", "http.response.status_code",
	"classification.category", "classification.reason", "error.message", "classification.remediation",
}

// savedSearch is one saved search over the data view.
type savedSearch struct {
	id, title, description, query string
}

var savedSearches = []savedSearch{
	{"sdtriage-failures", "sdtriage: all failures", "Every failed API call, newest first.", failures},
	{"sdtriage-failures-auth", "sdtriage: auth failures", "Missing, invalid, expired or under-privileged credentials, and exhausted credits: the caller's account has to act.", failures + ` and classification.category : "auth"`},
	{"sdtriage-failures-network", "sdtriage: network failures", "DNS, refused or reset connections, timeouts, TLS, proxies and firewalls between the caller and the provider.", failures + ` and classification.category : "network"`},
	{"sdtriage-failures-payload", "sdtriage: payload failures", "Requests the provider rejected as malformed, invalid, too large or against its content policy: the request has to change.", failures + ` and classification.category : "payload"`},
	{"sdtriage-failures-server", "sdtriage: server failures", "Provider-side errors, overload and rate limiting: retry with back-off, or wait.", failures + ` and classification.category : "server"`},
	{"sdtriage-failures-unknown", "sdtriage: unknown failures", "Failures that no rule matched: material for a new rule (ingest classify --explain shows what was tried).", failures + ` and classification.category : "unknown"`},
}

func buildObjects() []map[string]any {
	objs := []map[string]any{dataView()}
	for _, s := range savedSearches {
		objs = append(objs, s.object())
	}
	return append(objs, dashboard())
}

func dataView() map[string]any {
	return map[string]any{
		"type": "index-pattern",
		"id":   DataViewID,
		"attributes": map[string]any{
			"title":         "sdtriage-*",
			"name":          "sdtriage",
			"timeFieldName": "@timestamp",
			"fields":        "[]",
			"fieldAttrs": jsonString(map[string]any{
				"event.duration":             map[string]any{"customLabel": "Latency"},
				"classification.category":    map[string]any{"customLabel": "Category"},
				"classification.reason":      map[string]any{"customLabel": "Reason"},
				"classification.remediation": map[string]any{"customLabel": "Remediation"},
			}),
			"fieldFormatMap": jsonString(map[string]any{
				"event.duration": map[string]any{"id": "duration", "params": map[string]any{
					"inputFormat": "nanoseconds", "outputFormat": "humanizePrecise", "outputPrecision": 1,
				}},
			}),
			"runtimeFieldMap": "{}",
			"sourceFilters":   "[]",
			"typeMeta":        "{}",
			"allowNoIndex":    true,
		},
		"references":           []any{},
		"managed":              false,
		"coreMigrationVersion": coreMigrationVersion,
		"typeMigrationVersion": "8.0.0",
	}
}

func (s savedSearch) object() map[string]any {
	return map[string]any{
		"type": "search",
		"id":   s.id,
		"attributes": map[string]any{
			"title":       s.title,
			"description": s.description,
			"columns":     searchColumns,
			"sort":        [][]string{{"@timestamp", "desc"}},
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": jsonString(map[string]any{
				"query":        kuery(s.query),
				"filter":       []any{},
				"indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
			})},
		},
		"references":           []Reference{{Name: "kibanaSavedObjectMeta.searchSourceJSON.index", Type: "index-pattern", ID: DataViewID}},
		"managed":              false,
		"coreMigrationVersion": coreMigrationVersion,
		"typeMigrationVersion": "7.9.3",
	}
}

// grid is a panel's place on the dashboard's 48-column grid.
type grid struct{ x, y, w, h int }

// dashboard is the overview: metrics on top, then failures over time, top
// reasons, providers and services, the remediation table and the recent
// failures.
func dashboard() map[string]any {
	panels := []lensPanel{
		metric("failures", "Failures", grid{0, 0, 12, 7}, zeroCount("failures", "Failures"), failures),
		metric("failure-rate", "Failure rate", grid{12, 0, 12, 7},
			share("failure-rate", "Failure rate", failures), ""),
		metric("unknown", "Unknown failures (no rule matched)", grid{24, 0, 12, 7},
			zeroCount("unknown", "Unknown failures"), failures+` and classification.category : "unknown"`),
		metric("retryable", "Retryable share of failures", grid{36, 0, 12, 7},
			share("retryable", "Retryable", "classification.retryable : true"), failures),
		xy("over-time", "Failures over time by category", grid{0, 7, 32, 15}, "bar_stacked", failures,
			dateHistogram("time"), count("count", "Failures"), terms("category", "Category", "classification.category", 5, "count")),
		xy("reasons", "Top failure reasons", grid{32, 7, 16, 15}, "bar_horizontal", failures,
			terms("reason", "Reason", "classification.reason", 10, "count"), count("count", "Failures")),
		xy("providers", "Failures by provider", grid{0, 22, 24, 15}, "bar_horizontal_stacked", failures,
			terms("provider", "Provider", "labels.provider", 10, "count"), count("count", "Failures"),
			terms("category", "Category", "classification.category", 5, "count")),
		xy("services", "Failures by service", grid{24, 22, 24, 15}, "bar_horizontal_stacked", failures,
			terms("service", "Service", "service.name", 10, "count"), count("count", "Failures"),
			terms("category", "Category", "classification.category", 5, "count")),
		table("remediation", "What to do: reasons and their remediation", grid{0, 37, 48, 16}, failures,
			terms("category", "Category", "classification.category", 5, "count"),
			terms("reason", "Reason", "classification.reason", 30, "count"),
			terms("remediation", "Remediation", "classification.remediation", 5, "count"),
			terms("retryable", "Retryable", "classification.retryable", 2, "count"),
			count("count", "Failures")),
	}
	var panelsJSON []any
	var refs []Reference
	for i, p := range panels {
		idx := fmt.Sprint(i + 1)
		panelsJSON = append(panelsJSON, p.panel(idx))
		for _, r := range p.refs() {
			r.Name = idx + ":" + r.Name
			refs = append(refs, r)
		}
	}
	// Recent failures: the saved search, by reference.
	idx := fmt.Sprint(len(panels) + 1)
	panelsJSON = append(panelsJSON, map[string]any{
		"version":          panelVersion,
		"type":             "search",
		"gridData":         gridData(grid{0, 53, 48, 20}, idx),
		"panelIndex":       idx,
		"embeddableConfig": map[string]any{"enhancements": map[string]any{}},
		"panelRefName":     "panel_" + idx,
		"title":            "Recent failures",
	})
	refs = append(refs, Reference{Name: idx + ":panel_" + idx, Type: "search", ID: "sdtriage-failures"})

	return map[string]any{
		"type": "dashboard",
		"id":   DashboardID,
		"attributes": map[string]any{
			"title":       "sdtriage: API call failures",
			"description": "Classified failures of Stable Diffusion style image API calls: what fails, why, and what to do about it.",
			"panelsJSON":  jsonString(panelsJSON),
			"optionsJSON": jsonString(map[string]any{
				"useMargins": true, "syncColors": true, "syncCursor": true, "syncTooltips": false, "hidePanelTitles": false,
			}),
			"timeRestore":     true,
			"timeFrom":        "now-7d",
			"timeTo":          "now",
			"refreshInterval": map[string]any{"pause": false, "value": 60000},
			"version":         1,
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": jsonString(map[string]any{
				"query": kuery(""), "filter": []any{},
			})},
		},
		"references":           refs,
		"managed":              false,
		"coreMigrationVersion": coreMigrationVersion,
		"typeMigrationVersion": "8.7.0",
	}
}

// lensPanel is a Lens visualization stored by value in the dashboard, with
// one layer over the data view.
type lensPanel struct {
	id, title, visType, query string
	columns                   []column // in column order
	visualization             map[string]any
	grid                      grid
}

// column is one Lens column; parts are the hidden columns a formula
// compiles to, which come first in the column order.
type column struct {
	id    string
	def   map[string]any
	parts []column
}

func (p lensPanel) layerID() string { return "layer-" + p.id }

func (p lensPanel) refs() []Reference {
	return []Reference{{Name: "indexpattern-datasource-layer-" + p.layerID(), Type: "index-pattern", ID: DataViewID}}
}

func (p lensPanel) panel(idx string) map[string]any {
	cols := map[string]any{}
	var order []string
	var add func(c column)
	add = func(c column) {
		for _, part := range c.parts {
			add(part)
		}
		cols[c.id] = c.def
		order = append(order, c.id)
	}
	for _, c := range p.columns {
		add(c)
	}
	return map[string]any{
		"version":    panelVersion,
		"type":       "lens",
		"gridData":   gridData(p.grid, idx),
		"panelIndex": idx,
		"title":      p.title,
		"embeddableConfig": map[string]any{
			"enhancements":    map[string]any{},
			"hidePanelTitles": false,
			"attributes": map[string]any{
				"title":             p.title,
				"description":       "",
				"visualizationType": p.visType,
				"type":              "lens",
				"references":        p.refs(),
				"state": map[string]any{
					"visualization": p.visualization,
					"query":         kuery(p.query),
					"filters":       []any{},
					"datasourceStates": map[string]any{"formBased": map[string]any{"layers": map[string]any{
						p.layerID(): map[string]any{"columns": cols, "columnOrder": order, "incompleteColumns": map[string]any{}},
					}}},
					"internalReferences": []any{},
					"adHocDataViews":     map[string]any{},
				},
			},
		},
	}
}

func metric(id, title string, g grid, value column, query string) lensPanel {
	p := lensPanel{id: id, title: title, visType: "lnsMetric", query: query, columns: []column{value}, grid: g}
	p.visualization = map[string]any{"layerId": p.layerID(), "layerType": "data", "metricAccessor": value.id}
	return p
}

// xy is a bar chart of value by x, split into colours by the split
// column when one is given.
func xy(id, title string, g grid, series, query string, x, value column, split ...column) lensPanel {
	p := lensPanel{id: id, title: title, visType: "lnsXY", query: query, columns: []column{x}, grid: g}
	layer := map[string]any{
		"layerId": p.layerID(), "layerType": "data", "seriesType": series,
		"xAccessor": x.id, "accessors": []string{value.id}, "position": "top", "showGridlines": false,
	}
	for _, c := range split { // at most one
		p.columns = append(p.columns, c)
		layer["splitAccessor"] = c.id
	}
	p.columns = append(p.columns, value)
	visible := map[string]any{"x": true, "yLeft": true, "yRight": true}
	p.visualization = map[string]any{
		"legend":                       map[string]any{"isVisible": len(split) > 0, "position": "right"},
		"valueLabels":                  "hide",
		"fittingFunction":              "None",
		"preferredSeriesType":          series,
		"axisTitlesVisibilitySettings": map[string]any{"x": false, "yLeft": false, "yRight": true},
		"tickLabelsVisibilitySettings": visible,
		"gridlinesVisibilitySettings":  visible,
		"layers":                       []any{layer},
	}
	return p
}

// table is a data table whose rows are the bucket columns, sorted by the
// last column (the metric).
func table(id, title string, g grid, query string, cols ...column) lensPanel {
	p := lensPanel{id: id, title: title, visType: "lnsDatatable", query: query, columns: cols, grid: g}
	var vcols []any
	for _, c := range cols {
		vcols = append(vcols, map[string]any{"columnId": c.id})
	}
	p.visualization = map[string]any{
		"layerId": p.layerID(), "layerType": "data", "columns": vcols,
		"sorting": map[string]any{"columnId": cols[len(cols)-1].id, "direction": "desc"},
	}
	return p
}

// count counts documents. In charts an empty bucket is a gap (emptyAsNull,
// Lens's default); zeroCount is the variant for numbers and formulas, where
// no document must read 0, not N/A.
func count(id, label string) column {
	return column{id: id, def: map[string]any{
		"label": label, "customLabel": true, "dataType": "number", "operationType": "count",
		"sourceField": "___records___", "isBucketed": false, "scale": "ratio",
		"params": map[string]any{"emptyAsNull": true},
	}}
}

func zeroCount(id, label string) column {
	c := count(id, label)
	c.def["params"] = map[string]any{"emptyAsNull": false}
	return c
}

func dateHistogram(id string) column {
	return column{id: id, def: map[string]any{
		"label": "@timestamp", "dataType": "date", "operationType": "date_histogram",
		"sourceField": "@timestamp", "isBucketed": true, "scale": "interval",
		"params": map[string]any{"interval": "auto", "includeEmptyRows": true, "dropPartials": false},
	}}
}

// fieldTypes are the Lens data types of the fields the panels bucket by.
var fieldTypes = map[string]string{"classification.retryable": "boolean"}

func terms(id, label, field string, size int, orderBy string) column {
	dataType := fieldTypes[field]
	if dataType == "" {
		dataType = "string"
	}
	return column{id: id, def: map[string]any{
		"label": label, "customLabel": true, "dataType": dataType, "operationType": "terms",
		"sourceField": field, "isBucketed": true, "scale": "ordinal",
		"params": map[string]any{
			"size": size, "orderBy": map[string]any{"type": "column", "columnId": orderBy},
			"orderDirection": "desc", "otherBucket": true, "missingBucket": false,
			"parentFormat": map[string]any{"id": "terms"},
		},
	}}
}

// share is the Lens formula count(kql='<kql>') / count(), as a
// percentage: the share of the documents in view that match kql. Lens
// stores a formula with the columns it compiles to: the two counts and
// the division.
func share(id, label, kql string) column {
	formula := fmt.Sprintf("count(kql='%s') / count()", kql)
	matching := zeroCount(id+"X0", "Part of "+label)
	matching.def["filter"] = kuery(kql)
	all := zeroCount(id+"X1", "Part of "+label)
	div := column{id: id + "X2", def: map[string]any{
		"label": "Part of " + label, "customLabel": true, "dataType": "number", "operationType": "math",
		"isBucketed": false, "scale": "ratio",
		"params": map[string]any{"tinymathAst": map[string]any{
			"type": "function", "name": "divide", "args": []string{matching.id, all.id},
			"location": map[string]any{"min": 0, "max": len(formula)}, "text": formula,
		}},
		"references": []string{matching.id, all.id},
	}}
	return column{id: id, parts: []column{matching, all, div}, def: map[string]any{
		"label": label, "customLabel": true, "dataType": "number", "operationType": "formula",
		"isBucketed": false, "scale": "ratio",
		"params": map[string]any{
			"formula": formula, "isFormulaBroken": false,
			"format": map[string]any{"id": "percent", "params": map[string]any{"decimals": 1}},
		},
		"references": []string{div.id},
	}}
}

func gridData(g grid, idx string) map[string]any {
	return map[string]any{"x": g.x, "y": g.y, "w": g.w, "h": g.h, "i": idx}
}

func kuery(q string) map[string]any { return map[string]any{"query": q, "language": "kuery"} }

// jsonString encodes v as the JSON string Kibana stores in attributes
// such as panelsJSON and searchSourceJSON.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// renderObjects writes objs as NDJSON, one object per line.
func renderObjects(objs []map[string]any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, o := range objs {
		if err := enc.Encode(o); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}

// TestObjectsFile checks that objects.ndjson is rendered from the
// definitions above; with -update it rewrites the file.
func TestObjectsFile(t *testing.T) {
	want := renderObjects(buildObjects())
	if *update {
		if err := os.WriteFile("objects.ndjson", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("objects.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("objects.ndjson line %d differs from the definitions in objects_gen_test.go; run go test ./kibana -run TestObjectsFile -update", i+1)
			}
		}
		t.Fatalf("objects.ndjson has %d lines, the definitions %d; run go test ./kibana -run TestObjectsFile -update", len(gl), len(wl))
	}
}
