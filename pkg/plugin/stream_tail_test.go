package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// tailConn is one websocket connection the fake tail endpoint accepted.
type tailConn struct {
	ws     *websocket.Conn
	query  url.Values
	closed chan struct{} // closed when the plugin closed the connection
	mu     sync.Mutex    // guards writes
}

func (c *tailConn) send(t *testing.T, streams string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"streams":`+streams+`}`)); err != nil {
		t.Fatalf("send tail message: %v", err)
	}
}

// fakeTailServer serves /loki/api/v1/tail; refuse answers the first n handshakes with 503.
type fakeTailServer struct {
	*httptest.Server
	conns  chan *tailConn
	mu     sync.Mutex // guards refuse and status
	refuse int
	status int
	body   string
}

func newFakeTailServer(t *testing.T) *fakeTailServer {
	t.Helper()
	f := &fakeTailServer{conns: make(chan *tailConn, 16)}
	up := websocket.Upgrader{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.refuse > 0 || f.status != 0 {
			status, body := f.status, f.body
			if f.refuse > 0 {
				f.refuse--
				status, body = http.StatusServiceUnavailable, "ingesters not ready"
			}
			f.mu.Unlock()
			http.Error(w, body, status)
			return
		}
		f.mu.Unlock()
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &tailConn{ws: ws, query: r.URL.Query(), closed: make(chan struct{})}
		f.conns <- c
		for { // answer pings and notice the close
			if _, _, err := ws.ReadMessage(); err != nil {
				close(c.closed)
				return
			}
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTailServer) next(t *testing.T) *tailConn {
	t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin did not connect to the tail endpoint")
		return nil
	}
}

// packets collects what RunStream sends to Grafana.
type packets chan json.RawMessage

func (p packets) Send(pk *backend.StreamPacket) error {
	p <- pk.Data
	return nil
}

// livePacket is a streamed frame: schema (first packet only) and column values.
type livePacket struct {
	Schema *struct {
		Fields []struct{ Name string } `json:"fields"`
		Meta   struct{ Type string }   `json:"meta"`
	} `json:"schema"`
	Data struct {
		Values []json.RawMessage `json:"values"`
	} `json:"data"`
}

func (p packets) next(t *testing.T) (livePacket, []string) {
	t.Helper()
	select {
	case b := <-p:
		var lp livePacket
		if err := json.Unmarshal(b, &lp); err != nil {
			t.Fatalf("packet %s: %v", b, err)
		}
		var lines []string
		if err := json.Unmarshal(lp.Data.Values[2], &lines); err != nil {
			t.Fatalf("packet body column: %v", err)
		}
		return lp, lines
	case <-time.After(10 * time.Second):
		t.Fatal("no frame from the live tail")
		return livePacket{}, nil
	}
}

func startTail(t *testing.T, d *Datasource, path string, data string) (packets, context.CancelFunc, chan error) {
	t.Helper()
	out := make(packets, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- d.RunStream(ctx, &backend.RunStreamRequest{Path: path, Data: json.RawMessage(data)}, backend.NewStreamSender(out))
	}()
	t.Cleanup(cancel)
	return out, cancel, done
}

func tailPath(expr string, limit int) string {
	return tailPathPrefix + newChannelRegistry(1).key(tailRequest{Expr: expr, Limit: limit})
}

// TestRunStreamTailsReconnectsAndStops: lines arrive as frames (schema once), a dropped
// connection is reopened from the newest timestamp without repeating rows, and cancelling the
// stream (last subscriber gone) closes the websocket.
func TestRunStreamTailsReconnectsAndStops(t *testing.T) {
	lode := newFakeTailServer(t)
	d := newTestDatasource(t, instance(lode.URL, `{"tenant":"team-a"}`, nil), Options{TailBackoffMin: time.Millisecond, TailBackoffMax: 5 * time.Millisecond})
	out, cancel, done := startTail(t, d, tailPath(`{app="api"}`, 10), "")

	c1 := lode.next(t)
	if c1.query.Get("query") != `{app="api"}` || c1.query.Get("limit") != "10" || c1.query.Has("start") {
		t.Fatalf("first tail query %v", c1.query)
	}
	c1.send(t, `[{"stream":{"app":"api","level":"info"},"values":[["100","one"],["200","two"]]}]`)
	p, lines := out.next(t)
	if p.Schema == nil || p.Schema.Meta.Type != "log-lines" || strings.Join(lines, ",") != "one,two" {
		t.Fatalf("first packet %+v lines %v", p.Schema, lines)
	}
	c1.send(t, `[{"stream":{"app":"api"},"values":[["300","three"]]},{"stream":{"app":"web"},"values":[["300","three"]]}]`)
	p, lines = out.next(t)
	if p.Schema != nil || strings.Join(lines, ",") != "three,three" {
		t.Fatalf("second packet schema %v lines %v", p.Schema != nil, lines)
	}

	_ = c1.ws.Close() // lode restarts
	c2 := lode.next(t)
	if c2.query.Get("start") != "300" {
		t.Fatalf("reconnect start %q, want the newest timestamp sent", c2.query.Get("start"))
	}
	// lode replays the rows at the start timestamp; only the new ones may reach Grafana.
	c2.send(t, `[{"stream":{"app":"api"},"values":[["300","three"],["400","four"]]},{"stream":{"app":"web"},"values":[["300","three"]]}]`)
	_, lines = out.next(t)
	if strings.Join(lines, ",") != "four" {
		t.Fatalf("after reconnect got %v, want [four]", lines)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunStream returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunStream did not stop")
	}
	select {
	case <-c2.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the websocket stayed open after the last subscriber left")
	}
}

func TestRunStreamRetriesUntilLodeIsUp(t *testing.T) {
	lode := newFakeTailServer(t)
	lode.refuse = 3
	logger := &captureLogger{}
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{Logger: logger, TailBackoffMin: time.Millisecond, TailBackoffMax: 2 * time.Millisecond})
	out, _, _ := startTail(t, d, "tail/anything", `{"expr":"{app=\"api\"}","maxLines":5}`)
	c := lode.next(t)
	if c.query.Get("limit") != "5" {
		t.Fatalf("subscription data not used: %v", c.query)
	}
	c.send(t, `[{"stream":{"app":"api"},"values":[["1","up"]]}]`)
	if _, lines := out.next(t); strings.Join(lines, ",") != "up" {
		t.Fatalf("lines %v", lines)
	}
	if n := strings.Count(logger.text(), "Live tail interrupted"); n != 3 {
		t.Fatalf("%d interruptions logged, want 3:\n%s", n, logger.text())
	}
}

func TestRunStreamRefusedQueryStops(t *testing.T) {
	lode := newFakeTailServer(t)
	lode.status, lode.body = http.StatusBadRequest, "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{TailBackoffMin: time.Millisecond})
	_, _, done := startTail(t, d, tailPath(`{app="api"}`, 0), "")
	select {
	case err := <-done:
		want := "live tail: lode returned 400 Bad Request: parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"
		if err == nil || err.Error() != want {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a refused tail kept retrying")
	}
}

func TestRunStreamPingsDetectSilentLode(t *testing.T) {
	// A server that accepts the websocket but never reads (so never answers pings) and
	// never writes: the plugin must give up on it and reconnect.
	conns := make(chan struct{}, 4)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		conns <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	d := newTestDatasource(t, instance(srv.URL, "", nil), Options{TailPingPeriod: 20 * time.Millisecond, TailBackoffMin: time.Millisecond})
	startTail(t, d, tailPath(`{a="b"}`, 0), "")
	for i := range 2 {
		select {
		case <-conns:
		case <-time.After(10 * time.Second):
			t.Fatalf("connection %d not made: a silent tail was never abandoned", i+1)
		}
	}
}

func TestSubscribeAndPublishStream(t *testing.T) {
	d := newTestDatasource(t, instance("http://lode", "", nil), Options{})
	for _, c := range []struct {
		name, path, data string
		want             backend.SubscribeStreamStatus
	}{
		{"inline key", tailPath(`{a="b"}`, 0), "", backend.SubscribeStreamStatusOK},
		{"query as data", "tail/x", `{"expr":"{a=\"b\"}"}`, backend.SubscribeStreamStatusOK},
		{"metric query", tailPath(`rate({a="b"}[1m])`, 0), "", backend.SubscribeStreamStatusNotFound},
		{"unknown hash", "tail/h0123", "", backend.SubscribeStreamStatusNotFound},
		{"garbage key", "tail/q!!", "", backend.SubscribeStreamStatusNotFound},
		{"other path", "metrics/cpu", "", backend.SubscribeStreamStatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := d.SubscribeStream(context.Background(), &backend.SubscribeStreamRequest{Path: c.path, Data: json.RawMessage(c.data)})
			if err != nil || res.Status != c.want {
				t.Fatalf("status %v err %v, want %v", res, err, c.want)
			}
		})
	}
	res, err := d.PublishStream(context.Background(), &backend.PublishStreamRequest{Path: tailPath(`{a="b"}`, 0)})
	if err != nil || res.Status != backend.PublishStreamStatusPermissionDenied {
		t.Fatalf("publish: %v %v", res, err)
	}
}

func TestChannelRegistryEvicts(t *testing.T) {
	r := newChannelRegistry(2)
	var keys []string
	for i := range 3 {
		keys = append(keys, r.key(tailRequest{Expr: fmt.Sprintf(`{a="%d"} |= "%s"`, i, strings.Repeat("x", 200))}))
	}
	if _, err := r.lookup(tailPathPrefix+keys[0], nil); err == nil {
		t.Fatal("oldest key kept beyond the limit")
	}
	for _, k := range keys[1:] {
		if _, err := r.lookup(tailPathPrefix+k, nil); err != nil {
			t.Fatal(err)
		}
	}
}
