// Package kibana ships sdtriage's Kibana saved objects (a data view, saved
// searches and a dashboard, as the NDJSON that Kibana's export writes) and
// imports them through Kibana's saved objects import API, so that failures
// are queryable in Kibana without hand-made index patterns or dashboards.
//
// The objects have fixed ids and are imported with overwrite=true: running
// the import again replaces them in place, it never adds copies.
package kibana

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// objectsNDJSON is the saved objects file, generated from the definitions
// in objects_gen_test.go (go test ./kibana -run TestObjectsFile -update).
//
//go:embed objects.ndjson
var objectsNDJSON []byte

// DataViewID is the id of the data view every other object refers to.
const DataViewID = "sdtriage"

// DashboardID is the id of the overview dashboard, for links such as
// <kibana>/app/dashboards#/view/sdtriage-overview.
const DashboardID = "sdtriage-overview"

// Object is one saved object: one line of an export file.
type Object struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Attributes json.RawMessage `json:"attributes"`
	References []Reference     `json:"references"`
}

// Reference names another saved object by type and id.
type Reference struct {
	Name string `json:"name"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Parse reads an NDJSON saved objects file. Blank lines are skipped, and
// so is the summary line that Kibana's export appends (it has
// exportedCount and no type). Every object needs a type, an id and
// attributes; the errors say which line lacks what.
func Parse(ndjson []byte) ([]Object, error) {
	var objs []Object
	var errs []error
	for n, line := range bytes.Split(ndjson, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var o struct {
			Object
			ExportedCount *int `json:"exportedCount"`
		}
		if err := json.Unmarshal(line, &o); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n+1, err))
			continue
		}
		if o.ExportedCount != nil && o.Type == "" {
			continue
		}
		switch {
		case o.Type == "":
			errs = append(errs, fmt.Errorf("line %d: object without a type", n+1))
		case o.ID == "":
			errs = append(errs, fmt.Errorf("line %d: %s without an id", n+1, o.Type))
		case len(o.Attributes) == 0 || o.Attributes[0] != '{':
			errs = append(errs, fmt.Errorf("line %d: %s %q: attributes must be an object", n+1, o.Type, o.ID))
		default:
			objs = append(objs, o.Object)
		}
	}
	return objs, errors.Join(errs...)
}

// Objects returns the shipped saved objects as NDJSON, with the data view
// over indexPrefix's daily indices (<indexPrefix>-*, ELASTICSEARCH_INDEX).
// The ids do not change with the prefix: one Kibana space holds one
// sdtriage deployment.
func Objects(indexPrefix string) ([]byte, error) {
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(objectsNDJSON, []byte("\n")) {
		var head struct{ Type, ID string }
		if err := json.Unmarshal(line, &head); err != nil || head.Type != "index-pattern" || head.ID != DataViewID {
			out.Write(line)
			continue
		}
		var o map[string]json.RawMessage
		var attrs map[string]any
		if err := json.Unmarshal(line, &o); err != nil {
			return nil, fmt.Errorf("data view %s: %w", DataViewID, err)
		}
		if err := json.Unmarshal(o["attributes"], &attrs); err != nil {
			return nil, fmt.Errorf("data view %s: %w", DataViewID, err)
		}
		attrs["title"] = indexPrefix + "-*"
		attrs["name"] = indexPrefix
		b, err := json.Marshal(attrs)
		if err != nil {
			return nil, err
		}
		o["attributes"] = b
		if b, err = json.Marshal(o); err != nil {
			return nil, err
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// Credentials authenticate to Kibana, like those of Elasticsearch: an API
// key (base64 of id:key, sent as "Authorization: ApiKey ...") or a user
// and password (basic authentication), or neither for a Kibana without
// security.
type Credentials struct {
	APIKey             string
	Username, Password string
}

// Result is Kibana's answer to an import.
type Result struct {
	Success      bool          `json:"success"`
	SuccessCount int           `json:"successCount"`
	Errors       []ImportError `json:"errors"`
}

// ImportError is one object Kibana did not import, and why.
type ImportError struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Title string `json:"title"`
	Error struct {
		Type       string      `json:"type"` // conflict, missing_references, unsupported_type, unknown
		Message    string      `json:"message"`
		References []Reference `json:"references"` // the missing ones, for missing_references
	} `json:"error"`
}

func (e ImportError) String() string {
	s := fmt.Sprintf("%s %q", e.Type, e.ID)
	if e.Title != "" {
		s += fmt.Sprintf(" (%s)", e.Title)
	}
	s += ": " + e.Error.Type
	if e.Error.Message != "" {
		s += ": " + e.Error.Message
	}
	for _, r := range e.Error.References {
		s += fmt.Sprintf("; missing %s %q", r.Type, r.ID)
	}
	return s
}

// retryEvery is the pause between attempts while Kibana is starting.
var retryEvery = 2 * time.Second

// Import posts objects (NDJSON) to baseURL's saved objects import API with
// overwrite=true, the way Kibana documents it: multipart/form-data with
// the file in the field "file" (its name must end in .ndjson) and the
// header kbn-xsrf. baseURL is Kibana's address with its base path and,
// for a space other than the default, /s/<space>. client nil means
// http.DefaultClient.
//
// While Kibana cannot be reached or answers 503 (it does until it has
// finished starting), Import tries again every two seconds until ctx is
// done. A result that is not a success is returned with an error listing
// each object that failed.
func Import(ctx context.Context, client *http.Client, baseURL string, creds Credentials, objects []byte) (Result, error) {
	if client == nil {
		client = http.DefaultClient
	}
	body, contentType := importBody(objects)
	endpoint := strings.TrimRight(baseURL, "/") + "/api/saved_objects/_import?overwrite=true"
	for {
		res, retry, err := importOnce(ctx, client, endpoint, creds, body, contentType)
		if !retry {
			return res, err
		}
		t := time.NewTimer(retryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("%w (gave up: %v)", err, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// importBody encodes objects as the multipart form Kibana expects.
func importBody(objects []byte) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="sdtriage.ndjson"`)
	h.Set("Content-Type", "application/ndjson")
	part, _ := w.CreatePart(h) // writes to a bytes.Buffer: cannot fail
	part.Write(objects)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// importOnce makes one attempt; retry is set when another can succeed
// (Import stops anyway once ctx is done).
func importOnce(ctx context.Context, client *http.Client, endpoint string, creds Credentials, body []byte, contentType string) (res Result, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return res, false, fmt.Errorf("kibana import: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("kbn-xsrf", "true")
	switch {
	case creds.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+creds.APIKey)
	case creds.Username != "":
		req.SetBasicAuth(creds.Username, creds.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return res, true, fmt.Errorf("kibana import: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return res, true, fmt.Errorf("kibana import: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("kibana import: %s: HTTP %d: %s", endpoint, resp.StatusCode, errorMessage(b))
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			err = fmt.Errorf("%w (check ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD: Kibana takes the same credentials)", err)
		case http.StatusNotFound:
			err = fmt.Errorf("%w (is this Kibana's address, with its base path and space?)", err)
		}
		return res, resp.StatusCode == http.StatusServiceUnavailable, err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, false, fmt.Errorf("kibana import: the answer is not Kibana's import result: %w: %.200q", err, b)
	}
	if !res.Success {
		msgs := make([]string, 0, len(res.Errors))
		for _, e := range res.Errors {
			msgs = append(msgs, "\n  "+e.String())
		}
		return res, false, fmt.Errorf("kibana import: %d objects imported, %d failed:%s", res.SuccessCount, len(res.Errors), strings.Join(msgs, ""))
	}
	return res, false, nil
}

// errorMessage extracts the message of a Kibana error answer
// ({"statusCode":400,"error":"Bad Request","message":"..."}), or returns
// the start of the body.
func errorMessage(b []byte) string {
	var e struct{ Error, Message string }
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		return e.Message
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return strings.TrimSpace(string(b))
}
