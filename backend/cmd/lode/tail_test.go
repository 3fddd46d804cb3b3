package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// TestTail follows a query over the websocket tail API: history first, then
// lines pushed afterwards, filtered by the query's pipeline.
func TestTail(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	now := time.Now()
	push := func(lines ...string) {
		t.Helper()
		var vals []string
		for i, l := range lines {
			vals = append(vals, fmt.Sprintf(`[%q,%q]`, fmt.Sprint(time.Now().UnixNano()+int64(i)), l))
		}
		body := `{"streams":[{"stream":{"app":"tail"},"values":[` + strings.Join(vals, ",") + `]}]}`
		if r, err := p.PushJSON(body); err != nil || r.Status != http.StatusNoContent {
			t.Fatalf("push: %v %d %s", err, r.Status, r.Body)
		}
	}
	push("old keep 1", "old drop 2")
	q := url.Values{"query": {`{app="tail"} |= "keep"`}, "start": {fmt.Sprint(now.Add(-time.Minute).UnixNano())}}
	wsURL := strings.Replace(p.URL, "http://", "ws://", 1) + "/loki/api/v1/tail?" + q.Encode()
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("dial tail: %v (%v)", err, resp)
	}
	defer conn.Close()
	var got []string
	read := func(want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(got) < want {
			_ = conn.SetReadDeadline(deadline)
			var msg struct {
				Streams []struct {
					Stream map[string]string `json:"stream"`
					Values [][2]string       `json:"values"`
				} `json:"streams"`
			}
			if err := conn.ReadJSON(&msg); err != nil {
				t.Fatalf("read tail after %q: %v", got, err)
			}
			for _, s := range msg.Streams {
				if s.Stream["app"] != "tail" {
					t.Fatalf("stream labels %v", s.Stream)
				}
				for _, v := range s.Values {
					got = append(got, v[1])
				}
			}
		}
	}
	read(1)
	push("new drop 3", "new keep 4")
	push("new keep 5")
	read(3)
	want := []string{"old keep 1", "new keep 4", "new keep 5"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("tail got %q, want %q", got, want)
	}
	// A metric query cannot be tailed.
	bad := strings.Replace(p.URL, "http://", "ws://", 1) + "/loki/api/v1/tail?query=" + url.QueryEscape(`rate({app="tail"}[1m])`)
	if _, resp, err := websocket.DefaultDialer.Dial(bad, nil); err == nil || resp == nil || resp.StatusCode != 400 {
		t.Fatalf("tail of a metric query: %v %v", err, resp)
	}
}
