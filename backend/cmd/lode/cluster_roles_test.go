package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
	"github.com/lode-logs/lode/backend/internal/testutil/miniotest"
	"github.com/lode-logs/lode/backend/push"
)

// TestClusterRoles runs Lode split by -target: three ingesters, a
// distributor, a querier and a stand-alone query frontend in front of the
// querier. Lines pushed to the distributor are read back through the
// frontend, before and after the ingesters flushed them.
func TestClusterRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six lode processes and MinIO")
	}
	m := miniotest.Start(t)
	common := []string{
		"-storage.backend=s3", "-storage.s3.endpoint=" + m.Endpoint, "-storage.s3.bucket=lode-roles",
		"-storage.s3.access-key-id=" + m.AccessKey, "-storage.s3.secret-access-key=" + m.SecretKey, "-storage.s3.insecure",
		"-ring.heartbeat-period=200ms", "-cluster.heartbeat-timeout=300ms", "-cluster.election-timeout=300ms",
		"-cluster.leader-lease-timeout=300ms",
	}
	start := func(target string, extra ...string) *lodetest.Process {
		return lodetest.Start(t, lodetest.Options{Args: append(append([]string{"-target=" + target}, common...), extra...)})
	}
	first := start("ingester")
	join := "-cluster.join=127.0.0.1:" + strconv.Itoa(first.GRPCPort)
	ingesters := []*lodetest.Process{first, start("ingester", join), start("ingester", join)}
	dist := start("distributor", join)
	q := start("querier", join)
	fe := lodetest.Start(t, lodetest.Options{Args: []string{"-target=query-frontend", "-frontend.downstream-url=" + q.URL}})

	// A distributor has no query API, a querier no push API.
	if r, err := dist.Do(http.MethodGet, "/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D", nil, nil); err != nil || r.Status != http.StatusNotFound {
		t.Fatalf("query on the distributor: %v %d", err, r.Status)
	}
	if r, err := q.PushJSON(`{"streams":[]}`); err != nil || r.Status != http.StatusNotFound {
		t.Fatalf("push on the querier: %v %d", err, r.Status)
	}

	begin := time.Now()
	var want []string
	for b := range 5 {
		req := &push.Request{}
		for s := range 4 {
			st := push.Stream{Labels: fmt.Sprintf(`{test="roles", stream="s%d"}`, s)}
			for e := range 10 {
				line := fmt.Sprintf("batch %d stream %d entry %d", b, s, e)
				st.Entries = append(st.Entries, push.Entry{Timestamp: time.Now().UnixNano(), Line: []byte(line)})
				want = append(want, line)
			}
			req.Streams = append(req.Streams, st)
		}
		if r, err := dist.PushProto(req); err != nil || r.Status != http.StatusNoContent {
			t.Fatalf("push to the distributor: %v %d %s", err, r.Status, r.Body)
		}
	}
	end := time.Now().Add(time.Second)
	check := func(when string) {
		t.Helper()
		got, err := fe.Lines(`{test="roles"}`, begin.Add(-time.Second), end, 1000)
		if err != nil {
			t.Fatalf("%s: query through the frontend: %v", when, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d lines through the frontend, want %d", when, len(got), len(want))
		}
		seen := map[string]bool{}
		for _, l := range got {
			seen[l] = true
		}
		for _, l := range want {
			if !seen[l] {
				t.Fatalf("%s: line %q missing", when, l)
			}
		}
	}
	check("from the ingesters")
	for _, n := range ingesters {
		if r, err := n.Do(http.MethodPost, "/flush", nil, nil); err != nil || r.Status != http.StatusNoContent {
			t.Fatalf("flush: %v %d", err, r.Status)
		}
	}
	// Flushed everywhere: the ingesters hold nothing more, so the lines
	// now come from MinIO through the index.
	check("after a flush")
	r, err := q.Do(http.MethodGet, "/ring?format=json", nil, nil)
	if err != nil || r.Status != http.StatusOK || strings.Count(string(r.Body), `"state":"ACTIVE"`) != 3 {
		t.Fatalf("ring seen by the querier: %v %d %s", err, r.Status, r.Body)
	}
}
