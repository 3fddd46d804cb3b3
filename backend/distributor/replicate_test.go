package distributor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/ring"
)

type staticRing struct{ r *ring.Ring }

func (s staticRing) Ring() *ring.Ring { return s.r }

// fakeReplicas records what each address received and fails the ones
// listed in fail.
type fakeReplicas struct {
	mu    sync.Mutex
	got   map[string][]string // addr → stream labels
	fail  map[string]bool
	block map[string]chan struct{}
}

func (f *fakeReplicas) Push(ctx context.Context, addr, tenant string, streams []model.Stream) error {
	if ch := f.block[addr]; ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[addr] {
		return errors.New("connection refused")
	}
	for _, s := range streams {
		f.got[addr] = append(f.got[addr], s.Labels.String())
	}
	return nil
}

func (f *fakeReplicas) count(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got[addr])
}

func testRing(n int, heartbeat time.Time) *ring.Ring {
	var ins []ring.Instance
	for i := range n {
		id := fmt.Sprintf("ing-%d", i)
		ins = append(ins, ring.Instance{
			ID: id, Addr: id + ":9095", Ingester: true, State: ring.Active, Heartbeat: heartbeat.UnixMilli(),
			Tokens: ring.GenerateTokens(id, 64, func(uint32) bool { return false }),
		})
	}
	return ring.New(ins, time.Minute)
}

func testStreams(n int) []model.Stream {
	out := make([]model.Stream, n)
	for i := range out {
		ls := labels.FromStrings("app", fmt.Sprintf("app-%d", i))
		out[i] = model.Stream{Labels: ls, Fingerprint: model.StreamFingerprint("t", ls),
			Entries: []model.Entry{{Timestamp: int64(i), Line: []byte("x")}}}
	}
	return out
}

func TestReplicatorQuorum(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		nodes    int
		fail     []string
		stale    bool // every heartbeat is old: all replicas skipped
		wantErr  bool
		wantEach int // streams each healthy replica receives
	}{
		{name: "all healthy", nodes: 3, wantEach: 20},
		{name: "one down", nodes: 3, fail: []string{"ing-1:9095"}, wantEach: 20},
		{name: "two down", nodes: 3, fail: []string{"ing-0:9095", "ing-2:9095"}, wantErr: true},
		{name: "no heartbeats", nodes: 3, stale: true, wantErr: true},
		{name: "two nodes need both", nodes: 2, fail: []string{"ing-0:9095"}, wantErr: true},
		{name: "single node", nodes: 1, wantEach: 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hb := now
			if tc.stale {
				hb = now.Add(-time.Hour)
			}
			f := &fakeReplicas{got: map[string][]string{}, fail: map[string]bool{}}
			for _, a := range tc.fail {
				f.fail[a] = true
			}
			r, err := NewReplicator(3, ReplicatorDeps{Ring: staticRing{testRing(tc.nodes, hb)}, Remote: f})
			if err != nil {
				t.Fatal(err)
			}
			err = r.Push(context.Background(), "t", testStreams(20))
			if tc.wantErr {
				if !errors.Is(err, ErrReplication) || !strings.Contains(err.Error(), `{app="app-`) {
					t.Fatalf("err = %v, want ErrReplication naming the stream", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.nodes {
				addr := fmt.Sprintf("ing-%d:9095", i)
				if f.fail[addr] {
					continue
				}
				// Writes beyond the quorum may still be under way.
				deadline := time.Now().Add(5 * time.Second)
				for f.count(addr) != tc.wantEach && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if got := f.count(addr); got != tc.wantEach {
					t.Errorf("%s got %d streams, want %d", addr, got, tc.wantEach)
				}
			}
		})
	}
}

func TestReplicatorAnswersAtQuorumAndFinishesTheRest(t *testing.T) {
	slow := make(chan struct{})
	f := &fakeReplicas{got: map[string][]string{}, fail: map[string]bool{}, block: map[string]chan struct{}{"ing-2:9095": slow}}
	r, err := NewReplicator(3, ReplicatorDeps{Ring: staticRing{testRing(3, time.Now())}, Remote: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(context.Background(), "t", testStreams(10)); err != nil {
		t.Fatalf("push with one slow replica: %v", err)
	}
	if f.count("ing-2:9095") != 0 {
		t.Fatal("slow replica answered before it was released")
	}
	close(slow)
	deadline := time.Now().Add(5 * time.Second)
	for f.count("ing-2:9095") != 10 {
		if time.Now().After(deadline) {
			t.Fatal("the slow replica's write was abandoned after the quorum answered")
		}
		time.Sleep(time.Millisecond)
	}
}

// localPusher counts direct pushes.
type localPusher struct{ n int }

func (l *localPusher) Push(context.Context, string, []model.Stream) error { l.n++; return nil }

func TestReplicatorWritesItsOwnIngesterDirectly(t *testing.T) {
	f := &fakeReplicas{got: map[string][]string{}, fail: map[string]bool{}}
	local := &localPusher{}
	rg := testRing(1, time.Now().Add(-time.Hour)) // its own stale heartbeat does not matter
	r, err := NewReplicator(3, ReplicatorDeps{Ring: staticRing{rg}, Remote: f, SelfID: "ing-0", Local: local})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(context.Background(), "t", testStreams(5)); err != nil {
		t.Fatal(err)
	}
	if local.n != 1 || f.count("ing-0:9095") != 0 {
		t.Fatalf("local pushes %d, remote %d: want 1 local, 0 remote", local.n, f.count("ing-0:9095"))
	}
}
