package rpc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// fakeIngester records pushes (deep copies: the server reuses buffers) and
// answers queries with iterators made by queryFn.
type fakeIngester struct {
	mu      sync.Mutex
	tenants []string
	pushes  [][]model.Stream
	pushErr error

	queryFn   func(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error)
	lastSel   model.LogSelect
	series    []index.Stream
	seriesErr error
	seriesArg []any
}

func (f *fakeIngester) Push(ctx context.Context, tenant string, streams []model.Stream) error {
	if f.pushErr != nil {
		return f.pushErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tenants = append(f.tenants, tenant)
	f.pushes = append(f.pushes, cloneStreams(streams))
	return nil
}

func (f *fakeIngester) Query(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	f.mu.Lock()
	f.lastSel = sel
	f.mu.Unlock()
	return f.queryFn(ctx, sel)
}

func (f *fakeIngester) Series(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	f.mu.Lock()
	f.seriesArg = []any{tenant, from, through, ms}
	f.mu.Unlock()
	return f.series, f.seriesErr
}

func (f *fakeIngester) pushed() ([]string, [][]model.Stream) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tenants...), append([][]model.Stream(nil), f.pushes...)
}

func cloneStreams(streams []model.Stream) []model.Stream {
	out := make([]model.Stream, len(streams))
	for k, st := range streams {
		out[k] = model.Stream{Labels: st.Labels.Copy(), Fingerprint: st.Fingerprint}
		for _, e := range st.Entries {
			out[k].Entries = append(out[k].Entries, model.Entry{Timestamp: e.Timestamp, Line: bytes.Clone(e.Line), Metadata: e.Metadata.Copy()})
		}
	}
	return out
}

// testServer is a real gRPC server on 127.0.0.1:0 that counts Query
// messages and tells when Query handlers return.
type testServer struct {
	addr      string
	srv       *grpc.Server
	queryMsgs atomic.Int64
	maxMsg    atomic.Int64 // largest query batch, bytes
	queryDone chan error   // one value per finished Query handler (up to 100 unread)
}

func startServer(t testing.TB, ing Ingester, h ClusterHandler) *testServer {
	t.Helper()
	ts := &testServer{queryDone: make(chan error, 100)}
	opts := append(ServerOptions(), grpc.StreamInterceptor(ts.intercept))
	ts.srv = grpc.NewServer(opts...)
	if ing != nil {
		RegisterIngester(ts.srv, ing)
	}
	if h != nil {
		RegisterCluster(ts.srv, h)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go func() { _ = ts.srv.Serve(l) }()
	t.Cleanup(ts.srv.Stop)
	return ts
}

func (ts *testServer) intercept(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	err := h(srv, &countingStream{ServerStream: ss, ts: ts})
	select {
	case ts.queryDone <- err:
	default:
	}
	return err
}

// waitQueryDone waits for a Query handler to return and returns its error.
func (ts *testServer) waitQueryDone(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.queryDone:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("query handler did not return")
		return nil
	}
}

type countingStream struct {
	grpc.ServerStream
	ts *testServer
}

func (c *countingStream) SendMsg(m any) error {
	if w, ok := m.(*batchWriter); ok {
		size := int64(w.size())
		for {
			cur := c.ts.maxMsg.Load()
			if size <= cur || c.ts.maxMsg.CompareAndSwap(cur, size) {
				break
			}
		}
		c.ts.queryMsgs.Add(1)
	}
	return c.ServerStream.SendMsg(m)
}

// testIter yields n generated entries (or items) and reports err after
// them; Close is recorded.
type testIter struct {
	items  []model.StreamEntry
	gen    func(i int) model.StreamEntry // used when items is nil
	n      int
	i      int
	cur    model.StreamEntry
	err    error
	closed chan struct{}
	once   sync.Once
}

func newTestIter(items []model.StreamEntry, err error) *testIter {
	return &testIter{items: items, n: len(items), i: -1, err: err, closed: make(chan struct{})}
}

func (it *testIter) Next() bool {
	it.i++
	if it.i >= it.n {
		return false
	}
	if it.items != nil {
		it.cur = it.items[it.i]
	} else {
		it.cur = it.gen(it.i)
	}
	return true
}
func (it *testIter) At() model.StreamEntry { return it.cur }
func (it *testIter) Err() error {
	if it.i >= it.n {
		return it.err
	}
	return nil
}
func (it *testIter) Close() error {
	it.once.Do(func() { close(it.closed) })
	return nil
}

// streamLabels returns the labels of test stream k.
func streamLabels(k int) labels.Labels {
	return labels.FromStrings("app", fmt.Sprintf("app-%d", k%7), "namespace", "prod", "pod", fmt.Sprintf("pod-%d", k))
}

// testStreams builds n streams of m entries with varied lines: invalid
// UTF-8, empty lines, metadata on some entries, negative and huge
// timestamps.
func testStreams(tenant string, n, m int) []model.Stream {
	streams := make([]model.Stream, n)
	for k := range streams {
		ls := streamLabels(k)
		st := model.Stream{Labels: ls, Fingerprint: model.StreamFingerprint(tenant, ls)}
		for j := range m {
			e := model.Entry{Timestamp: int64(1_700_000_000_000_000_000 + j*1000 - k)}
			switch j % 5 {
			case 0:
				e.Line = []byte(fmt.Sprintf("level=info msg=\"line %d of %d\"", j, k))
			case 1:
				e.Line = []byte{0xff, 0xfe, 0x00, 'a', 0xc3, 0x28, byte(j)}
			case 2:
				e.Line = []byte{}
			case 3:
				e.Line = bytes.Repeat([]byte("x"), 300+j)
				e.Metadata = labels.FromStrings("trace_id", fmt.Sprintf("%016x", j), "user", "\xffbad")
			case 4:
				e.Line = []byte("tab\there\nnewline")
				e.Timestamp = -int64(j) // before 1970
			}
			st.Entries = append(st.Entries, e)
		}
		streams[k] = st
	}
	return streams
}

// queryEntries builds n ordered entries over a few streams, each line
// about lineSize bytes.
func queryEntries(n, lineSize int, dir model.Direction) []model.StreamEntry {
	out := make([]model.StreamEntry, n)
	for i := range out {
		k := i % 5
		ls := streamLabels(k)
		ts := int64(i)
		if dir == model.Backward {
			ts = int64(n - i)
		}
		line := fmt.Appendf(nil, "entry %d ", i)
		line = append(line, bytes.Repeat([]byte{byte('a' + i%26)}, max(0, lineSize-len(line)))...)
		e := model.StreamEntry{Labels: ls, Fingerprint: model.StreamFingerprint("t", ls), Entry: model.Entry{Timestamp: ts * 1000, Line: line}}
		if i%3 == 0 {
			e.Metadata = labels.FromStrings("trace_id", fmt.Sprint(i))
		}
		out[i] = e
	}
	return out
}

func sameStreamEntry(a, b model.StreamEntry) bool {
	return labels.Equal(a.Labels, b.Labels) && a.Fingerprint == b.Fingerprint && a.Timestamp == b.Timestamp &&
		bytes.Equal(a.Line, b.Line) && labels.Equal(a.Metadata, b.Metadata)
}

func equalStreams(t *testing.T, got, want []model.Stream) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d streams, want %d", len(got), len(want))
	}
	for k := range want {
		g, w := got[k], want[k]
		if !labels.Equal(g.Labels, w.Labels) || g.Fingerprint != w.Fingerprint {
			t.Fatalf("stream %d: got %s %x, want %s %x", k, g.Labels, g.Fingerprint, w.Labels, w.Fingerprint)
		}
		if len(g.Entries) != len(w.Entries) {
			t.Fatalf("stream %d: got %d entries, want %d", k, len(g.Entries), len(w.Entries))
		}
		for j := range w.Entries {
			ge, we := g.Entries[j], w.Entries[j]
			if ge.Timestamp != we.Timestamp || !bytes.Equal(ge.Line, we.Line) || !labels.Equal(ge.Metadata, we.Metadata) {
				t.Fatalf("stream %d entry %d: got %d %q %s, want %d %q %s", k, j, ge.Timestamp, ge.Line, ge.Metadata, we.Timestamp, we.Line, we.Metadata)
			}
		}
	}
}
