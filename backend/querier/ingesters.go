package querier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/ring"
)

// ErrTooManyIngestersDown reports a read that reached too few ingesters to
// be complete. [503]
var ErrTooManyIngestersDown = errors.New("too many ingesters unavailable")

// RingSource gives the current ring (the cluster node's replica).
type RingSource interface {
	Ring() *ring.Ring
}

// RemoteIngesters reads from the ingester at a gRPC address.
type RemoteIngesters interface {
	Query(ctx context.Context, addr string, sel model.LogSelect) (iter.EntryIterator, error)
	Series(ctx context.Context, addr, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error)
}

// RingIngesters is the Recent source of a clustered querier: it reads
// every ACTIVE or LEAVING ingester of the ring and merges what they hold,
// identical entries of replicas counted once. Up to the read set's
// MaxFailures ingesters may be unreachable, or fail in the middle of a
// read, and the answer is still complete: every acknowledged entry is on
// a majority of its replicas.
type RingIngesters struct {
	Ring RingSource
	// ReplicationFactor is the distributors' replication factor.
	ReplicationFactor int
	// SelfID and Local are this node's ring id and ingester (nil if the
	// node runs none): reads of it skip the network.
	SelfID string
	Local  Recent
	Remote RemoteIngesters
}

// readBudget counts the ingesters a read lost.
type readBudget struct {
	mu    sync.Mutex
	max   int
	errs  []error
	limit error // set once more than max failed
}

func (b *readBudget) fail(id string, err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, fmt.Errorf("%s: %w", id, err))
	if len(b.errs) > b.max && b.limit == nil {
		b.limit = fmt.Errorf("%w: %d failed, at most %d may: %w", ErrTooManyIngestersDown, len(b.errs), b.max, errors.Join(b.errs...))
	}
	return b.limit
}

// Query implements Recent.
func (r *RingIngesters) Query(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	set, err := r.Ring.Ring().ReadSet(r.ReplicationFactor)
	if errors.Is(err, ring.ErrEmptyRing) {
		return iter.Empty[model.StreamEntry](), nil
	}
	if err != nil {
		return nil, err
	}
	budget := &readBudget{max: set.MaxFailures}
	its := make([]iter.EntryIterator, len(set.Instances))
	var wg sync.WaitGroup
	for i, in := range set.Instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var it iter.EntryIterator
			var err error
			if in.ID == r.SelfID && r.Local != nil {
				it, err = r.Local.Query(ctx, sel)
			} else {
				it, err = r.Remote.Query(ctx, in.Addr, sel)
			}
			if err != nil {
				budget.fail(in.ID, err)
				it = iter.Empty[model.StreamEntry]()
			}
			its[i] = &tolerant{EntryIterator: it, id: in.ID, budget: budget}
		}()
	}
	wg.Wait()
	if budget.limit != nil {
		for _, it := range its {
			_ = it.Close()
		}
		return nil, fmt.Errorf("query ingesters: %w", budget.limit)
	}
	return iter.MergeEntries(sel.Direction, its...), nil
}

// tolerant ends an ingester's entries at its first error, counting the
// error against the read's budget; only an error over budget is reported.
type tolerant struct {
	iter.EntryIterator
	id     string
	budget *readBudget
	err    error
	ended  bool
}

func (t *tolerant) Next() bool {
	if t.ended {
		return false
	}
	if t.EntryIterator.Next() {
		return true
	}
	t.ended = true
	if err := t.EntryIterator.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.err = t.budget.fail(t.id, err)
	} else if err != nil {
		t.err = err
	}
	return false
}

func (t *tolerant) Err() error {
	if !t.ended {
		return t.EntryIterator.Err()
	}
	return t.err
}

// Series implements Recent: the union of every reachable ingester's.
func (r *RingIngesters) Series(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	set, err := r.Ring.Ring().ReadSet(r.ReplicationFactor)
	if errors.Is(err, ring.ErrEmptyRing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	budget := &readBudget{max: set.MaxFailures}
	results := make([][]index.Stream, len(set.Instances))
	var wg sync.WaitGroup
	for i, in := range set.Instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if in.ID == r.SelfID && r.Local != nil {
				results[i], err = r.Local.Series(ctx, tenant, from, through, ms)
			} else {
				results[i], err = r.Remote.Series(ctx, in.Addr, tenant, from, through, ms)
			}
			if err != nil {
				budget.fail(in.ID, err)
			}
		}()
	}
	wg.Wait()
	if budget.limit != nil {
		return nil, fmt.Errorf("series from ingesters: %w", budget.limit)
	}
	seen := map[model.Fingerprint]bool{}
	var out []index.Stream
	for _, res := range results {
		for _, s := range res {
			if !seen[s.Fingerprint] {
				seen[s.Fingerprint] = true
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b index.Stream) int { return labels.Compare(a.Labels, b.Labels) })
	return out, nil
}
