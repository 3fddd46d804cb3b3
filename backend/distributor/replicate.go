package distributor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/ring"
)

// ErrReplication reports streams that fewer than a quorum of their
// replicas acknowledged; nothing of the request may be acknowledged. [503]
var ErrReplication = errors.New("too few ingesters acknowledged the write")

// RingSource gives the current ring (the cluster node's replica).
type RingSource interface {
	Ring() *ring.Ring
}

// RemotePusher sends streams to the ingester at a gRPC address.
type RemotePusher interface {
	Push(ctx context.Context, addr, tenant string, streams []model.Stream) error
}

// ReplicatorDeps are what a Replicator works with.
type ReplicatorDeps struct {
	Ring   RingSource   // required
	Remote RemotePusher // required
	// SelfID and Local are this node's ring id and ingester: writes for it
	// skip the network. Local nil: this node runs no ingester.
	SelfID string
	Local  Pusher
	// Timeout bounds a write to one replica; replicas still writing when
	// a quorum has answered go on in the background within it.
	Timeout    time.Duration
	Registerer prometheus.Registerer
}

// Replicator is the Pusher of a clustered distributor: it hashes each
// stream onto the ring, sends it to the stream's replication set
// (Config.ReplicationFactor ingesters) and returns once every stream is
// durable on a quorum of its set (n/2+1 of n).
type Replicator struct {
	deps    ReplicatorDeps
	rf      int
	sent    *prometheus.CounterVec // by result
	partial prometheus.Counter
}

// NewReplicator returns a Replicator writing rf replicas.
func NewReplicator(rf int, deps ReplicatorDeps) (*Replicator, error) {
	if rf < 1 {
		return nil, fmt.Errorf("replication factor %d: must be at least 1", rf)
	}
	if deps.Timeout <= 0 {
		deps.Timeout = 10 * time.Second
	}
	r := &Replicator{
		deps: deps, rf: rf,
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_distributor_replica_writes_total",
			Help: "Writes to single ingesters of replication sets, by result (ok, failed, skipped: unhealthy).",
		}, []string{"result"}),
		partial: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_distributor_quorum_failures_total",
			Help: "Pushes refused because a stream reached fewer than a quorum of its replicas.",
		}),
	}
	if deps.Registerer != nil {
		for _, c := range []prometheus.Collector{r.sent, r.partial} {
			if err := deps.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register replicator metrics: %w", err)
			}
		}
	}
	return r, nil
}

// streamTally counts a stream's replica outcomes.
type streamTally struct {
	set          int // replicas in its set
	maxFailures  int
	ok, failures int
	errs         []string
}

// replicaWrite is what one ingester receives.
type replicaWrite struct {
	in      ring.Instance
	streams []model.Stream
	idx     []int // stream indexes into the request
}

// Push implements Pusher.
func (r *Replicator) Push(ctx context.Context, tenant string, streams []model.Stream) error {
	rg := r.deps.Ring.Ring()
	if rg == nil {
		return fmt.Errorf("%w: no ring yet", ErrReplication)
	}
	if in, ok := soleIngester(rg); ok && in == r.deps.SelfID && r.deps.Local != nil {
		return r.deps.Local.Push(ctx, tenant, streams) // one ingester: it is us
	}
	// Replicas still writing when the quorum has answered go on after
	// Push returns, when the caller reuses its memory: they get a copy.
	streams = cloneStreams(streams)
	writes, tallies, err := r.plan(rg, streams)
	if err != nil {
		return err
	}
	return r.send(ctx, tenant, streams, writes, tallies)
}

// plan groups the streams by replica; unhealthy replicas are skipped and
// counted as failures at once.
func (r *Replicator) plan(rg *ring.Ring, streams []model.Stream) ([]*replicaWrite, []streamTally, error) {
	now := time.Now()
	byID := map[string]*replicaWrite{}
	var writes []*replicaWrite
	tallies := make([]streamTally, len(streams))
	buf := make([]ring.Instance, 0, r.rf)
	for i := range streams {
		set, err := rg.WriteSet(ring.TokenFor(streams[i].Fingerprint), r.rf, buf)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrReplication, err)
		}
		t := &tallies[i]
		t.set, t.maxFailures = len(set.Instances), set.MaxFailures
		for _, in := range set.Instances {
			if in.ID != r.deps.SelfID && !rg.Healthy(&in, now) {
				t.failures++
				t.errs = append(t.errs, in.ID+": no heartbeat")
				r.sent.WithLabelValues("skipped").Inc()
				continue
			}
			w := byID[in.ID]
			if w == nil {
				w = &replicaWrite{in: in.Clone()}
				byID[in.ID] = w
				writes = append(writes, w)
			}
			w.streams = append(w.streams, streams[i])
			w.idx = append(w.idx, i)
		}
		if t.failures > t.maxFailures {
			return nil, nil, r.quorumError(streams, i, t)
		}
	}
	return writes, tallies, nil
}

// send writes to every replica at once and waits until each stream has a
// quorum, or one cannot get it any more.
func (r *Replicator) send(ctx context.Context, tenant string, streams []model.Stream, writes []*replicaWrite, tallies []streamTally) error {
	var (
		mu      sync.Mutex
		pending = len(streams)
		failed  = -1
		done    = make(chan struct{})
	)
	// Replicas that have not answered when the quorum is reached keep
	// writing; the request's context must not cancel them.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.deps.Timeout)
	var wg sync.WaitGroup
	for _, w := range writes {
		wg.Add(1)
		go func(w *replicaWrite) {
			defer wg.Done()
			err := r.pushOne(wctx, tenant, w)
			mu.Lock()
			defer mu.Unlock()
			for _, i := range w.idx {
				t := &tallies[i]
				before := t.ok >= t.set-t.maxFailures || t.failures > t.maxFailures
				if err == nil {
					t.ok++
				} else {
					t.failures++
					t.errs = append(t.errs, w.in.ID+": "+err.Error())
				}
				if before || failed >= 0 {
					continue
				}
				switch {
				case t.failures > t.maxFailures:
					failed = i
					close(done)
				case t.ok >= t.set-t.maxFailures:
					if pending--; pending == 0 {
						close(done)
					}
				}
			}
		}(w)
	}
	go func() { wg.Wait(); cancel() }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("replicate: %w", ctx.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	if failed >= 0 {
		return r.quorumError(streams, failed, &tallies[failed])
	}
	return nil
}

func (r *Replicator) pushOne(ctx context.Context, tenant string, w *replicaWrite) error {
	var err error
	if w.in.ID == r.deps.SelfID && r.deps.Local != nil {
		err = r.deps.Local.Push(ctx, tenant, w.streams)
	} else {
		err = r.deps.Remote.Push(ctx, w.in.Addr, tenant, w.streams)
	}
	if err != nil {
		r.sent.WithLabelValues("failed").Inc()
	} else {
		r.sent.WithLabelValues("ok").Inc()
	}
	return err
}

func (r *Replicator) quorumError(streams []model.Stream, i int, t *streamTally) error {
	r.partial.Inc()
	return fmt.Errorf("%w: stream %s: %d of %d replicas acknowledged, %d needed (%s)", ErrReplication,
		streams[i].Labels, t.ok, t.set, t.set-t.maxFailures, strings.Join(t.errs, "; "))
}

// soleIngester returns the id of the ring's only ACTIVE ingester.
func soleIngester(rg *ring.Ring) (string, bool) {
	var buf [2]ring.Instance
	set, err := rg.WriteSet(0, 2, buf[:0])
	if err != nil || len(set.Instances) != 1 {
		return "", false
	}
	return set.Instances[0].ID, true
}

// cloneStreams copies the entries and lines of streams into memory of
// their own (labels are immutable and shared).
func cloneStreams(streams []model.Stream) []model.Stream {
	n, size := 0, 0
	for i := range streams {
		n += len(streams[i].Entries)
		for j := range streams[i].Entries {
			size += len(streams[i].Entries[j].Line)
		}
	}
	entries := make([]model.Entry, 0, n)
	arena := make([]byte, 0, size)
	out := make([]model.Stream, len(streams))
	for i, st := range streams {
		start := len(entries)
		for _, e := range st.Entries {
			off := len(arena)
			arena = append(arena, e.Line...)
			e.Line = arena[off:len(arena):len(arena)]
			entries = append(entries, e)
		}
		st.Entries = entries[start:len(entries):len(entries)]
		out[i] = st
	}
	return out
}
