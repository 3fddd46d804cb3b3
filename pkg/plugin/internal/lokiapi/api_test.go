package lokiapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestDecodeQueryResponse(t *testing.T) {
	t.Run("streams with categorized labels", func(t *testing.T) {
		body := `{"status":"success","data":{"resultType":"streams","result":[
			{"stream":{"app":"api"},"values":[["1700000000000000001","a"],["1700000000000000002","b",{"structuredMetadata":{"trace_id":"x"},"parsed":{"status":"500"}}]]}],
			"stats":{"summary":{"execTime":0.1}}}}`
		r, err := DecodeQueryResponse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if r.ResultType != ResultStreams || len(r.Streams) != 1 || len(r.Streams[0].Values) != 2 {
			t.Fatalf("unexpected result %+v", r)
		}
		e := r.Streams[0].Values[1]
		if e.Timestamp != 1700000000000000002 || e.Line != "b" || e.StructuredMetadata["trace_id"] != "x" || e.Parsed["status"] != "500" {
			t.Fatalf("entry decoded as %+v", e)
		}
		if string(r.Stats) == "" {
			t.Fatal("stats dropped")
		}
	})
	t.Run("matrix keeps millisecond steps exact and special values", func(t *testing.T) {
		body := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1700000000.001,"NaN"],[1700000000.002,"+Inf"],[1700000001,"-2.5"]]}]}}`
		r, err := DecodeQueryResponse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		v := r.Matrix[0].Values
		if v[0].T != 1700000000001000000 || v[1].T != 1700000000002000000 || v[2].T != 1700000001000000000 {
			t.Fatalf("times %d %d %d", v[0].T, v[1].T, v[2].T)
		}
		if !math.IsNaN(v[0].V) || !math.IsInf(v[1].V, 1) || v[2].V != -2.5 {
			t.Fatalf("values %v %v %v", v[0].V, v[1].V, v[2].V)
		}
	})
	t.Run("vector and scalar", func(t *testing.T) {
		r, err := DecodeQueryResponse([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"3"]}]}}`))
		if err != nil || r.Vector[0].Value.T != 1500000000 || r.Vector[0].Value.V != 3 {
			t.Fatalf("vector: %+v %v", r, err)
		}
		r, err = DecodeQueryResponse([]byte(`{"status":"success","data":{"resultType":"scalar","result":[2,"7"]}}`))
		if err != nil || r.Scalar.T != 2e9 || r.Scalar.V != 7 {
			t.Fatalf("scalar: %+v %v", r, err)
		}
	})
	for _, c := range []struct {
		name, body string
		want       error
	}{
		{"html page", `<html>login</html>`, ErrNotLokiAPI},
		{"other JSON", `{"hello":"world"}`, ErrNotLokiAPI},
		{"unknown result type", `{"status":"success","data":{"resultType":"table","result":[]}}`, ErrBadResult},
		{"bad timestamp", `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["12x","a"]]}]}}`, ErrBadResult},
		{"bad sample", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}`, ErrBadResult},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeQueryResponse([]byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseUnixSeconds(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"1700000000", 1700000000e9}, {"1700000000.5", 1700000000500000000},
		{"1700000000.123456789", 1700000000123456789}, {"-1.5", -1500000000}, {"1.1234567891", 1123456789},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseUnixSeconds(c.in)
			if err != nil || got != c.want {
				t.Fatalf("ParseUnixSeconds(%q) = %d, %v; want %d", c.in, got, err, c.want)
			}
		})
	}
	if _, err := ParseUnixSeconds("1e400"); err == nil {
		t.Fatal("accepted garbage")
	}
}

func TestPointAndEntryRoundTrip(t *testing.T) {
	p := Point{T: 1700000000123000000, V: 4.25}
	b, _ := json.Marshal(p)
	var q Point
	if err := json.Unmarshal(b, &q); err != nil || q != p {
		t.Fatalf("%s decoded as %+v, %v", b, q, err)
	}
	e := Entry{Timestamp: 42, Line: "x\"y", StructuredMetadata: map[string]string{"k": "v"}}
	b, _ = json.Marshal(e)
	var f Entry
	if err := json.Unmarshal(b, &f); err != nil || f.Line != e.Line || f.Timestamp != 42 || f.StructuredMetadata["k"] != "v" {
		t.Fatalf("%s decoded as %+v, %v", b, f, err)
	}
}

// server records the last request and answers with a fixed status and body.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	last   *http.Request
	form   string
	status int
	body   string
}

func newServer(t *testing.T, status int, body string) *server {
	s := &server{status: status, body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.last, s.form = r, string(b)
		s.mu.Unlock()
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func newAPI(t *testing.T, url string, o Options) *API {
	t.Helper()
	o.BaseURL = url
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestQueryRangeRequest(t *testing.T) {
	s := newServer(t, 200, `{"status":"success","data":{"resultType":"streams","result":[]}}`)
	a := newAPI(t, s.URL+"/prefix/", Options{Tenant: "team-a", Authorization: "Bearer tok", CategorizeLabels: true})
	start, end := time.Unix(100, 5), time.Unix(200, 0)
	if _, err := a.QueryRange(context.Background(), RangeQuery{Query: `{a="b"}`, Start: start, End: end, Step: 1500 * time.Millisecond, Limit: 10, Direction: "forward"}); err != nil {
		t.Fatal(err)
	}
	r := s.last
	if r.Method != http.MethodGet || r.URL.Path != "/prefix/loki/api/v1/query_range" {
		t.Fatalf("request %s %s", r.Method, r.URL.Path)
	}
	q := r.URL.Query()
	for k, want := range map[string]string{"query": `{a="b"}`, "start": "100000000005", "end": "200000000000", "step": "1.5", "limit": "10", "direction": "forward"} {
		if q.Get(k) != want {
			t.Errorf("param %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if r.Header.Get(HeaderTenant) != "team-a" || r.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("identity headers %v", r.Header)
	}
	if r.Header.Get(headerEncodingFlags) != "categorize-labels" {
		t.Errorf("encoding flags header missing")
	}
}

func TestLongQueryIsPosted(t *testing.T) {
	s := newServer(t, 200, `{"status":"success","data":{"resultType":"streams","result":[]}}`)
	a := newAPI(t, s.URL, Options{})
	long := `{a="b"} |= "` + strings.Repeat("x", 5000) + `"`
	if _, err := a.QueryInstant(context.Background(), InstantQuery{Query: long, Time: time.Unix(1, 0)}); err != nil {
		t.Fatal(err)
	}
	if s.last.Method != http.MethodPost || !strings.Contains(s.form, "query=") || s.last.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("long query sent as %s (%d bytes of form)", s.last.Method, len(s.form))
	}
}

func TestStatusErrorCarriesServerMessage(t *testing.T) {
	for _, c := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"plain text", "parse error at line 1, col 5: syntax error: unexpected IDENTIFIER\n", 400, "parse error at line 1, col 5: syntax error: unexpected IDENTIFIER"},
		{"json error", `{"status":"error","errorType":"bad_data","error":"max entries limit exceeded"}`, 400, "max entries limit exceeded"},
		{"json message", `{"code":429,"message":"too many requests"}`, 429, "too many requests"},
		{"html hidden", "<html><body>Bad Gateway</body></html>", 502, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, c.status, c.body)
			_, err := newAPI(t, s.URL, Options{}).QueryRange(context.Background(), RangeQuery{Query: "x"})
			var se *StatusError
			if !errors.As(err, &se) || se.Code != c.status || se.Message != c.want {
				t.Fatalf("got %#v (%v), want code %d message %q", se, err, c.status, c.want)
			}
		})
	}
}

func TestGetChecksEnvelope(t *testing.T) {
	s := newServer(t, 200, `<!doctype html><title>Grafana</title>`)
	_, err := newAPI(t, s.URL, Options{}).Get(context.Background(), "labels", nil)
	if !errors.Is(err, ErrNotLokiAPI) {
		t.Fatalf("HTML accepted: %v", err)
	}
	s.body = `{"status":"success","data":["app"]}`
	ls, err := newAPI(t, s.URL, Options{}).Labels(context.Background(), time.Unix(1, 0), time.Unix(2, 0), `{app="x"}`)
	if err != nil || len(ls) != 1 || ls[0] != "app" || s.last.URL.Query().Get("query") != `{app="x"}` {
		t.Fatalf("labels %v %v %v", ls, err, s.last.URL.Query())
	}
}

func TestResponseLimit(t *testing.T) {
	s := newServer(t, 200, `{"status":"success","data":{"resultType":"streams","result":[]}}`)
	_, err := newAPI(t, s.URL, Options{MaxResponseBytes: 10}).QueryRange(context.Background(), RangeQuery{Query: "x"})
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestTail(t *testing.T) {
	up := websocket.Upgrader{}
	var gotHeader http.Header
	var gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("query") == "refuse" {
			http.Error(w, "parse error at line 1, col 1: syntax error", http.StatusBadRequest)
			return
		}
		gotHeader, gotQuery = r.Header.Clone(), r.URL.RawQuery
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"streams":[{"stream":{"a":"b"},"values":[["5","hello"]]}],"dropped_entries":[{"labels":{"a":"b"},"timestamp":"4"}]}`))
		_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		_, _, _ = c.ReadMessage()
	}))
	defer srv.Close()
	a := newAPI(t, srv.URL, Options{Tenant: "t1", Authorization: "Basic x"})
	conn, err := a.Tail(context.Background(), TailQuery{Query: `{a="b"}`, Start: time.Unix(0, 7), Limit: 3, DelayFor: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m, err := conn.Next()
	if err != nil || len(m.Streams) != 1 || m.Streams[0].Values[0].Line != "hello" || len(m.DroppedEntries) != 1 {
		t.Fatalf("message %+v, %v", m, err)
	}
	if _, err := conn.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("normal close gave %v", err)
	}
	if gotHeader.Get(HeaderTenant) != "t1" || gotHeader.Get("Authorization") != "Basic x" {
		t.Errorf("headers %v", gotHeader)
	}
	if gotQuery != "delay_for=2&limit=3&query=%7Ba%3D%22b%22%7D&start=7" {
		t.Errorf("query %s", gotQuery)
	}
	_, err = a.Tail(context.Background(), TailQuery{Query: "refuse"})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 400 || !strings.Contains(se.Message, "syntax error") {
		t.Fatalf("refused handshake gave %v", err)
	}
}

// TestEntryShapes checks the hand-written entry reader against encoding/json on every shape.
func TestEntryShapes(t *testing.T) {
	for _, c := range []struct{ name, in, line string }{
		{"plain", `["1","hello"]`, "hello"},
		{"spaces", " [ \"1\" ,\n\t\"hello\" ] ", "hello"},
		{"unicode", `["1","héllo ✓ 日本"]`, "héllo ✓ 日本"},
		{"escapes", `["1","tab\there \"q\" \u00e9 \/"]`, "tab\there \"q\" é /"},
		{"invalid utf8 becomes U+FFFD", "[\"1\",\"a\xffb\"]", "a\ufffdb"},
		{"empty line", `["1",""]`, ""},
		{"metadata", `["1","m",{"structuredMetadata":{"k":"v"}}]`, "m"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e Entry
			if err := e.UnmarshalJSON([]byte(c.in)); err != nil {
				t.Fatal(err)
			}
			if e.Timestamp != 1 || e.Line != c.line {
				t.Fatalf("got %d %q, want 1 %q", e.Timestamp, e.Line, c.line)
			}
		})
	}
	for _, bad := range []string{`["x","a"]`, `["1"]`, `{"a":1}`, `["1","a","b","c"]`} {
		var e Entry
		if err := e.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzEntryLine checks that the hand-written string reader agrees with encoding/json.
func FuzzEntryLine(f *testing.F) {
	for _, s := range []string{
		`plain`, `q\"uote`, `tab\tnew\nline`, `\u00e9\u4e2d`, `\ud83d\ude80 rocket`, `lone \ud800 high`,
		`\ud800\u0041 bad pair`, `slash \/ back \\`, "raw \xff byte", `bad \x escape`, `\u12`, `ctrl` + "\x01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		in := []byte(`["1","` + line + `"]`)
		var want []json.RawMessage
		if json.Unmarshal(in, &want) != nil || len(want) != 2 {
			return // not a valid JSON value: the outer decoder would have refused it
		}
		var wantLine string
		if json.Unmarshal(want[1], &wantLine) != nil {
			return
		}
		var e Entry
		if err := e.UnmarshalJSON(in); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if e.Line != wantLine {
			t.Fatalf("%q: got %q, encoding/json says %q", in, e.Line, wantLine)
		}
	})
}
