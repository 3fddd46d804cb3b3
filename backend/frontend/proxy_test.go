package frontend

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// namedServer answers "<name> <method> <path> <tenant> <body>".
func namedServer(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, strings.Join([]string{name, r.Method, r.URL.RequestURI(), r.Header.Get("X-Scope-OrgID"), string(body)}, " "))
	}))
	t.Cleanup(s.Close)
	return s
}

// deadURL returns the URL of a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	_ = l.Close()
	return u
}

func proxyDo(t *testing.T, h http.Handler, method, target, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.Header.Set("X-Scope-OrgID", "team-a")
	return serve(h, r)
}

func TestProxyRoundRobin(t *testing.T) {
	a, b, c := namedServer(t, "a"), namedServer(t, "b"), namedServer(t, "c")
	p, err := NewProxy([]string{a.URL, " " + b.URL + " ", c.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 6 {
		r := proxyDo(t, p, http.MethodGet, "/loki/api/v1/labels?start=1", "")
		if r.status != http.StatusOK {
			t.Fatalf("status %d %s", r.status, r.body)
		}
		got = append(got, string(r.body))
	}
	want := []string{"a", "b", "c", "a", "b", "c"}
	for i, g := range got {
		if !strings.HasPrefix(g, want[i]+" GET /loki/api/v1/labels?start=1 team-a") {
			t.Fatalf("request %d answered %q, want from %s with path, query and tenant", i, g, want[i])
		}
	}
}

func TestProxyFailover(t *testing.T) {
	live := namedServer(t, "live")
	dead := deadURL(t)
	tests := []struct {
		name   string
		urls   []string
		method string
		body   string
		status int
		from   string
	}{
		{"GET skips a dead URL", []string{dead, live.URL}, http.MethodGet, "", 200, "live GET"},
		{"POST is not retried", []string{dead, live.URL}, http.MethodPost, "query=x", 502, ""},
		{"all dead", []string{dead, deadURL(t)}, http.MethodGet, "", 502, ""},
		{"POST to a live URL", []string{live.URL, dead}, http.MethodPost, "query=x", 200, "live POST /loki/api/v1/query_range team-a query=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewProxy(tt.urls) // a new proxy starts at the first URL
			if err != nil {
				t.Fatal(err)
			}
			r := proxyDo(t, p, tt.method, queryRangePath, tt.body)
			if r.status != tt.status || !strings.HasPrefix(string(r.body), tt.from) {
				t.Fatalf("got %d %q, want %d from %q", r.status, r.body, tt.status, tt.from)
			}
		})
	}
}

func TestProxyPathPrefix(t *testing.T) {
	s := namedServer(t, "s")
	p, err := NewProxy([]string{s.URL + "/lode/"})
	if err != nil {
		t.Fatal(err)
	}
	r := proxyDo(t, p, http.MethodGet, "/loki/api/v1/series?match[]=x", "")
	if !strings.HasPrefix(string(r.body), "s GET /lode/loki/api/v1/series?match[]=x") {
		t.Fatalf("got %q", r.body)
	}
}

func TestNewProxyErrors(t *testing.T) {
	tests := []struct {
		name string
		urls []string
		want error
	}{
		{"none", nil, ErrNoDownstream},
		{"no scheme", []string{"querier:3100"}, ErrInvalidURL},
		{"ftp", []string{"ftp://querier:3100"}, ErrInvalidURL},
		{"query", []string{"http://querier:3100/?x=1"}, ErrInvalidURL},
		{"no host", []string{"http:///path"}, ErrInvalidURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewProxy(tt.urls); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestProxyWebsocket: the tail endpoint's websocket upgrade goes through.
func TestProxyWebsocket(t *testing.T) {
	up := websocket.Upgrader{}
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_, msg, err := c.ReadMessage()
		if err == nil {
			_ = c.WriteMessage(websocket.TextMessage, append([]byte(r.Header.Get("X-Scope-OrgID")+" "), msg...))
		}
	}))
	t.Cleanup(echo.Close)
	p, err := NewProxy([]string{echo.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(front.URL, "http")+"/loki/api/v1/tail", http.Header{"X-Scope-OrgID": {"team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil || string(msg) != "team-a hello" {
		t.Fatalf("got %q, %v", msg, err)
	}
}

// TestFrontendOverProxy: split queries through the proxy to a remote
// querier equal the querier's own answers.
func TestFrontendOverProxy(t *testing.T) {
	d := sharedDownstream(t)
	a, b := httptest.NewServer(d.api), httptest.NewServer(d.api)
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	p, err := NewProxy([]string{a.URL, deadURL(t), b.URL})
	if err != nil {
		t.Fatal(err)
	}
	f := testFrontend(t, p, time.Hour, 0)
	whole := testFrontend(t, d.api, 0, 0)
	for _, q := range []url.Values{
		{"query": {`sum by (pod) (count_over_time({env="prod"} |= "GET" [7m]))`}, "step": {"5m"}},
		{"query": {`{env="prod"} | logfmt | status=500`}, "limit": {"300"}, "direction": {"forward"}},
	} {
		q.Set("start", ns(t0))
		q.Set("end", ns(t0.Add(6*time.Hour)))
		want, got := serve(whole, rangeRequest(q)), serve(f, rangeRequest(q))
		if got.status != http.StatusOK || withoutStats(t, got.body) != withoutStats(t, want.body) {
			t.Fatalf("%s: got %d %.300s", q.Get("query"), got.status, diffAnswers(want.body, got.body))
		}
	}
}
