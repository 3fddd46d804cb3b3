package plugin

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestCheckHealth(t *testing.T) {
	labelsOK := func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"success","data":["app","namespace"]}`))
	}
	streamsOK := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(emptyStreams)) }
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, body, code) }
	}
	for _, c := range []struct {
		name          string
		jsonData      string
		labels, query http.HandlerFunc
		ok            bool
		want          string // the message, with {URL} standing for the server address
		wantQuery     string
	}{
		{name: "working", jsonData: `{"tenant":"team-a"}`, labels: labelsOK, query: streamsOK, ok: true,
			want: `Data source is working: lode at {URL} answered a log query for tenant "team-a" (2 labels in the last hour).`, wantQuery: `{app=~".+"}`},
		{name: "no data for tenant", labels: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"status":"success","data":[]}`))
		}, query: streamsOK, ok: true,
			want: "Connected to lode at {URL}, but the default tenant has no logs in the last hour: if you expected data, check the tenant (sent as X-Scope-OrgID) and that agents push to this lode.", wantQuery: `{lode_health_check="probe"}`},
		{name: "missing tenant", labels: status(401, "no org id"),
			want: "lode needs a tenant (401 Unauthorized): enter the tenant, which the plugin sends as X-Scope-OrgID. lode said: no org id"},
		{name: "bad credentials", jsonData: `{"authType":"bearer"}`, labels: status(401, "invalid token"),
			want: "lode rejected the credentials (401 Unauthorized): check the bearer token. lode said: invalid token"},
		{name: "forbidden", jsonData: `{"tenant":"x"}`, labels: status(403, "tenant x not allowed"),
			want: `lode refused access (403 Forbidden): check that these credentials may read tenant "x". lode said: tenant x not allowed`},
		{name: "not an API", labels: nil,
			want: "{URL}/loki/api/v1/labels was not found (404): the URL does not point to a Lode or Loki API; enter the server address (with its path prefix, if any) without the API path."},
		{name: "web page", labels: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<!doctype html><title>Login</title>"))
		}, want: "the server at {URL} answered, but not with the Loki/Lode API (got an HTML page): check that the URL points to lode"},
		{name: "server error", labels: status(500, "index unavailable"),
			want: "lode failed to answer (500 Internal Server Error): check lode's logs. lode said: index unavailable"},
		{name: "query fails", labels: labelsOK, query: status(400, "parse error at line 1, col 2: bad"),
			want: "lode answered but could not run a log query (400 Bad Request). lode said: parse error at line 1, col 2: bad"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lode := newFakeLode(t)
			if c.labels != nil {
				lode.handle("/loki/api/v1/labels", c.labels)
			}
			if c.query != nil {
				lode.handle("/loki/api/v1/query_range", c.query)
			}
			in := instance(lode.URL, c.jsonData, nil)
			if strings.Contains(c.jsonData, "bearer") {
				in.DecryptedSecureJSONData = map[string]string{SecureBearerToken: testToken}
			}
			d := newTestDatasource(t, in, Options{Now: func() time.Time { return t1 }})
			res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(c.want, "{URL}", lode.URL)
			if (res.Status == backend.HealthStatusOk) != c.ok || res.Message != want {
				t.Fatalf("status %v message\n got: %s\nwant: %s", res.Status, res.Message, want)
			}
			if c.wantQuery != "" {
				q := lode.last(t)
				if q.Query.Get("query") != c.wantQuery || q.Query.Get("limit") != "1" || q.Query.Get("end") != "1700003600000000000" {
					t.Fatalf("health query %v", q.Query)
				}
			}
		})
	}
}

func TestCheckHealthUnreachableAndInvalid(t *testing.T) {
	lode := newFakeLode(t)
	u := lode.URL
	lode.Close()
	d := newTestDatasource(t, instance(u, "", nil), Options{})
	res, _ := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || res.Message != "cannot reach lode at "+u+": connection refused; check the URL and that lode is running" {
		t.Fatalf("unreachable: %s", res.Message)
	}
	d, _ = New(instance("http://x", `{"maxLines":0}`, nil), Options{Logger: &captureLogger{}})
	res, _ = d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || res.Message != "invalid datasource settings: max lines must be between 1 and 100000, got 0" {
		t.Fatalf("invalid: %s", res.Message)
	}
	d = newTestDatasource(t, instance("http://no-such-host.invalid", `{"timeout":2}`, nil), Options{})
	res, _ = d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if strings.Contains(res.Message, "did not answer within") {
		t.Skip("this machine's resolver does not answer; the DNS message cannot be checked here")
	}
	if res.Status != backend.HealthStatusError || res.Message != `cannot resolve host "no-such-host.invalid": check the URL` {
		t.Fatalf("dns: %s", res.Message)
	}
}

// TestTLSOptions checks the CA certificate and skip-verify settings against a TLS lode.
func TestTLSOptions(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loki/api/v1/labels" {
			_, _ = w.Write([]byte(`{"status":"success","data":["app"]}`))
			return
		}
		_, _ = w.Write([]byte(emptyStreams))
	}))
	t.Cleanup(srv.Close)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	for _, c := range []struct {
		name, jsonData string
		secure         map[string]string
		ok             bool
		want           string
	}{
		{"untrusted", `{}`, nil, false, "the TLS certificate of " + srv.URL + " is not trusted"},
		{"with CA", `{"tlsAuthWithCACert":true}`, map[string]string{SecureTLSCACert: ca}, true, "Data source is working"},
		{"skip verify", `{"tlsSkipVerify":true}`, nil, true, "Data source is working"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newTestDatasource(t, instance(srv.URL, c.jsonData, c.secure), Options{})
			res, _ := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if (res.Status == backend.HealthStatusOk) != c.ok || !strings.HasPrefix(res.Message, c.want) {
				t.Fatalf("%v: %s", res.Status, res.Message)
			}
		})
	}
	plain := newTestDatasource(t, instance(strings.Replace(srv.URL, "https://", "http://", 1), "", nil), Options{})
	r := queryOne(t, plain, dataQuery("A", `{"expr":"{a=\"b\"}"}`, t0, t1))
	if r.Error == nil || !strings.HasSuffix(r.Error.Error(), "expects HTTPS: use https:// in the URL") {
		t.Fatalf("plain HTTP to a TLS server: %v", r.Error)
	}
	https := newFakeLode(t)
	d := newTestDatasource(t, instance(strings.Replace(https.URL, "http://", "https://", 1), "", nil), Options{})
	r = queryOne(t, d, dataQuery("A", `{"expr":"{a=\"b\"}"}`, t0, t1))
	if r.Error == nil || !strings.Contains(r.Error.Error(), "the server does not speak TLS; use http:// instead of https://") {
		t.Fatalf("https to a plain server: %v", r.Error)
	}
}
