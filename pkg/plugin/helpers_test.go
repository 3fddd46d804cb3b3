package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// request is what fakeLode saw of one request.
type request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
}

// fakeLode is a recording HTTP server standing in for lode: routes answer by path, every
// request is recorded.
type fakeLode struct {
	*httptest.Server
	mu     sync.Mutex // guards reqs and routes
	reqs   []request
	routes map[string]http.HandlerFunc
}

func newFakeLode(t *testing.T) *fakeLode {
	t.Helper()
	f := &fakeLode{routes: map[string]http.HandlerFunc{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.reqs = append(f.reqs, request{Method: r.Method, Path: r.URL.Path, Query: r.Form, Header: r.Header.Clone()})
		h := f.routes[r.URL.Path]
		f.mu.Unlock()
		if h == nil {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// handle sets the handler of a path ("/loki/api/v1/labels").
func (f *fakeLode) handle(path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[path] = h
}

// reply answers path with status and body.
func (f *fakeLode) reply(path string, status int, body string) {
	f.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// replyFile answers path with a file of testdata.
func (f *fakeLode) replyFile(t *testing.T, path, file string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	f.reply(path, http.StatusOK, string(b))
}

func (f *fakeLode) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func (f *fakeLode) last(t *testing.T) request {
	t.Helper()
	rs := f.requests()
	if len(rs) == 0 {
		t.Fatal("lode saw no request")
	}
	return rs[len(rs)-1]
}

// instance builds instance settings from a URL, jsonData and secureJsonData.
func instance(u, jsonData string, secure map[string]string) backend.DataSourceInstanceSettings {
	if jsonData == "" {
		jsonData = "{}"
	}
	return backend.DataSourceInstanceSettings{
		UID: "lode-uid", Name: "Lode", URL: u, JSONData: json.RawMessage(jsonData),
		DecryptedSecureJSONData: secure, Updated: time.Unix(1, 0),
	}
}

// newTestDatasource builds a datasource on s, failing the test on invalid settings.
func newTestDatasource(t *testing.T, s backend.DataSourceInstanceSettings, o Options) *Datasource {
	t.Helper()
	if o.Logger == nil {
		o.Logger = &captureLogger{}
	}
	d, err := New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Settings(); err != nil {
		t.Fatalf("settings: %v", err)
	}
	t.Cleanup(d.Dispose)
	return d
}

// dataQuery builds a query over [from, to] with the given JSON.
func dataQuery(refID, js string, from, to time.Time) backend.DataQuery {
	return backend.DataQuery{RefID: refID, JSON: json.RawMessage(js), TimeRange: backend.TimeRange{From: from, To: to}, Interval: 15 * time.Second, MaxDataPoints: 1000}
}

func queryOne(t *testing.T, d *Datasource, q backend.DataQuery) backend.DataResponse {
	t.Helper()
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{UID: "lode-uid"}},
		Queries:       []backend.DataQuery{q},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := resp.Responses[q.RefID]
	if !ok {
		t.Fatalf("no response for %s", q.RefID)
	}
	return r
}

// captureLogger keeps every log line as text, to check that no secret is logged.
type captureLogger struct {
	mu    *sync.Mutex
	lines *[]string
	with  []any
}

func (l *captureLogger) init() {
	if l.mu == nil {
		l.mu, l.lines = &sync.Mutex{}, &[]string{}
	}
}

func (l *captureLogger) log(level, msg string, args ...any) {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.lines = append(*l.lines, fmt.Sprint(level, " ", msg, " ", l.with, " ", args))
}

func (l *captureLogger) Debug(msg string, args ...any) { l.log("debug", msg, args...) }
func (l *captureLogger) Info(msg string, args ...any)  { l.log("info", msg, args...) }
func (l *captureLogger) Warn(msg string, args ...any)  { l.log("warn", msg, args...) }
func (l *captureLogger) Error(msg string, args ...any) { l.log("error", msg, args...) }
func (l *captureLogger) With(args ...any) log.Logger {
	l.init()
	return &captureLogger{mu: l.mu, lines: l.lines, with: append(append([]any(nil), l.with...), args...)}
}
func (l *captureLogger) Level() log.Level                       { return log.Debug }
func (l *captureLogger) FromContext(context.Context) log.Logger { return l }

func (l *captureLogger) text() string {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(*l.lines, "\n")
}
