package kibana

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeKibana checks a request the way Kibana's saved objects import API
// documents it (POST <base>/api/saved_objects/_import?overwrite=true,
// header kbn-xsrf, multipart/form-data with the file in the field "file",
// named *.ndjson) and answers with its reply, or with Kibana's 400 answer
// to what it would reject.
type fakeKibana struct {
	t        *testing.T
	path     string // expected path, with base path and space
	auth     string // expected Authorization header
	status   int
	reply    string
	received atomic.Int32
	file     atomic.Value // []byte
}

func (k *fakeKibana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.received.Add(1)
	bad := func(format string, args ...any) {
		k.t.Errorf("import request: "+format, args...)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"statusCode":400,"error":"Bad Request","message":%q}`, fmt.Sprintf(format, args...))
	}
	if r.Method != http.MethodPost || r.URL.Path != k.path {
		bad("%s %s, want POST %s", r.Method, r.URL.Path, k.path)
		return
	}
	if q := r.URL.Query(); q.Get("overwrite") != "true" || q.Has("createNewCopies") {
		bad("query %q, want overwrite=true without createNewCopies", r.URL.RawQuery)
		return
	}
	if r.Header.Get("kbn-xsrf") == "" {
		bad("no kbn-xsrf header")
		return
	}
	if got := r.Header.Get("Authorization"); got != k.auth {
		bad("Authorization %q, want %q", got, k.auth)
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		bad("Content-Type %q, want multipart/form-data", r.Header.Get("Content-Type"))
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		bad("%v", err)
		return
	}
	parts := 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad("multipart: %v", err)
			return
		}
		parts++
		if p.FormName() != "file" || !strings.HasSuffix(p.FileName(), ".ndjson") {
			bad("part %q file %q, want the field file with a .ndjson file name", p.FormName(), p.FileName())
			return
		}
		b, _ := io.ReadAll(p)
		k.file.Store(b)
	}
	if parts != 1 {
		bad("%d parts, want one", parts)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(k.status)
	io.WriteString(w, k.reply)
}

func TestImport(t *testing.T) {
	objects, err := Objects("sdtriage")
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(objects), "\n")
	ok := fmt.Sprintf(`{"success":true,"successCount":%d,"successResults":[]}`, n)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("elastic:s3cret"))
	for _, tc := range []struct {
		name     string
		base     string // appended to the server's URL
		path     string
		creds    Credentials
		auth     string
		status   int
		reply    string
		wantErr  string
		wantSucc int
	}{
		{name: "api key", path: "/api/saved_objects/_import", creds: Credentials{APIKey: "aWQ6a2V5"}, auth: "ApiKey aWQ6a2V5", status: 200, reply: ok, wantSucc: n},
		{name: "basic auth, base path and space", base: "/kibana/s/ops/", path: "/kibana/s/ops/api/saved_objects/_import",
			creds: Credentials{Username: "elastic", Password: "s3cret"}, auth: basic, status: 200, reply: ok, wantSucc: n},
		{name: "no security", path: "/api/saved_objects/_import", status: 200, reply: ok, wantSucc: n},
		{name: "objects rejected", path: "/api/saved_objects/_import", status: 200,
			reply: `{"success":false,"successCount":8,"errors":[` +
				`{"id":"sdtriage-overview","type":"dashboard","title":"sdtriage: API call failures","meta":{},"error":{"type":"missing_references","references":[{"type":"search","id":"sdtriage-failures"}]}},` +
				`{"id":"x","type":"lens","error":{"type":"unsupported_type"}}]}`,
			wantErr: `8 objects imported, 2 failed:
  dashboard "sdtriage-overview" (sdtriage: API call failures): missing_references; missing search "sdtriage-failures"
  lens "x": unsupported_type`},
		{name: "bad request", path: "/api/saved_objects/_import", status: 400,
			reply:   `{"statusCode":400,"error":"Bad Request","message":"Invalid file extension .txt"}`,
			wantErr: "HTTP 400: Invalid file extension .txt"},
		{name: "unauthorized", path: "/api/saved_objects/_import", status: 401,
			reply:   `{"statusCode":401,"error":"Unauthorized","message":"[security_exception] unable to authenticate"}`,
			wantErr: "HTTP 401: [security_exception] unable to authenticate (check ELASTICSEARCH_API_KEY"},
		{name: "not Kibana", path: "/api/saved_objects/_import", status: 200, reply: `<html>proxy</html>`,
			wantErr: "the answer is not Kibana's import result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &fakeKibana{t: t, path: tc.path, auth: tc.auth, status: tc.status, reply: tc.reply}
			srv := httptest.NewServer(k)
			defer srv.Close()
			res, err := Import(context.Background(), srv.Client(), srv.URL+tc.base, tc.creds, objects)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Import: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Import error = %v, want it to contain %q", err, tc.wantErr)
			}
			if res.SuccessCount != tc.wantSucc && tc.wantErr == "" {
				t.Errorf("SuccessCount = %d, want %d", res.SuccessCount, tc.wantSucc)
			}
			if got, _ := k.file.Load().([]byte); string(got) != string(objects) {
				t.Errorf("Kibana received a file of %d bytes that differs from the %d bytes given", len(got), len(objects))
			}
			if k.received.Load() != 1 {
				t.Errorf("%d requests, want 1", k.received.Load())
			}
		})
	}
}

// TestImportWaitsForKibana: a Kibana that is still starting answers 503
// (and before that refuses connections); Import tries again until it is
// ready, or until the context ends.
func TestImportWaitsForKibana(t *testing.T) {
	defer func(d time.Duration) { retryEvery = d }(retryEvery)
	retryEvery = 10 * time.Millisecond

	ready := &fakeKibana{t: t, path: "/api/saved_objects/_import", status: 200, reply: `{"success":true,"successCount":1}`}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"statusCode":503,"error":"Service Unavailable","message":"Kibana server is not ready yet"}`)
			return
		}
		ready.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Import(ctx, srv.Client(), srv.URL, Credentials{}, []byte(`{"type":"x","id":"y","attributes":{}}`+"\n")); err != nil {
		t.Fatalf("Import: %v", err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d requests, want 3 (two 503, then success)", calls.Load())
	}

	// Nothing listens: retried until the deadline, then the last error.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Import(ctx, nil, url, Credentials{}, []byte("{}"))
	if err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("Import against a closed port: %v, want an error after giving up", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %s, want at the 100ms deadline", d)
	}
}
