package querier

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/ring"
)

type staticRing struct{ r *ring.Ring }

func (s staticRing) Ring() *ring.Ring { return s.r }

// replicaData serves fixed entries per address; failAt makes an address
// fail after that many entries (0: at open).
type replicaData struct {
	entries map[string][]model.StreamEntry
	failAt  map[string]int
}

func (d *replicaData) Query(_ context.Context, addr string, _ model.LogSelect) (iter.EntryIterator, error) {
	n, fails := d.failAt[addr]
	if fails && n == 0 {
		return nil, errors.New("connection refused")
	}
	es := d.entries[addr]
	if fails {
		return &failingIter{EntryIterator: iter.Slice(es[:n]), err: errors.New("stream reset")}, nil
	}
	return iter.Slice(es), nil
}

func (d *replicaData) Series(_ context.Context, addr, _ string, _, _ int64, _ []*labels.Matcher) ([]index.Stream, error) {
	if n, fails := d.failAt[addr]; fails && n == 0 {
		return nil, errors.New("connection refused")
	}
	var out []index.Stream
	for _, e := range d.entries[addr] {
		out = append(out, index.Stream{Labels: e.Labels, Fingerprint: e.Fingerprint})
	}
	return out, nil
}

type failingIter struct {
	iter.EntryIterator
	err error
}

func (f *failingIter) Err() error { return f.err }

func ringOf(n int) *ring.Ring {
	var ins []ring.Instance
	for i := range n {
		id := fmt.Sprintf("ing-%d", i)
		ins = append(ins, ring.Instance{ID: id, Addr: id, Ingester: true, State: ring.Active, Heartbeat: time.Now().UnixMilli(),
			Tokens: ring.GenerateTokens(id, 16, func(uint32) bool { return false })})
	}
	return ring.New(ins, time.Minute)
}

// replicated puts each of n entries on all three replicas, in forward order.
func replicated(n int) *replicaData {
	ls := labels.FromStrings("app", "a")
	d := &replicaData{entries: map[string][]model.StreamEntry{}, failAt: map[string]int{}}
	for i := range n {
		e := model.StreamEntry{Labels: ls, Fingerprint: model.StreamFingerprint("t", ls),
			Entry: model.Entry{Timestamp: int64(i), Line: []byte(fmt.Sprintf("line %d", i))}}
		for r := range 3 {
			addr := fmt.Sprintf("ing-%d", r)
			d.entries[addr] = append(d.entries[addr], e)
		}
	}
	return d
}

func TestRingIngestersQuery(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failAt  map[string]int
		wantErr bool
	}{
		{name: "all up"},
		{name: "one down at open", failAt: map[string]int{"ing-1": 0}},
		{name: "one fails mid-stream", failAt: map[string]int{"ing-0": 3}},
		{name: "two down", failAt: map[string]int{"ing-0": 0, "ing-2": 0}, wantErr: true},
		{name: "one down, one fails mid-stream", failAt: map[string]int{"ing-0": 0, "ing-2": 4}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := replicated(10)
			for k, v := range tc.failAt {
				d.failAt[k] = v
			}
			r := &RingIngesters{Ring: staticRing{ringOf(3)}, ReplicationFactor: 3, Remote: d}
			sel := model.LogSelect{Tenant: "t", Start: 0, End: 100, Direction: model.Forward}
			var got []model.StreamEntry
			it, err := r.Query(context.Background(), sel)
			if err == nil {
				got, err = iter.Collect(it, func(e model.StreamEntry) model.StreamEntry { return e })
				_ = it.Close()
			}
			if tc.wantErr {
				if !errors.Is(err, ErrTooManyIngestersDown) {
					t.Fatalf("err = %v, want ErrTooManyIngestersDown", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 10 {
				t.Fatalf("got %d entries, want each of 10 once", len(got))
			}
			for i, e := range got {
				if e.Timestamp != int64(i) {
					t.Fatalf("entry %d has timestamp %d", i, e.Timestamp)
				}
			}
		})
	}
}

func TestRingIngestersSeries(t *testing.T) {
	d := replicated(3)
	d.failAt["ing-2"] = 0
	r := &RingIngesters{Ring: staticRing{ringOf(3)}, ReplicationFactor: 3, Remote: d}
	got, err := r.Series(context.Background(), "t", 0, 100, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("series = %v, %v; want the one stream once", got, err)
	}
	d.failAt["ing-1"] = 0
	if _, err := r.Series(context.Background(), "t", 0, 100, nil); !errors.Is(err, ErrTooManyIngestersDown) {
		t.Fatalf("two down: err = %v", err)
	}
}

func TestRingIngestersEmptyRing(t *testing.T) {
	r := &RingIngesters{Ring: staticRing{ring.New(nil, time.Minute)}, ReplicationFactor: 3, Remote: &replicaData{}}
	it, err := r.Query(context.Background(), model.LogSelect{Tenant: "t", End: 10})
	if err != nil || it.Next() {
		t.Fatalf("empty ring: %v", err)
	}
}
