package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/ingester"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

func newTestPool(t testing.TB, reg prometheus.Registerer) *Pool {
	t.Helper()
	p := NewPool(PoolOptions{DialTimeout: 2 * time.Second, Registerer: reg})
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestPushRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		streams []model.Stream
	}{
		{"small", testStreams("t1", 1, 3)},
		{"varied", testStreams("t1", 10, 100)},
		{"many streams", testStreams("t1", 2000, 2)},
		{"large lines", []model.Stream{{Labels: streamLabels(0), Fingerprint: 9, Entries: []model.Entry{
			{Timestamp: 1, Line: []byte(strings.Repeat("\xff", 5<<20))}, {Timestamp: 2, Line: nil},
		}}}},
	}
	ing := &fakeIngester{}
	srv := startServer(t, ing, nil)
	p := newTestPool(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := p.Push(context.Background(), srv.addr, "t1", tc.streams); err != nil {
				t.Fatal(err)
			}
			tenants, pushes := ing.pushed()
			if tenants[len(tenants)-1] != "t1" {
				t.Fatalf("tenant %q", tenants[len(tenants)-1])
			}
			equalStreams(t, pushes[len(pushes)-1], tc.streams)
		})
	}
}

func TestSeries(t *testing.T) {
	want := []index.Stream{{Fingerprint: 3, Labels: streamLabels(3)}, {Fingerprint: 4, Labels: streamLabels(4)}}
	ing := &fakeIngester{series: want}
	srv := startServer(t, ing, nil)
	p := newTestPool(t, nil)
	ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "app", "app-.*")}
	got, err := p.Series(context.Background(), srv.addr, "t2", 10, 20, ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Fingerprint != 4 || !labels.Equal(got[0].Labels, want[0].Labels) {
		t.Fatalf("got %v", got)
	}
	arg := ing.seriesArg
	if arg[0] != "t2" || arg[1] != int64(10) || arg[2] != int64(20) || arg[3].([]*labels.Matcher)[0].String() != `app=~"app-.*"` {
		t.Fatalf("server saw %v", arg)
	}
	ing.series = nil
	if got, err := p.Series(context.Background(), srv.addr, "t2", 0, 1, ms); err != nil || len(got) != 0 {
		t.Fatalf("empty series: %v, %v", got, err)
	}
}

// collect drains a client iterator, cloning lines (they are reused).
func collect(it iter.EntryIterator) ([]model.StreamEntry, error) {
	return iter.Collect(it, func(e model.StreamEntry) model.StreamEntry {
		e.Entry = e.Entry.Clone()
		return e
	})
}

func TestQueryStreaming(t *testing.T) {
	const n = 6000 // about 3.6 MB: several batches
	for _, dir := range []model.Direction{model.Forward, model.Backward} {
		t.Run(dir.String(), func(t *testing.T) {
			entries := queryEntries(n, 600, dir)
			ing := &fakeIngester{queryFn: func(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
				return newTestIter(entries, nil), nil
			}}
			srv := startServer(t, ing, nil)
			p := newTestPool(t, nil)
			sel := testSelect()
			sel.Direction = dir
			it, err := p.Query(context.Background(), srv.addr, sel)
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(it)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("got %d entries, want %d", len(got), n)
			}
			for k := range got {
				if !sameStreamEntry(got[k], entries[k]) {
					t.Fatalf("entry %d: got %+v, want %+v", k, got[k], entries[k])
				}
			}
			if err := srv.waitQueryDone(t); err != nil {
				t.Fatalf("handler: %v", err)
			}
			if msgs := srv.queryMsgs.Load(); msgs < 3 {
				t.Fatalf("%d batches, want several", msgs)
			}
			if m := srv.maxMsg.Load(); m > maxBatchBytes+1000 {
				t.Fatalf("batch of %d bytes, bound is about %d", m, maxBatchBytes)
			}
			equalSelect(t, ing.lastSel, sel)
		})
	}
}

// TestQueryCloseMidStream closes the client iterator while the server
// still has entries to send: the server's handler must end and close the
// Ingester's iterator.
func TestQueryCloseMidStream(t *testing.T) {
	var its []*testIter
	var mu sync.Mutex
	ing := &fakeIngester{queryFn: func(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
		ls := streamLabels(1)
		it := &testIter{n: 1 << 40, i: -1, closed: make(chan struct{}), gen: func(i int) model.StreamEntry {
			return model.StreamEntry{Labels: ls, Fingerprint: 1, Entry: model.Entry{Timestamp: int64(i), Line: []byte(strings.Repeat("y", 500))}}
		}}
		mu.Lock()
		its = append(its, it)
		mu.Unlock()
		return it, nil
	}}
	srv := startServer(t, ing, nil)
	p := newTestPool(t, nil)
	for round := range 3 {
		it, err := p.Query(context.Background(), srv.addr, model.LogSelect{Tenant: "t"})
		if err != nil {
			t.Fatal(err)
		}
		for k := range 5000 * (round + 1) {
			if !it.Next() {
				t.Fatalf("stream ended at %d: %v", k, it.Err())
			}
			if it.At().Timestamp != int64(k) {
				t.Fatalf("entry %d has timestamp %d", k, it.At().Timestamp)
			}
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		if it.Next() {
			t.Fatal("Next after Close")
		}
		if code := status.Code(srv.waitQueryDone(t)); code != codes.Canceled {
			t.Fatalf("handler ended with %v, want Canceled", code)
		}
		mu.Lock()
		last := its[len(its)-1]
		mu.Unlock()
		select {
		case <-last.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("server did not close the ingester's iterator")
		}
	}
}

func TestQueryErrors(t *testing.T) {
	entries := queryEntries(3000, 700, model.Forward)
	cases := []struct {
		name      string
		queryFn   func() (iter.EntryIterator, error)
		startCode codes.Code // error of Pool.Query
		iterCode  codes.Code // error of the iterator
		entries   int
	}{
		{"start fails", func() (iter.EntryIterator, error) {
			return nil, fmt.Errorf("query: %w", ingester.ErrClosed)
		}, codes.Unavailable, codes.OK, 0},
		{"matchers empty", func() (iter.EntryIterator, error) {
			return nil, index.ErrMatchersEmpty
		}, codes.InvalidArgument, codes.OK, 0},
		{"iterator fails after entries", func() (iter.EntryIterator, error) {
			return newTestIter(entries, fmt.Errorf("read block: %w", ingester.ErrStorage)), nil
		}, codes.OK, codes.Unavailable, len(entries)},
		{"iterator fails at once", func() (iter.EntryIterator, error) {
			return newTestIter(nil, errors.New("boom")), nil
		}, codes.OK, codes.Internal, 0},
		{"empty", func() (iter.EntryIterator, error) {
			return newTestIter(nil, nil), nil
		}, codes.OK, codes.OK, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ing := &fakeIngester{queryFn: func(context.Context, model.LogSelect) (iter.EntryIterator, error) { return tc.queryFn() }}
			srv := startServer(t, ing, nil)
			p := newTestPool(t, nil)
			it, err := p.Query(context.Background(), srv.addr, model.LogSelect{Tenant: "t"})
			if status.Code(err) != tc.startCode {
				t.Fatalf("Query error %v, want code %v", err, tc.startCode)
			}
			if err != nil {
				if !strings.Contains(err.Error(), srv.addr) {
					t.Fatalf("error %q does not name the server", err)
				}
				return
			}
			got, err := collect(it)
			if status.Code(err) != tc.iterCode {
				t.Fatalf("iterator error %v, want code %v", err, tc.iterCode)
			}
			if len(got) != tc.entries {
				t.Fatalf("got %d entries before the error, want %d", len(got), tc.entries)
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		code   codes.Code
		client bool
	}{
		{"disk full", fmt.Errorf("push: %w: %w: 10 bytes free", ingester.ErrStorage, ingester.ErrDiskFull), codes.ResourceExhausted, false},
		{"storage", fmt.Errorf("push: %w", ingester.ErrStorage), codes.Unavailable, false},
		{"closed", ingester.ErrClosed, codes.Unavailable, false},
		{"malformed", fmt.Errorf("check: %w", ErrMalformed), codes.InvalidArgument, true},
		{"matchers", index.ErrMatchersEmpty, codes.InvalidArgument, true},
		{"own status", status.Error(codes.OutOfRange, "too old"), codes.OutOfRange, true},
		{"canceled on server", fmt.Errorf("wait: %w", context.Canceled), codes.Canceled, false},
		{"deadline on server", context.DeadlineExceeded, codes.DeadlineExceeded, false},
		{"other", errors.New("something broke"), codes.Internal, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, &fakeIngester{pushErr: tc.err}, nil)
			p := newTestPool(t, nil)
			err := p.Push(context.Background(), srv.addr, "t", testStreams("t", 1, 1))
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("error %v (%T) is not a RemoteError", err, err)
			}
			if re.Code != tc.code || status.Code(err) != tc.code {
				t.Fatalf("code %v, want %v (%v)", re.Code, tc.code, err)
			}
			if IsClientError(err) != tc.client {
				t.Fatalf("IsClientError = %v, want %v", !tc.client, tc.client)
			}
			if !strings.Contains(re.Message, tc.err.Error()) || re.Method != MethodPush || re.Addr != srv.addr {
				t.Fatalf("error %+v lost the server's message %q", re, tc.err)
			}
		})
	}
}

func TestClusterCall(t *testing.T) {
	h := func(ctx context.Context, op string, body []byte) ([]byte, error) {
		switch op {
		case "echo":
			return append([]byte("echo:"), body...), nil
		case "apply":
			return nil, fmt.Errorf("apply on node-2: %w (leader is 10.0.0.1:9095)", ErrNotLeader)
		case "fail":
			return nil, errors.New("fsm stopped")
		case "slow":
			<-ctx.Done()
			return nil, ctx.Err()
		case "empty":
			return nil, nil
		}
		return nil, fmt.Errorf("unknown op %q", op)
	}
	srv := startServer(t, nil, h)
	p := newTestPool(t, nil)
	ctx := context.Background()

	t.Run("ok", func(t *testing.T) {
		got, err := p.ClusterCall(ctx, srv.addr, "echo", []byte{0, 0xff})
		if err != nil || string(got) != "echo:\x00\xff" {
			t.Fatalf("got %q, %v", got, err)
		}
		got, err = p.ClusterCall(ctx, srv.addr, "empty", nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("empty: got %q, %v", got, err)
		}
	})
	t.Run("not leader", func(t *testing.T) {
		_, err := p.ClusterCall(ctx, srv.addr, "apply", []byte("x"))
		if !errors.Is(err, ErrNotLeader) {
			t.Fatalf("error %v is not ErrNotLeader", err)
		}
		if !strings.Contains(err.Error(), "apply on node-2: not the raft leader (leader is 10.0.0.1:9095)") {
			t.Fatalf("error %q lost the server's message", err)
		}
		if IsClientError(err) {
			t.Fatal("not leader is not a client error")
		}
	})
	t.Run("other error", func(t *testing.T) {
		_, err := p.ClusterCall(ctx, srv.addr, "fail", nil)
		if errors.Is(err, ErrNotLeader) || status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "fsm stopped") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := p.ClusterCall(ctx, srv.addr, "slow", nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v is not DeadlineExceeded", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := p.ClusterCall(ctx, srv.addr, "echo", nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v is not Canceled", err)
		}
	})
	t.Run("service not registered", func(t *testing.T) {
		err := p.Push(ctx, srv.addr, "t", nil)
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("error %v", err)
		}
	})
}

// rawMessage marshals to fixed bytes: a request no Pool would send.
type rawMessage []byte

func (r rawMessage) marshal() (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(r)}, nil
}

func TestMalformedRequest(t *testing.T) {
	ing := &fakeIngester{}
	srv := startServer(t, ing, func(context.Context, string, []byte) ([]byte, error) { return nil, nil })
	p := newTestPool(t, nil)
	for _, method := range []string{MethodPush, MethodSeries, MethodClusterCall} {
		t.Run(method, func(t *testing.T) {
			err := p.invoke(context.Background(), srv.addr, method, rawMessage{1, 0xff}, &emptyReply{})
			if !IsClientError(err) || !strings.Contains(err.Error(), "malformed") {
				t.Fatalf("error %v, want InvalidArgument naming the problem", err)
			}
		})
	}
	if _, pushes := ing.pushed(); len(pushes) != 0 {
		t.Fatal("a malformed push reached the ingester")
	}
}

func TestUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	p := newTestPool(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"push", func() error { return p.Push(ctx, addr, "t", testStreams("t", 1, 1)) }},
		{"query", func() error { _, err := p.Query(ctx, addr, model.LogSelect{}); return err }},
		{"series", func() error { _, err := p.Series(ctx, addr, "t", 0, 1, nil); return err }},
		{"cluster", func() error { _, err := p.ClusterCall(ctx, addr, "join", nil); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if status.Code(err) != codes.Unavailable || IsClientError(err) {
				t.Fatalf("error %v, want Unavailable", err)
			}
			if ctx.Err() != nil {
				t.Fatal("the call waited for the context instead of failing fast")
			}
			if msg := err.Error(); !strings.Contains(msg, addr) || !strings.Contains(msg, "refused") {
				t.Fatalf("error %q does not say which address refused", msg)
			}
		})
	}
}

func TestPoolClosed(t *testing.T) {
	srv := startServer(t, &fakeIngester{}, nil)
	p := NewPool(PoolOptions{})
	if err := p.Push(context.Background(), srv.addr, "t", nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background(), srv.addr, "t", nil); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("error %v, want ErrPoolClosed", err)
	}
	if _, err := p.Query(context.Background(), srv.addr, model.LogSelect{}); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("error %v, want ErrPoolClosed", err)
	}
}

// TestPoolConcurrent pushes and queries from many goroutines through one
// Pool to two servers (run with -race).
func TestPoolConcurrent(t *testing.T) {
	entries := queryEntries(2000, 300, model.Forward)
	newIng := func() *fakeIngester {
		return &fakeIngester{queryFn: func(context.Context, model.LogSelect) (iter.EntryIterator, error) {
			return newTestIter(entries, nil), nil
		}}
	}
	ings := []*fakeIngester{newIng(), newIng()}
	addrs := []string{startServer(t, ings[0], nil).addr, startServer(t, ings[1], nil).addr}
	reg := prometheus.NewRegistry()
	p := newTestPool(t, reg)
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			tenant := fmt.Sprintf("tenant-%d", w)
			streams := testStreams(tenant, 3, 20)
			for r := range rounds {
				addr := addrs[(w+r)%2]
				if err := p.Push(context.Background(), addr, tenant, streams); err != nil {
					errs <- err
					return
				}
				if r%5 == 0 {
					it, err := p.Query(context.Background(), addr, model.LogSelect{Tenant: tenant})
					if err != nil {
						errs <- err
						return
					}
					got, err := collect(it)
					if err == nil && len(got) != len(entries) {
						err = fmt.Errorf("query got %d entries", len(got))
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, a := ings[0].pushed()
	_, b := ings[1].pushed()
	if len(a)+len(b) != workers*rounds {
		t.Fatalf("%d pushes arrived, want %d", len(a)+len(b), workers*rounds)
	}
	p.mu.RLock()
	conns := len(p.conns)
	p.mu.RUnlock()
	if conns != 2 {
		t.Fatalf("%d connections, want one per address", conns)
	}
	if got := gatherCounts(t, reg); !strings.Contains(got, `method="/lode.Ingester/Push",status_code="OK"} 160`) ||
		!strings.Contains(got, `method="/lode.Ingester/Query",status_code="OK"} 32`) {
		t.Fatalf("metrics:\n%s", got)
	}
}

func TestMetrics(t *testing.T) {
	srv := startServer(t, &fakeIngester{pushErr: ingester.ErrDiskFull}, nil)
	reg := prometheus.NewRegistry()
	p := newTestPool(t, reg)
	_ = p.Push(context.Background(), srv.addr, "t", nil)
	p2 := newTestPool(t, reg) // shares the collector
	_ = p2.Push(context.Background(), srv.addr, "t", nil)
	want := `lode_rpc_client_request_duration_seconds_count{method="/lode.Ingester/Push",status_code="ResourceExhausted"} 2`
	if got := gatherCounts(t, reg); !strings.Contains(got, want) {
		t.Fatalf("metrics:\n%s\nwant %s", got, want)
	}
}

// gatherCounts renders the sample counts of reg's histograms, one line
// per series.
func gatherCounts(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			fmt.Fprintf(&b, "%s_count{", mf.GetName())
			for k, l := range m.GetLabel() {
				if k > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%s=%q", l.GetName(), l.GetValue())
			}
			fmt.Fprintf(&b, "} %d\n", m.GetHistogram().GetSampleCount())
		}
	}
	return b.String()
}

// TestPoolPrune closes only the connections that are not kept, have no
// call in flight and were idle long enough; a later call dials again.
func TestPoolPrune(t *testing.T) {
	entries := queryEntries(500, 100, model.Forward)
	ing := &fakeIngester{queryFn: func(context.Context, model.LogSelect) (iter.EntryIterator, error) {
		return newTestIter(entries, nil), nil
	}}
	kept, gone, busy := startServer(t, ing, nil), startServer(t, ing, nil), startServer(t, ing, nil)
	p := newTestPool(t, nil)
	ctx := context.Background()
	for _, s := range []*testServer{kept, gone, busy} {
		if err := p.Push(ctx, s.addr, "t", nil); err != nil {
			t.Fatal(err)
		}
	}
	// A query stream left open on busy is a call in flight.
	it, err := p.Query(ctx, busy.addr, model.LogSelect{})
	if err != nil {
		t.Fatal(err)
	}
	if !it.Next() {
		t.Fatalf("query ended early: %v", it.Err())
	}
	keep := func(addr string) bool { return addr == kept.addr }

	if n := p.Prune(keep, time.Hour); n != 0 {
		t.Fatalf("pruned %d connections used within the idle period", n)
	}
	if n := p.Prune(keep, 0); n != 1 || p.Conns() != 2 {
		t.Fatalf("pruned %d, %d left; want the idle unkept one pruned and 2 left", n, p.Conns())
	}
	n := 1
	for it.Next() {
		n++
	}
	if err := errors.Join(it.Err(), it.Close()); err != nil || n != len(entries) {
		t.Fatalf("query over a connection Prune skipped: %d of %d entries, %v", n, len(entries), err)
	}
	if n := p.Prune(keep, 0); n != 1 || p.Conns() != 1 {
		t.Fatalf("after the query: pruned %d, %d left; want 1 and 1", n, p.Conns())
	}
	// A pruned address is dialled again on its next call.
	if err := p.Push(ctx, gone.addr, "t", testStreams("t", 1, 1)); err != nil {
		t.Fatalf("push after prune: %v", err)
	}
	if p.Conns() != 2 {
		t.Fatalf("%d connections after redial, want 2", p.Conns())
	}
}
