package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/client_golang/prometheus"
	pmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/api"
	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/ingester"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
	"github.com/lode-logs/lode/backend/querier"
)

const testTenant = "team-a"

// t0 is the start of the test data, aligned to hours.
var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// badgerIndex commits chunk refs to an index.Store's database, as the
// cluster FSM does, without Raft.
type badgerIndex struct {
	mu sync.Mutex // one writer at a time, as the FSM
	db *badger.DB
}

func (b *badgerIndex) AddChunks(_ context.Context, es []index.ChunkEntry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	kv := &txnKV{db: b.db, txn: b.db.NewTransaction(true)}
	if err := index.AddChunks(kv, es); err != nil {
		kv.txn.Discard()
		return err
	}
	return kv.txn.Commit()
}

type txnKV struct {
	db  *badger.DB
	txn *badger.Txn
}

func (k *txnKV) Has(key []byte) (bool, error) {
	_, err := k.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (k *txnKV) Set(key, value []byte) error {
	err := k.txn.Set(key, value)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err := k.txn.Commit(); err != nil {
			return err
		}
		k.txn = k.db.NewTransaction(true)
		err = k.txn.Set(key, value)
	}
	return err
}

// downstream is a real query path: the Loki HTTP API over the engine over
// a querier reading a filesystem bucket, a Badger index and an ingester,
// wired as backend/cmd/lode wires them, with auth on.
type downstream struct {
	api     http.Handler
	limits  *limits.Overrides
	ing     *ingester.Ingester
	entries []testEntry // everything pushed, for expectations
}

type testEntry struct {
	labels labels.Labels
	ts     int64
	line   string
}

func newDownstream(tb testing.TB, dir string, maxChunkAge time.Duration) *downstream {
	tb.Helper()
	bucket, err := objstore.NewFilesystem(dir + "/bucket")
	if err != nil {
		tb.Fatal(err)
	}
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil).WithMemTableSize(16 << 20).WithValueThreshold(1 << 10))
	if err != nil {
		tb.Fatal(err)
	}
	var icfg ingester.Config
	icfg.RegisterFlags(flag.NewFlagSet("ingester", flag.PanicOnError))
	icfg.FlushCheckPeriod, icfg.MinFreeDiskSpace = time.Hour, 0
	if maxChunkAge > 0 {
		icfg.MaxChunkAge = maxChunkAge
	}
	ing, err := ingester.New(icfg, ingester.Deps{Dir: dir + "/ingester", Bucket: bucket,
		Index: &badgerIndex{db: db}, Logger: discard})
	if err != nil {
		tb.Fatal(err)
	}
	var qcfg querier.Config
	qcfg.RegisterFlags(flag.NewFlagSet("querier", flag.PanicOnError))
	q := querier.New(qcfg, index.NewStore(db), bucket, ing)
	lim := testLimits(tb)
	d := &downstream{ing: ing, limits: lim, api: api.New(api.Options{AuthEnabled: true},
		api.Deps{Engine: engine.New(q, engine.Options{}), Querier: q, Limits: lim, Logger: discard})}
	tb.Cleanup(func() {
		_ = ing.Close()
		_ = db.Close()
	})
	return d
}

// smallTenant has tight limits: 2h queries and 3 series; keptTenant keeps
// its data 48h.
const (
	smallTenant = "small"
	keptTenant  = "kept"
)

// testLimits returns the flag defaults with overrides for smallTenant.
func testLimits(tb testing.TB) *limits.Overrides {
	tb.Helper()
	var cfg limits.Config
	cfg.RegisterFlags(flag.NewFlagSet("limits", flag.PanicOnError))
	small := cfg.Tenant
	small.MaxQuerySeries, small.MaxQueryLength = 3, pmodel.Duration(2*time.Hour)
	kept := cfg.Tenant
	kept.RetentionPeriod = pmodel.Duration(48 * time.Hour)
	cfg.Overrides = map[string]limits.Tenant{smallTenant: small, keptTenant: kept}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return limits.NewOverrides(cfg)
}

// smallData has two streams in hour 1 and two others in hour 2 (minutes
// 10 to 40): every hour's part of a metric query has 2 series, the whole 4.
func smallData() []testEntry {
	var out []testEntry
	for h := 1; h <= 2; h++ {
		for _, s := range testStreams[2*h-2 : 2*h] {
			for m := 10; m <= 40; m++ {
				ts := t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).UnixNano()
				out = append(out, testEntry{labels: s, ts: ts, line: fmt.Sprintf("level=info minute=%d", m)})
			}
		}
	}
	return out
}

// push makes entries of the test tenant durable in the ingester.
func (d *downstream) push(tb testing.TB, es []testEntry) {
	tb.Helper()
	d.pushTenant(tb, testTenant, es)
	d.entries = append(d.entries, es...)
}

// pushTenant makes entries of tenant durable in the ingester.
func (d *downstream) pushTenant(tb testing.TB, tenant string, es []testEntry) {
	tb.Helper()
	byStream := map[string]*model.Stream{}
	var order []string
	for _, e := range es {
		k := e.labels.String()
		s, ok := byStream[k]
		if !ok {
			s = &model.Stream{Labels: e.labels, Fingerprint: model.StreamFingerprint(tenant, e.labels)}
			byStream[k] = s
			order = append(order, k)
		}
		s.Entries = append(s.Entries, model.Entry{Timestamp: e.ts, Line: []byte(e.line)})
	}
	streams := make([]model.Stream, 0, len(order))
	for _, k := range order {
		s := byStream[k]
		slices.SortFunc(s.Entries, func(a, b model.Entry) int { return int(a.Timestamp - b.Timestamp) })
		streams = append(streams, *s)
	}
	if err := d.ing.Push(context.Background(), tenant, streams); err != nil {
		tb.Fatal(err)
	}
}

// testStreams are the label sets of the test data.
var testStreams = []labels.Labels{
	labels.FromStrings("app", "api", "env", "prod", "pod", "api-0"),
	labels.FromStrings("app", "api", "env", "prod", "pod", "api-1"),
	labels.FromStrings("app", "web", "env", "prod", "pod", "web-0"),
	labels.FromStrings("app", "db", "env", "prod", "pod", "db-0"),
	labels.FromStrings("app", "json", "env", "prod", "pod", "json-0"),
	labels.FromStrings("app", "api", "env", "dev", "pod", "api-dev-0"),
}

// Timestamps of bursts: many entries of several streams share them, so
// that limits cut inside them.
var (
	burstNew = t0.Add(5*time.Hour + 30*time.Minute).UnixNano()
	burstOld = t0.Add(30*time.Minute + 17*time.Second).UnixNano()
)

// testData returns n random entries over [t0, t0+hours) plus entries on
// and next to every hour boundary and two bursts of shared timestamps.
func testData(n, hours int) []testEntry {
	r := rand.New(rand.NewPCG(7, 11))
	methods := []string{"GET", "GET", "GET", "POST", "DELETE"}
	paths := []string{"/api/users", "/api/orders", "/healthz", "/api/items/42"}
	statuses := []int{200, 200, 200, 201, 404, 500, 503}
	levels := []string{"info", "info", "warn", "error", "debug"}
	line := func(s labels.Labels, i int) string {
		if s.Get("app") == "json" {
			return fmt.Sprintf(`{"level":%q,"status":%d,"latency_ms":%d.%d,"msg":"job %d done"}`,
				levels[r.IntN(len(levels))], statuses[r.IntN(len(statuses))], r.IntN(900), r.IntN(10), i)
		}
		return fmt.Sprintf("level=%s method=%s path=%s status=%d latency_ms=%d bytes=%d msg=\"request %d\"",
			levels[r.IntN(len(levels))], methods[r.IntN(len(methods))], paths[r.IntN(len(paths))],
			statuses[r.IntN(len(statuses))], 1+r.IntN(2000), r.IntN(1<<16), i)
	}
	span := int64(hours) * int64(time.Hour)
	var out []testEntry
	add := func(ts int64, i int) {
		s := testStreams[r.IntN(len(testStreams))]
		out = append(out, testEntry{labels: s, ts: ts, line: line(s, i)})
	}
	for i := range n {
		add(t0.UnixNano()+r.Int64N(span), i)
	}
	for h := 1; h < hours; h++ {
		b := t0.Add(time.Duration(h) * time.Hour).UnixNano()
		for j, ts := range []int64{b - 1, b, b, b, b + 1} {
			add(ts, n+10*h+j)
		}
	}
	for j := range 40 {
		add(burstNew, n+1000+j)
		add(burstOld, n+2000+j)
	}
	return out
}

// loadDownstream builds a downstream holding testData: most of it flushed
// to the bucket and index, the last hour and a tenth of the rest only in
// the ingester.
func loadDownstream(tb testing.TB, dir string, n, hours int) *downstream {
	tb.Helper()
	d := newDownstream(tb, dir, 40*time.Minute) // chunks not aligned to parts
	data := testData(n, hours)
	recent := t0.Add(time.Duration(hours-1) * time.Hour).UnixNano()
	var flushed, kept []testEntry
	for i, e := range data {
		if e.ts >= recent || i%10 == 0 {
			kept = append(kept, e)
		} else {
			flushed = append(flushed, e)
		}
	}
	d.push(tb, flushed)
	if err := d.ing.Flush(context.Background()); err != nil {
		tb.Fatal(err)
	}
	d.push(tb, kept)
	d.pushTenant(tb, smallTenant, smallData())
	return d
}

// recorder wraps a handler, counting and remembering the query_range
// requests it serves.
type recorder struct {
	next    http.Handler
	calls   atomic.Int64
	mu      sync.Mutex     // guards tenants
	tenants map[string]int // X-Scope-OrgID of every request, by "path tenant"
	// hook, when set, may answer a request itself (returning true).
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func newRecorder(next http.Handler) *recorder {
	return &recorder{next: next, tenants: map[string]int{}}
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == queryRangePath {
		rc.calls.Add(1)
	}
	rc.mu.Lock()
	rc.tenants[r.URL.Path+" "+r.Header.Get("X-Scope-OrgID")]++
	rc.mu.Unlock()
	if rc.hook != nil && rc.hook(w, r) {
		return
	}
	rc.next.ServeHTTP(w, r)
}

// testFrontend builds a frontend over next with the given split interval
// and the test limits.
func testFrontend(tb testing.TB, next http.Handler, split time.Duration, cacheMB int64) *Frontend {
	tb.Helper()
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("frontend", flag.PanicOnError))
	cfg.SplitInterval, cfg.CacheMB = split, cacheMB
	f, err := newFrontend(cfg, next, testLimits(tb), prometheus.NewRegistry(), discard)
	if err != nil {
		tb.Fatal(err)
	}
	// All test data is old: far from the cache freshness window.
	f.now = func() time.Time { return t0.Add(30 * 24 * time.Hour) }
	return f
}

// response is an answer read whole.
type response struct {
	status int
	body   []byte
	header http.Header
}

// rangeRequest builds a GET query_range request for the test tenant.
func rangeRequest(params url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodGet, queryRangePath+"?"+params.Encode(), nil)
	r.Header.Set("X-Scope-OrgID", testTenant)
	return r
}

func serve(h http.Handler, r *http.Request) response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{status: w.Code, body: w.Body.Bytes(), header: w.Header()}
}

// withoutStats returns body with its "stats" object cut out. Lines are
// JSON-escaped, so `,"stats":` can only be the stats key.
func withoutStats(tb testing.TB, body []byte) string {
	tb.Helper()
	s := string(body)
	i := strings.LastIndex(s, `,"stats":`)
	if i < 0 || !strings.HasSuffix(s, "}}") {
		tb.Fatalf("no stats in answer: %.300s", s)
	}
	return s[:i]
}

func ns(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// shared is the downstream most tests query (read-only), built once.
var shared struct {
	once sync.Once
	dir  string
	d    *downstream
	err  error
}

// sharedDownstream returns the shared downstream: 4000 random entries of
// six streams over six hours, plus boundary entries and bursts.
func sharedDownstream(tb testing.TB) *downstream {
	tb.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "lode-frontend-test-")
		if shared.err != nil {
			return
		}
		shared.d = loadDownstream(onceTB{tb}, shared.dir, 4000, 6)
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.d
}

// onceTB lets the shared downstream outlive the test that built it: its
// cleanups run in TestMain.
type onceTB struct{ testing.TB }

func (onceTB) Cleanup(f func()) { sharedCleanups = append(sharedCleanups, f) }

var sharedCleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(sharedCleanups) - 1; i >= 0; i-- {
		sharedCleanups[i]()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// diffAnswers describes how two answers' results differ: values present in
// one only, by series, at most ten.
func diffAnswers(a, b []byte) string {
	type ans struct {
		Data struct {
			Result []struct {
				Stream map[string]string `json:"stream"`
				Metric map[string]string `json:"metric"`
				Values []json.RawMessage `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	set := func(body []byte) (map[string]int, []string) {
		var x ans
		if err := json.Unmarshal(body, &x); err != nil {
			return nil, []string{"undecodable: " + err.Error()}
		}
		m := map[string]int{}
		var order []string
		for _, s := range x.Data.Result {
			ls := fmt.Sprint(s.Stream, s.Metric)
			for i, v := range s.Values {
				k := ls + " " + string(v)
				m[k] = i
				order = append(order, k)
			}
		}
		return m, order
	}
	ma, oa := set(a)
	mb, ob := set(b)
	var out []string
	for _, k := range oa {
		if _, ok := mb[k]; !ok && len(out) < 10 {
			out = append(out, "only in first: "+k)
		}
	}
	for _, k := range ob {
		if _, ok := ma[k]; !ok && len(out) < 20 {
			out = append(out, "only in second: "+k)
		}
	}
	if len(out) == 0 {
		return fmt.Sprintf("same values (%d), different order or layout", len(oa))
	}
	return fmt.Sprintf("%d vs %d values\n", len(oa), len(ob)) + strings.Join(out, "\n")
}
