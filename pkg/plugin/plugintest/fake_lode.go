package plugintest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Request is what FakeLode saw of one request.
type Request struct {
	Method string
	Path   string
	Params url.Values
	Header http.Header
}

// FakeLode is a small recording stand-in for lode's HTTP API: it answers each path with the
// reply set for it (404 otherwise), records every request, and serves the tail websocket,
// sending each pushed line to every open tail. Safe for concurrent use.
type FakeLode struct {
	URL string

	srv     *httptest.Server
	mu      sync.Mutex // guards everything below
	reqs    []Request
	replies map[string]reply
	tails   map[*websocket.Conn]chan struct{} // open tails → closed when the plugin closes them
	opened  chan struct{}                     // one token per tail opened
}

type reply struct {
	status int
	body   string
}

// NewFakeLode starts a FakeLode on a loopback port; it stops when the test ends.
func NewFakeLode(t testing.TB) *FakeLode {
	t.Helper()
	f := &FakeLode{replies: map[string]reply{}, tails: map[*websocket.Conn]chan struct{}{}, opened: make(chan struct{}, 64)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	t.Cleanup(f.close)
	return f
}

func (f *FakeLode) close() {
	f.mu.Lock()
	for c := range f.tails {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.srv.Close()
}

// Reply sets the answer of a path such as "/loki/api/v1/labels".
func (f *FakeLode) Reply(path string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[path] = reply{status, body}
}

// Requests returns the recorded requests to path (all paths when path is "").
func (f *FakeLode) Requests(path string) []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Request
	for _, r := range f.reqs {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (f *FakeLode) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Method: r.Method, Path: r.URL.Path, Params: r.Form, Header: r.Header.Clone()})
	rep, ok := f.replies[r.URL.Path]
	f.mu.Unlock()
	if r.URL.Path == "/loki/api/v1/tail" && !ok {
		f.serveTail(w, r)
		return
	}
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if json.Valid([]byte(rep.body)) {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func (f *FakeLode) serveTail(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	closed := make(chan struct{})
	f.mu.Lock()
	f.tails[c] = closed
	f.mu.Unlock()
	f.opened <- struct{}{}
	for { // answer pings; a read error means the plugin closed the tail
		if _, _, err := c.ReadMessage(); err != nil {
			break
		}
	}
	f.mu.Lock()
	delete(f.tails, c)
	f.mu.Unlock()
	_ = c.Close()
	close(closed)
}

// WaitTail waits until the plugin opens a tail connection.
func (f *FakeLode) WaitTail(t testing.TB) {
	t.Helper()
	select {
	case <-f.opened:
	case <-time.After(20 * time.Second):
		t.Fatal("the plugin did not open a tail")
	}
}

// OpenTails is the number of tail websockets open now.
func (f *FakeLode) OpenTails() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tails)
}

// Push sends one line to every open tail, as lode does when a line arrives.
func (f *FakeLode) Push(labels map[string]string, ts time.Time, line string) {
	msg, _ := json.Marshal(map[string]any{"streams": []any{map[string]any{
		"stream": labels, "values": [][]string{{strconv.FormatInt(ts.UnixNano(), 10), line}},
	}}})
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.tails {
		_ = c.WriteMessage(websocket.TextMessage, msg)
	}
}
