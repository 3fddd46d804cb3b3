package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/distributor"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/push"
)

// sink is a Pusher that keeps a digest of every entry it receives.
type sink struct {
	mu      sync.Mutex
	digests []string
	bytes   int64
}

func (s *sink) Push(_ context.Context, tenant string, streams []model.Stream) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range streams {
		for _, e := range st.Entries {
			h := sha256.Sum256(fmt.Appendf(nil, "%s %s %d %s", tenant, st.Labels, e.Timestamp, e.Line))
			s.digests = append(s.digests, string(h[:]))
			s.bytes += int64(len(e.Line))
		}
	}
	return nil
}

// server is a push endpoint backed by a real distributor.
func server(t *testing.T, p distributor.Pusher, fail func(n int) bool) *httptest.Server {
	t.Helper()
	var lc limits.Config
	lc.RegisterFlags(flag.NewFlagSet("", flag.PanicOnError))
	var dc distributor.Config
	dc.RegisterFlags(flag.NewFlagSet("", flag.PanicOnError))
	d, err := distributor.New(dc, distributor.Deps{Pusher: p, Limits: limits.NewOverrides(lc)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		failThis := fail != nil && fail(n)
		mu.Unlock()
		if r.URL.Path != "/loki/api/v1/push" || r.Header.Get("X-Scope-OrgID") != "t1" {
			http.Error(w, "bad path or tenant", http.StatusNotFound)
			return
		}
		if failThis {
			http.Error(w, "injected failure", http.StatusServiceUnavailable)
			return
		}
		req, err := push.DecodeHTTP(r, 16<<20)
		if err == nil {
			err = d.Push(r.Context(), r.Header.Get("X-Scope-OrgID"), req)
			push.PutRequest(req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// testStart is the first timestamp of every test run (recent enough for
// the distributor's default window).
var testStart = time.Now().Add(-time.Hour).Truncate(time.Second)

func testConfig(url string) config {
	return config{
		URL: url, Tenant: "t1", Streams: 50, Pushers: 3,
		BatchBytes: 128 << 10, TotalBytes: 1 << 20, Seed: 7,
		Start: testStart, Span: time.Hour, Timeout: 10 * time.Second,
	}
}

func TestRunPushesEverythingDeterministically(t *testing.T) {
	var digests [3][]string
	for i := range digests {
		s := &sink{}
		srv := server(t, s, nil)
		cfg := testConfig(srv.URL)
		switch i {
		case 1:
			cfg.Pushers = 1 // the content must not depend on concurrency
		case 2:
			cfg.Pregenerate = true // nor on when it is generated
		}
		var out bytes.Buffer
		sum, err := run(context.Background(), cfg, &out)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sum.Failed != 0 || !aboutTotal(sum.Bytes, cfg) || sum.Bytes != s.bytes || sum.Lines != int64(len(s.digests)) {
			t.Fatalf("summary %+v, server received %d lines %d bytes\n%s", sum, len(s.digests), s.bytes, out.String())
		}
		if sum.Pushes != 8 {
			t.Fatalf("%d pushes, want 8 of 128 KiB", sum.Pushes)
		}
		if !strings.Contains(out.String(), "failed pushes: 0") {
			t.Fatalf("summary output:\n%s", out.String())
		}
		slices.Sort(s.digests)
		digests[i] = s.digests
	}
	for i := 1; i < len(digests); i++ {
		if !slices.Equal(digests[0], digests[i]) {
			t.Fatalf("run %d pushed different entries than run 0 with the same corpus flags", i)
		}
	}
}

// aboutTotal reports whether b is -total-bytes, overshot by less than a
// line.
func aboutTotal(b int64, cfg config) bool {
	return b >= int64(cfg.TotalBytes) && b < int64(cfg.TotalBytes)+64<<10
}

func TestRunCountsFailures(t *testing.T) {
	srv := server(t, &sink{}, func(n int) bool { return n%2 == 0 })
	defer srv.Close()
	cfg := testConfig(srv.URL + "/loki/api/v1/push")
	var out bytes.Buffer
	sum, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 4 || sum.Pushes != 8 {
		t.Fatalf("summary %+v, want 4 of 8 pushes failed", sum)
	}
	if len(sum.FirstErrors) == 0 || sum.FirstErrors[0] != "HTTP 503: injected failure" {
		t.Fatalf("errors %q", sum.FirstErrors)
	}
	if !strings.Contains(out.String(), "failed pushes: 4") {
		t.Fatalf("summary output:\n%s", out.String())
	}
}

func TestRunRate(t *testing.T) {
	s := &sink{}
	srv := server(t, s, nil)
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.RateMB = 1000 // high enough to keep the test fast; checks the limiter path only
	sum, err := run(context.Background(), cfg, &bytes.Buffer{})
	if err != nil || sum.Failed != 0 || !aboutTotal(sum.Bytes, cfg) {
		t.Fatalf("summary %+v, err %v", sum, err)
	}
}

func TestValidate(t *testing.T) {
	cfg := testConfig("http://x")
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	for _, mutate := range []func(*config){
		func(c *config) { c.Streams = 0 },
		func(c *config) { c.Pushers = 0 },
		func(c *config) { c.BatchBytes = 0 },
		func(c *config) { c.TotalBytes = 0 },
		func(c *config) { c.RateMB = -1 },
		func(c *config) { c.Span = 0 },
	} {
		c := testConfig("http://x")
		mutate(&c)
		if c.validate() == nil {
			t.Errorf("invalid config %+v accepted", c)
		}
	}
}
