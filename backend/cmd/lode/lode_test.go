package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
	"github.com/lode-logs/lode/backend/internal/testutil/miniotest"
	"github.com/lode-logs/lode/backend/push"
)

var (
	update      = flag.Bool("update", false, "rewrite golden files")
	nsTimestamp = regexp.MustCompile(`\b1[0-9]{18}\b`)
)

// base is a fixed time inside the accepted window, so golden files are
// stable: the timestamps are relative to it.
func base() time.Time { return time.Now().Add(-10 * time.Minute).Truncate(time.Hour) }

// golden compares got (JSON) with testdata/name after normalising the
// timestamps relative to b, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte, b time.Time) {
	t.Helper()
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, got)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	// Nanosecond timestamps become offsets from b, so the files do not
	// depend on the day the test runs.
	norm := nsTimestamp.ReplaceAllStringFunc(string(out), func(s string) string {
		n, _ := strconv.ParseInt(s, 10, 64)
		return "BASE+" + time.Duration(n-b.UnixNano()).String()
	})
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(norm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if strings.TrimSpace(string(want)) != norm {
		t.Errorf("%s differs from the answer:\n--- got\n%s\n--- want\n%s", name, norm, want)
	}
}

// resultOnly drops data.stats (timings vary) after checking it is there.
func resultOnly(t *testing.T, body []byte) []byte {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, body)
	}
	data, _ := v["data"].(map[string]any)
	if data == nil {
		t.Fatalf("answer has no data: %s", body)
	}
	st, _ := data["stats"].(map[string]any)
	if st == nil || st["summary"] == nil {
		t.Fatalf("answer has no stats.summary: %s", body)
	}
	delete(data, "stats")
	out, _ := json.Marshal(v)
	return out
}

func ns(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func TestPushQueryRoundTrip(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	b := base()
	// JSON push: two streams, one with structured metadata, a line with
	// invalid UTF-8 escaped as JSON can carry it (U+FFFD) and unicode.
	body := fmt.Sprintf(`{"streams":[
	 {"stream":{"app":"api","namespace":"prod"},"values":[
	   ["%d","GET /users 200 12ms"],["%d","GET /orders 500 3ms",{"trace_id":"abc123"}],["%d","héllo wörld ✓"]]},
	 {"stream":{"app":"web","namespace":"prod"},"values":[["%d","served /index.html 200"]]}]}`,
		b.Add(time.Second).UnixNano(), b.Add(2*time.Second).UnixNano(), b.Add(3*time.Second).UnixNano(), b.Add(4*time.Second).UnixNano())
	if r, err := p.PushJSON(body); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("JSON push: %v %d %s", err, r.Status, r.Body)
	}
	// Protobuf push, as Promtail sends it.
	req := &push.Request{Streams: []push.Stream{{
		Labels: `{app="worker", namespace="batch"}`,
		Entries: []push.Entry{
			{Timestamp: b.Add(5 * time.Second).UnixNano(), Line: []byte("job 17 done 200")},
			{Timestamp: b.Add(6 * time.Second).UnixNano(), Line: []byte("bytes \xff\xfe kept"), Metadata: []push.LabelPair{{Name: "job", Value: "17"}}},
		},
	}}}
	if r, err := p.PushProto(req); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("protobuf push: %v %d %s", err, r.Status, r.Body)
	}
	cases := []struct {
		name  string
		query url.Values
	}{
		{"query_range_backward.json", url.Values{"query": {`{namespace=~"prod|batch"}`}}},
		{"query_range_forward_limit.json", url.Values{"query": {`{namespace=~".+"}`}, "direction": {"forward"}, "limit": {"3"}}},
		{"query_range_filter.json", url.Values{"query": {`{namespace="prod"} |= "200" != "users"`}}},
		{"query_range_regex.json", url.Values{"query": {`{app=~"api|worker"} |~ "(?i)get|JOB"`}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.query.Set("start", ns(b))
			c.query.Set("end", ns(b.Add(time.Minute)))
			r, err := p.QueryRange(c.query)
			if err != nil || r.Status != http.StatusOK {
				t.Fatalf("query_range: %v %d %s", err, r.Status, r.Body)
			}
			golden(t, c.name, resultOnly(t, r.Body), b)
		})
	}
	t.Run("labels", func(t *testing.T) {
		r, err := p.Do("GET", "/loki/api/v1/labels?start="+ns(b)+"&end="+ns(b.Add(time.Minute)), nil, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("labels: %v %d %s", err, r.Status, r.Body)
		}
		golden(t, "labels.json", r.Body, b)
		r, err = p.Do("GET", "/loki/api/v1/label/app/values?query="+url.QueryEscape(`{namespace="prod"}`)+"&start="+ns(b)+"&end="+ns(b.Add(time.Minute)), nil, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("label values: %v %d %s", err, r.Status, r.Body)
		}
		golden(t, "label_values.json", r.Body, b)
		r, err = p.Do("GET", "/loki/api/v1/series?match[]="+url.QueryEscape(`{app=~"api|worker"}`)+"&start="+ns(b)+"&end="+ns(b.Add(time.Minute)), nil, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("series: %v %d %s", err, r.Status, r.Body)
		}
		golden(t, "series.json", r.Body, b)
	})
	// The same answers after a flush to object storage and a clean restart:
	// flushed data and buffered data merge without duplicates.
	t.Run("after flush and restart", func(t *testing.T) {
		if r, err := p.Do("POST", "/flush", nil, nil); err != nil || r.Status != http.StatusNoContent {
			t.Fatalf("flush: %v %d %s", err, r.Status, r.Body)
		}
		// Push a retry of an already stored line: it must not show twice.
		if r, err := p.PushProto(req); err != nil || r.Status != http.StatusNoContent {
			t.Fatalf("protobuf push: %v %d %s", err, r.Status, r.Body)
		}
		p.Stop()
		p.Restart()
		q := url.Values{"query": {`{namespace=~"prod|batch"}`}, "start": {ns(b)}, "end": {ns(b.Add(time.Minute))}}
		r, err := p.QueryRange(q)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("query_range: %v %d %s", err, r.Status, r.Body)
		}
		golden(t, "query_range_backward.json", resultOnly(t, r.Body), b)

		sel := url.QueryEscape(`{namespace=~"prod|batch"}`)
		rng := "&start=" + ns(b) + "&end=" + ns(b.Add(time.Minute))
		r, err = p.Do("GET", "/loki/api/v1/index/stats?query="+sel+rng, nil, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("index stats: %v %d %s", err, r.Status, r.Body)
		}
		var st struct{ Streams, Chunks, Bytes, Entries int }
		if err := json.Unmarshal(r.Body, &st); err != nil || st.Streams != 3 || st.Chunks < 3 || st.Entries != 6 || st.Bytes == 0 {
			t.Fatalf("index stats %s: %+v %v", r.Body, st, err)
		}
		r, err = p.Do("GET", "/loki/api/v1/index/volume?targetLabels=namespace&query="+sel+rng, nil, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("index volume: %v %d %s", err, r.Status, r.Body)
		}
		if !strings.Contains(string(r.Body), `"metric":{"namespace":"prod"}`) || !strings.Contains(string(r.Body), `"metric":{"namespace":"batch"}`) {
			t.Fatalf("volume by namespace: %s", r.Body)
		}
		// One series per label name with aggregateBy=labels; by default the
		// matchers' label names group.
		for _, c := range []struct{ path, want string }{
			{"/loki/api/v1/index/volume?aggregateBy=labels&targetLabels=app,namespace&query=" + sel + rng, `"metric":{"app":""}`},
			{"/loki/api/v1/index/volume?query=" + url.QueryEscape(`{app="worker"}`) + rng, `"metric":{"app":"worker"}`},
			{"/loki/api/v1/index/volume_range?step=10s&query=" + url.QueryEscape(`{app="worker"}`) + rng, `"result":[{"metric":{"app":"worker"},"values":[[` + strconv.FormatInt(b.Add(10*time.Second).Unix(), 10) + `,"`},
		} {
			r, err = p.Do("GET", c.path, nil, nil)
			if err != nil || r.Status != 200 || !strings.Contains(string(r.Body), c.want) {
				t.Fatalf("%s: %v %d %s, want %s", c.path, err, r.Status, r.Body, c.want)
			}
		}
		r, err = p.Do("GET", "/loki/api/v1/index/volume?aggregateBy=pods&query="+sel+rng, nil, nil)
		if err != nil || r.Status != 400 || !strings.Contains(string(r.Body), "invalid aggregateBy") {
			t.Fatalf("bad aggregateBy: %v %d %s", err, r.Status, r.Body)
		}
	})
}

// TestKillNineKeepsAcknowledged acknowledges unique lines from concurrent
// pushers, kills lode with SIGKILL while they push, restarts it and finds
// every acknowledged line exactly once.
func TestKillNineKeepsAcknowledged(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	b := time.Now().Add(-time.Minute)
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var entries []push.Entry
				var ids []string
				for j := 0; j < 50; j++ {
					id := fmt.Sprintf("w%d-b%d-e%d", w, i, j)
					ids = append(ids, id)
					entries = append(entries, push.Entry{Timestamp: b.UnixNano() + int64(w*1_000_000_000+i*1000+j), Line: []byte("line id=" + id)})
				}
				r, err := p.PushProto(&push.Request{Streams: []push.Stream{{Labels: fmt.Sprintf(`{app="kill", worker="%d"}`, w), Entries: entries}}})
				if err != nil || r.Status != http.StatusNoContent {
					return // the server is gone; what was not acknowledged may be lost
				}
				mu.Lock()
				for _, id := range ids {
					acked[id] = true
				}
				mu.Unlock()
			}
		}(w)
	}
	// Let the pushers acknowledge a good amount, then kill mid-flight.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 20000 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Kill()
	close(stop)
	wg.Wait()
	p.Restart()
	lines, err := p.Lines(`{app="kill"}`, b, time.Now().Add(time.Minute), 5000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range lines {
		seen[strings.TrimPrefix(l, "line id=")]++
	}
	lost, dup := 0, 0
	for id := range acked {
		if seen[id] == 0 {
			lost++
		}
	}
	for _, n := range seen {
		if n > 1 {
			dup++
		}
	}
	if lost > 0 || dup > 0 {
		t.Fatalf("after kill -9: %d of %d acknowledged lines lost, %d duplicated", lost, len(acked), dup)
	}
	t.Logf("%d acknowledged lines all found after kill -9 (%d lines readable)", len(acked), len(lines))
}

// TestBadInput sends each kind of invalid push over HTTP and checks the
// status and message, and that nothing invalid was stored.
func TestBadInput(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	now := time.Now()
	json1 := func(labels, ts, line string) string {
		return fmt.Sprintf(`{"streams":[{"stream":%s,"values":[[%q,%q]]}]}`, labels, ts, line)
	}
	var gz bytes.Buffer
	gzipBomb(&gz, 200<<20)
	cases := []struct {
		name        string
		contentType string
		encoding    string
		body        []byte
		status      int
		want        string
	}{
		{"malformed protobuf", "application/x-protobuf", "", snappyEncode([]byte{0x0a, 0xff, 0xff, 0xff}), 400, "malformed"},
		{"bad snappy", "application/x-protobuf", "", []byte("definitely not snappy"), 400, "snappy"},
		{"gzip bomb", "application/json", "gzip", gz.Bytes(), 413, "too large"},
		{"wrong content type", "text/csv", "", []byte("a,b"), 415, "text/csv"},
		{"invalid label name", "application/json", "", []byte(json1(`{"0bad":"x"}`, ns(now), "l")), 400, "0bad"},
		{"missing labels", "application/json", "", []byte(json1(`{}`, ns(now), "l")), 400, "at least one label pair is required per stream"},
		{"timestamp too old", "application/json", "", []byte(json1(`{"app":"bad"}`, ns(now.Add(-30*24*time.Hour)), "l")), 400, "too old"},
		{"timestamp too new", "application/json", "", []byte(json1(`{"app":"bad"}`, ns(now.Add(24*time.Hour)), "l")), 400, "has timestamp too new"},
		{"line over the limit", "application/json", "", []byte(json1(`{"app":"bad"}`, ns(now), strings.Repeat("x", 300<<10))), 400, "262144"},
		{"empty stream", "application/json", "", []byte(`{"streams":[{"stream":{"app":"bad"},"values":[]}]}`), 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {c.contentType}}
			if c.encoding != "" {
				h.Set("Content-Encoding", c.encoding)
			}
			r, err := p.Do("POST", "/loki/api/v1/push", h, c.body)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != c.status || !strings.Contains(string(r.Body), c.want) {
				t.Fatalf("got %d %q, want %d containing %q", r.Status, r.Body, c.status, c.want)
			}
		})
	}
	lines, err := p.Lines(`{app="bad"}`, now.Add(-31*24*time.Hour), now.Add(25*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 0 {
		t.Fatalf("invalid input was stored: %q", lines)
	}
}

// TestMinIOBackend runs lode on a real MinIO, flushes, restarts and reads
// the flushed chunks back.
func TestMinIOBackend(t *testing.T) {
	m := miniotest.Start(t)
	p := lodetest.Start(t, lodetest.Options{Args: []string{
		"-storage.backend=s3", "-storage.s3.endpoint=" + m.Endpoint, "-storage.s3.bucket=lode-e2e",
		"-storage.s3.access-key-id=" + m.AccessKey, "-storage.s3.secret-access-key=" + m.SecretKey, "-storage.s3.insecure",
	}})
	b := time.Now().Add(-time.Minute)
	var entries []push.Entry
	for i := 0; i < 1000; i++ {
		entries = append(entries, push.Entry{Timestamp: b.UnixNano() + int64(i), Line: []byte(fmt.Sprintf("minio line %d", i))})
	}
	if r, err := p.PushProto(&push.Request{Streams: []push.Stream{{Labels: `{app="s3"}`, Entries: entries}}}); err != nil || r.Status != 204 {
		t.Fatalf("push: %v %d %s", err, r.Status, r.Body)
	}
	if r, err := p.Do("POST", "/flush", nil, nil); err != nil || r.Status != 204 {
		t.Fatalf("flush: %v %d %s", err, r.Status, r.Body)
	}
	p.Stop()
	p.Restart()
	lines, err := p.Lines(`{app="s3"}`, b, time.Now(), 5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1000 || lines[0] != "minio line 0" || lines[999] != "minio line 999" {
		t.Fatalf("read back %d lines from MinIO-backed lode, want 1000 in order", len(lines))
	}
	// The secret never shows in /config.
	r, err := p.Do("GET", "/config", nil, nil)
	if err != nil || r.Status != 200 {
		t.Fatalf("config: %v %d", err, r.Status)
	}
	if strings.Contains(string(r.Body), m.SecretKey) {
		t.Fatal("/config shows the S3 secret access key")
	}
	if !strings.Contains(string(r.Body), m.Endpoint) {
		t.Fatalf("/config does not show the effective S3 endpoint:\n%s", r.Body)
	}
}
