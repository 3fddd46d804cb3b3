package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
	"github.com/lode-logs/lode/backend/internal/testutil/miniotest"
	"github.com/lode-logs/lode/backend/push"
)

// clusterSelector matches every stream the cluster tests push.
const clusterSelector = `{test="cluster"}`

const (
	pushTimeout     = 15 * time.Second // one push attempt
	pushRetryPause  = 50 * time.Millisecond
	pushMaxAttempts = 100
	queryTimeout    = 10 * time.Second
	stopLoadTimeout = 45 * time.Second
	verifyPageSize  = 5000 // -validation.max-entries-limit default
)

// soak reports whether LODE_SOAK=1 asks for the long variants.
func soak() bool { return os.Getenv("LODE_SOAK") == "1" }

// loadProfile sizes a cluster test: the push load and how long each phase
// lasts.
type loadProfile struct {
	pushers   int           // concurrent pushing goroutines
	streams   int           // streams per pusher
	perStream int           // entries per stream per batch
	pause     time.Duration // between a pusher's batches
	warmup    time.Duration // load before the fault
	outage    time.Duration // how long the fault lasts
	after     time.Duration // load after recovery
	rounds    int           // repetitions of the fault, where a test repeats it
	verify    time.Duration // bound on reading everything back from one node
}

func clusterProfile() loadProfile {
	if soak() {
		return loadProfile{pushers: 8, streams: 4, perStream: 5, pause: 5 * time.Millisecond,
			warmup: 20 * time.Second, outage: 60 * time.Second, after: 20 * time.Second, rounds: 5, verify: 10 * time.Minute}
	}
	return loadProfile{pushers: 4, streams: 3, perStream: 4, pause: 20 * time.Millisecond,
		warmup: 3 * time.Second, outage: 5 * time.Second, after: 3 * time.Second, rounds: 1, verify: 2 * time.Minute}
}

// startTestCluster starts MinIO and an n-node cluster on it; ringTimeout
// 0 keeps the harness default -ring.heartbeat-timeout.
func startTestCluster(t *testing.T, n int, ringTimeout time.Duration, extra ...string) (*lodetest.Cluster, *miniotest.Server) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster of lode processes and MinIO")
	}
	m := miniotest.Start(t)
	args := []string{
		"-log.level=info",
		"-storage.backend=s3", "-storage.s3.endpoint=" + m.Endpoint, "-storage.s3.bucket=lode-cluster",
		"-storage.s3.access-key-id=" + m.AccessKey, "-storage.s3.secret-access-key=" + m.SecretKey, "-storage.s3.insecure",
		"-ingester.flush-check-period=1s", "-ingester.chunk-idle-period=2s", "-ingester.max-chunk-age=10s",
		"-ingester.flush-min-backoff=100ms", "-ingester.flush-max-backoff=1s",
	}
	args = append(args, extra...)
	begin := time.Now()
	c := lodetest.StartCluster(t, n, lodetest.ClusterOptions{Args: args, RingHeartbeatTimeout: ringTimeout})
	t.Logf("%d-node cluster ready in %s", n, time.Since(begin).Round(time.Millisecond))
	return c, m
}

// startLoaded starts an n-node cluster on MinIO (see startTestCluster) and
// a push load on every node, and returns once the load has run for the
// profile's warm-up; phase names what comes next, for the log.
func startLoaded(t *testing.T, n int, ringTimeout time.Duration, phase string) (*lodetest.Cluster, *miniotest.Server, *pushLoad, loadProfile) {
	t.Helper()
	prof := clusterProfile()
	c, m := startTestCluster(t, n, ringTimeout)
	l := newPushLoad(t, prof, c.Running())
	l.Start()
	l.WaitAcked(c, 100, 30*time.Second, "first pushes acknowledged")
	sleepPhase(t, "load before the "+phase, prof.warmup)
	return c, m, l, prof
}

// without returns nodes minus the excluded ones.
func without(nodes []*lodetest.Node, excluded ...*lodetest.Node) []*lodetest.Node {
	return slices.DeleteFunc(slices.Clone(nodes), func(n *lodetest.Node) bool { return slices.Contains(excluded, n) })
}

// nonLeader returns a running node that is not the Raft leader, among the
// first Voters nodes (a voter) when voter is set.
func nonLeader(t *testing.T, c *lodetest.Cluster, voter bool) (leader, other *lodetest.Node) {
	t.Helper()
	leader, _ = c.WaitLeader(30 * time.Second)
	ls, err := leader.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Running() {
		m, _ := ls.Member(n.ID)
		if n != leader && (!voter || m.Suffrage == "voter") {
			return leader, n
		}
	}
	t.Fatalf("no running non-leader node (voter %v) in %+v", voter, ls.Members)
	return nil, nil
}

// sumMetric adds a metric up over nodes.
func sumMetric(t *testing.T, nodes []*lodetest.Node, name string) float64 {
	t.Helper()
	total := 0.0
	for _, n := range nodes {
		m, err := n.Metrics()
		if err != nil {
			t.Fatalf("%s: %v", n.ID, err)
		}
		total += m[name]
	}
	return total
}

// flushAll asks every node to flush, concurrently, and returns the errors
// by node id.
func flushAll(nodes []*lodetest.Node, timeout time.Duration) map[string]error {
	var mu sync.Mutex
	out := map[string]error{}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := n.Flush(timeout)
			mu.Lock()
			out[n.ID] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// pushLoad pushes batches of lines with unique ids from several goroutines
// to a changing set of target nodes, retrying failed batches unchanged on
// the next target, and remembers which ids were acknowledged (204).
type pushLoad struct {
	t     *testing.T
	prof  loadProfile
	begin time.Time // every timestamp is after it

	clock   atomic.Int64 // last timestamp handed out: timestamps are unique
	targets atomic.Pointer[[]*lodetest.Node]
	rr      atomic.Uint64 // round robin over targets

	stop chan struct{} // closed by Stop
	wg   sync.WaitGroup
	seqs []int // next sequence number per pusher; each used by its pusher only

	mu         sync.Mutex // guards the fields below
	acked      map[string]struct{}
	ackedBy    map[string]int // acknowledged lines per node id
	tried      int            // lines in batches sent at least once
	attempts   int            // push requests
	failed     int            // push requests that failed (transport error, 5xx, 429)
	retried    int            // batches acknowledged after a failed attempt
	givenUp    int            // batches never acknowledged
	givenUpLns int            // their lines
	unexpected []string       // answers that are neither 204 nor retryable
	lastAck    time.Time
	maxGap     time.Duration // longest time between two acknowledgements
}

func newPushLoad(t *testing.T, prof loadProfile, targets []*lodetest.Node) *pushLoad {
	l := &pushLoad{t: t, prof: prof, begin: time.Now(), seqs: make([]int, prof.pushers),
		acked: map[string]struct{}{}, ackedBy: map[string]int{}}
	l.SetTargets(targets)
	return l
}

// SetTargets replaces the nodes pushes go to (as a load balancer with
// health checks would).
func (l *pushLoad) SetTargets(nodes []*lodetest.Node) {
	cp := slices.Clone(nodes)
	l.targets.Store(&cp)
}

// Start starts the pushers.
func (l *pushLoad) Start() {
	l.stop = make(chan struct{})
	l.mu.Lock()
	l.lastAck = time.Time{}
	l.mu.Unlock()
	for p := range l.prof.pushers {
		l.wg.Add(1)
		go l.pusher(p)
	}
}

// Stop stops the pushers and waits for them; a batch being retried is
// given up.
func (l *pushLoad) Stop() {
	l.t.Helper()
	close(l.stop)
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopLoadTimeout):
		l.t.Fatalf("pushers did not stop within %s", stopLoadTimeout)
	}
}

func (l *pushLoad) stopping() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *pushLoad) pusher(p int) {
	defer l.wg.Done()
	for !l.stopping() {
		req, ids := l.batch(p)
		l.send(req, ids)
		select {
		case <-l.stop:
		case <-time.After(l.prof.pause):
		}
	}
}

// nextTS returns a timestamp after every one handed out before.
func (l *pushLoad) nextTS() int64 {
	now := time.Now().UnixNano()
	for {
		last := l.clock.Load()
		ts := max(now, last+1)
		if l.clock.CompareAndSwap(last, ts) {
			return ts
		}
	}
}

// batch builds pusher p's next batch: perStream lines in each of its
// streams, each line starting with "id=<unique id> src=<pusher>/<stream> ".
func (l *pushLoad) batch(p int) (*push.Request, []string) {
	req := &push.Request{}
	var ids []string
	for s := range l.prof.streams {
		st := push.Stream{Labels: fmt.Sprintf(`{test="cluster", pusher="p%d", stream="s%d"}`, p, s)}
		for range l.prof.perStream {
			seq := l.seqs[p]
			l.seqs[p]++
			id := "p" + strconv.Itoa(p) + "-" + strconv.Itoa(seq)
			line := fmt.Sprintf("id=%s src=p%d/s%d level=info msg=\"request served\" path=/api/v1/items/%d status=200 duration=%dms",
				id, p, s, seq%977, seq%113)
			st.Entries = append(st.Entries, push.Entry{Timestamp: l.nextTS(), Line: []byte(line)})
			ids = append(ids, id)
		}
		req.Streams = append(req.Streams, st)
	}
	return req, ids
}

// pick returns the next target, round robin.
func (l *pushLoad) pick() *lodetest.Node {
	ts := *l.targets.Load()
	if len(ts) == 0 {
		return nil
	}
	return ts[int(l.rr.Add(1)%uint64(len(ts)))]
}

// send pushes one batch until a node acknowledges it, the load stops or
// the attempts run out; a retry sends the same entries again.
func (l *pushLoad) send(req *push.Request, ids []string) {
	l.mu.Lock()
	l.tried += len(ids)
	l.mu.Unlock()
	for attempt := 0; attempt < pushMaxAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-l.stop:
				l.giveUp(len(ids))
				return
			case <-time.After(pushRetryPause):
			}
		}
		n := l.pick()
		if n == nil {
			continue
		}
		r, err := n.PushProtoWithin(pushTimeout, req)
		switch {
		case err == nil && r.Status == http.StatusNoContent:
			l.ack(n.ID, ids, attempt > 0)
			return
		case err == nil && r.Status/100 == 4 && r.Status != http.StatusTooManyRequests:
			l.mu.Lock()
			l.attempts++
			l.unexpected = append(l.unexpected, fmt.Sprintf("%s: %d %s", n.ID, r.Status, r.Body))
			l.givenUp++
			l.givenUpLns += len(ids)
			l.mu.Unlock()
			return
		}
		l.mu.Lock()
		l.attempts++
		l.failed++
		l.mu.Unlock()
	}
	l.giveUp(len(ids))
}

func (l *pushLoad) giveUp(lines int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.givenUp++
	l.givenUpLns += lines
}

func (l *pushLoad) ack(node string, ids []string, retried bool) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts++
	for _, id := range ids {
		l.acked[id] = struct{}{}
	}
	l.ackedBy[node] += len(ids)
	if retried {
		l.retried++
	}
	if !l.lastAck.IsZero() {
		l.maxGap = max(l.maxGap, now.Sub(l.lastAck))
	}
	l.lastAck = now
}

// Acked returns how many lines were acknowledged so far.
func (l *pushLoad) Acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// AckedBy returns how many lines node acknowledged.
func (l *pushLoad) AckedBy(node string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ackedBy[node]
}

// WaitAcked waits until at least n more lines than now are acknowledged.
func (l *pushLoad) WaitAcked(c *lodetest.Cluster, n int, timeout time.Duration, what string) {
	l.t.Helper()
	want := l.Acked() + n
	c.WaitFor(timeout, what, func() error {
		if got := l.Acked(); got < want {
			return fmt.Errorf("%d lines acknowledged, want %d", got, want)
		}
		return nil
	})
}

// Report logs the load's figures and fails the test on unexpected
// answers.
func (l *pushLoad) Report() {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("figures: lines tried %d, acknowledged %d; push requests %d, failed %d; batches retried %d, given up %d (%d lines); longest gap between acknowledgements %s; acknowledged per node %v",
		l.tried, len(l.acked), l.attempts, l.failed, l.retried, l.givenUp, l.givenUpLns, l.maxGap.Round(time.Millisecond), l.ackedBy)
	if len(l.unexpected) > 0 {
		l.t.Errorf("%d pushes got an unexpected answer, first: %s", len(l.unexpected), l.unexpected[0])
	}
}

// Verify reads every test line back from each node and checks that every
// acknowledged id is visible exactly once and no id is visible twice.
func (l *pushLoad) Verify(nodes ...*lodetest.Node) {
	l.t.Helper()
	start, end := l.begin.Add(-time.Second), time.Now().Add(time.Second)
	l.mu.Lock()
	acked := make(map[string]struct{}, len(l.acked))
	for id := range l.acked {
		acked[id] = struct{}{}
	}
	l.mu.Unlock()
	if len(acked) == 0 {
		l.t.Fatal("no line was acknowledged: nothing to verify")
	}
	for _, n := range nodes {
		entries := readEntries(l.t, n, start, end, l.prof.verify)
		seen := make(map[string][]string, len(entries))
		var misplaced []string
		for _, e := range entries {
			id, ok := lineID(e.line)
			if !ok {
				l.t.Errorf("%s: line without id at %d in %s: %q", n.ID, e.ts, e.stream, e.line)
				continue
			}
			seen[id] = append(seen[id], fmt.Sprintf("%s@%d", e.stream, e.ts))
			if !strings.Contains(e.line, " src="+e.stream+" ") {
				misplaced = append(misplaced, fmt.Sprintf("%q in %s", e.line, e.stream))
			}
		}
		var lost, dups []string
		unackedVisible := 0
		for id := range acked {
			if len(seen[id]) == 0 {
				lost = append(lost, id)
			}
		}
		for id, where := range seen {
			if len(where) > 1 {
				dups = append(dups, fmt.Sprintf("%s in %v", id, where))
			}
			if _, ok := acked[id]; !ok {
				unackedVisible++
			}
		}
		l.t.Logf("%s: %d acknowledged, %d lines visible (%d distinct), %d lost, %d duplicated, %d unacknowledged but visible",
			n.ID, len(acked), len(entries), len(seen), len(lost), len(dups), unackedVisible)
		if len(lost) > 0 {
			slices.Sort(lost)
			l.t.Errorf("%s: %d acknowledged lines lost, e.g. %v", n.ID, len(lost), lost[:min(len(lost), 20)])
		}
		if len(misplaced) > 0 {
			l.t.Errorf("%s: %d lines visible in another stream than the one they were pushed to, e.g.\n%s",
				n.ID, len(misplaced), strings.Join(misplaced[:min(len(misplaced), 12)], "\n"))
		}
		if len(dups) > 0 {
			slices.Sort(dups)
			l.t.Errorf("%s: %d lines visible more than once, e.g.\n%s", n.ID, len(dups), strings.Join(dups[:min(len(dups), 12)], "\n"))
		}
	}
}

// lineID returns the id of a test line ("id=<id> ...").
func lineID(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "id=")
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(rest, " ")
	return id, id != ""
}

// entry is one line read back, with its stream and timestamp.
type entry struct {
	stream string
	ts     int64
	line   string
}

// readEntries reads every test line of [start, end] from n, paging
// forward by time, within timeout.
func readEntries(t *testing.T, n *lodetest.Node, start, end time.Time, timeout time.Duration) []entry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var out []entry
	from := start.UnixNano()
	for {
		if time.Now().After(deadline) {
			t.Fatalf("%s: reading lines back took more than %s", n.ID, timeout)
		}
		page, err := queryPage(n, from, end.UnixNano())
		if err != nil {
			t.Fatalf("%s: read lines back: %v", n.ID, err)
		}
		if len(page) < verifyPageSize {
			return append(out, page...)
		}
		// Entries at the page's last timestamp may go on in the next
		// page: keep the older ones and read that timestamp again.
		maxTS := page[0].ts
		for _, e := range page {
			maxTS = max(maxTS, e.ts)
		}
		kept := 0
		for _, e := range page {
			if e.ts < maxTS {
				out = append(out, e)
				kept++
			}
		}
		if kept == 0 {
			t.Fatalf("%s: more than %d entries at %d", n.ID, verifyPageSize, maxTS)
		}
		from = maxTS
	}
}

// queryPage reads up to verifyPageSize test entries from ts from on.
func queryPage(n *lodetest.Node, from, end int64) ([]entry, error) {
	q := url.Values{
		"query": {clusterSelector}, "limit": {strconv.Itoa(verifyPageSize)}, "direction": {"forward"},
		"start": {strconv.FormatInt(from, 10)}, "end": {strconv.FormatInt(end, 10)},
	}
	r, err := n.DoWithin(queryTimeout, http.MethodGet, "/loki/api/v1/query_range?"+q.Encode(), nil, nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("query_range: %d %s", r.Status, r.Body)
	}
	var qr lodetest.QueryResult
	if err := json.Unmarshal(r.Body, &qr); err != nil {
		return nil, fmt.Errorf("decode query_range answer: %w", err)
	}
	var streams []lodetest.StreamResult
	if err := json.Unmarshal(qr.Data.Result, &streams); err != nil {
		return nil, fmt.Errorf("decode streams: %w", err)
	}
	var out []entry
	for _, s := range streams {
		name := fmt.Sprintf("%s/%s", s.Stream["pusher"], s.Stream["stream"])
		for _, v := range s.Values {
			ts, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("timestamp %q: %w", v[0], err)
			}
			out = append(out, entry{stream: name, ts: ts, line: v[1]})
		}
	}
	return out, nil
}

// prober runs queries against nodes until stopped and counts the
// outcomes.
type prober struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	ok     int
	failed []string
}

// startProber queries each node in turn: the newest 100 test lines since
// since, which must be non-empty.
func startProber(nodes []*lodetest.Node, since time.Time) *prober {
	p := &prober{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			for _, n := range nodes {
				err := probe(n, since)
				p.mu.Lock()
				if err != nil {
					p.failed = append(p.failed, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), n.ID, err))
				} else {
					p.ok++
				}
				p.mu.Unlock()
			}
			select {
			case <-p.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return p
}

func probe(n *lodetest.Node, since time.Time) error {
	q := url.Values{
		"query": {clusterSelector}, "limit": {"100"}, "direction": {"backward"},
		"start": {strconv.FormatInt(since.UnixNano(), 10)}, "end": {strconv.FormatInt(time.Now().UnixNano(), 10)},
	}
	r, err := n.DoWithin(queryTimeout, http.MethodGet, "/loki/api/v1/query_range?"+q.Encode(), nil, nil)
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("%d %s", r.Status, r.Body)
	}
	var qr lodetest.QueryResult
	if err := json.Unmarshal(r.Body, &qr); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	var streams []lodetest.StreamResult
	if err := json.Unmarshal(qr.Data.Result, &streams); err != nil {
		return fmt.Errorf("decode streams: %w", err)
	}
	lines := 0
	for _, s := range streams {
		lines += len(s.Values)
	}
	if lines == 0 {
		return fmt.Errorf("no lines")
	}
	return nil
}

// Stop stops the prober and returns how many queries succeeded and the
// failures.
func (p *prober) Stop() (ok int, failed []string) {
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok, p.failed
}

// sleepPhase lets the load run for d.
func sleepPhase(t *testing.T, what string, d time.Duration) {
	t.Logf("%s: %s", what, d)
	time.Sleep(d)
}
