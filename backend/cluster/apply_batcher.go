package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// addRequest is one caller's share of a batch: entries already encoded
// with appendChunkEntry, and where to report the outcome.
type addRequest struct {
	encoded []byte
	count   int
	done    chan error // buffered (1)
}

// batcher gathers concurrent addRequests into Raft commands.
//
// THREADS: run is one goroutine that owns reqs' receiving side and pending;
// each proposed command is awaited by its own goroutine, at most
// maxInflight at a time (while all slots are busy, requests queue up and
// the next batch grows). Callers submit and then wait on their done
// channel, which is always answered exactly once.
type batcher struct {
	send     func(cmd []byte) error // commits a command (Node.sendCommand)
	maxRefs  int
	linger   time.Duration
	timeout  time.Duration
	metrics  *metrics
	reqs     chan *addRequest
	inflight chan struct{}
	quit     chan struct{} // closed to stop run
	exited   chan struct{} // closed when run has returned
	raftDown chan struct{} // closed once raft has shut down (see await)
	waiters  sync.WaitGroup
	pending  *addRequest // run only (then stop): did not fit the last batch

	sendMu sync.RWMutex // held for reading by submit; guards closed
	closed bool
}

const maxInflight = 4

func newBatcher(send func([]byte) error, cfg *Config, m *metrics) *batcher {
	return &batcher{
		send: send, maxRefs: cfg.ApplyBatchSize, linger: cfg.ApplyLinger, timeout: cfg.ApplyTimeout,
		metrics:  m,
		reqs:     make(chan *addRequest, 256),
		inflight: make(chan struct{}, maxInflight),
		quit:     make(chan struct{}),
		exited:   make(chan struct{}),
		raftDown: make(chan struct{}),
	}
}

// submit queues r; once it returns nil, r.done will be answered.
func (b *batcher) submit(ctx context.Context, r *addRequest) error {
	b.sendMu.RLock()
	defer b.sendMu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	select {
	case b.reqs <- r:
		return nil
	case <-b.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher) run() {
	defer close(b.exited)
	for {
		batch, n, ok := b.gather()
		if !ok {
			return
		}
		select {
		case b.inflight <- struct{}{}:
		case <-b.quit:
			failAll(batch, ErrClosed)
			return
		}
		// Requests that queued while every slot was busy join this batch.
		batch, _ = b.topUp(batch, n)
		b.propose(batch)
	}
}

// topUp adds already queued requests to batch, up to maxRefs.
func (b *batcher) topUp(batch []*addRequest, n int) ([]*addRequest, int) {
	for n < b.maxRefs && b.pending == nil {
		select {
		case r := <-b.reqs:
			if n+r.count > b.maxRefs {
				b.pending = r
				return batch, n
			}
			batch, n = append(batch, r), n+r.count
		default:
			return batch, n
		}
	}
	return batch, n
}

// gather waits for a first request, then collects more until maxRefs are
// reached or linger has passed. It returns the batch and its ref count.
func (b *batcher) gather() ([]*addRequest, int, bool) {
	first := b.pending
	b.pending = nil
	if first == nil {
		select {
		case first = <-b.reqs:
		case <-b.quit:
			return nil, 0, false
		}
	}
	batch, n := []*addRequest{first}, first.count
	var deadline <-chan time.Time
	if b.linger > 0 {
		t := time.NewTimer(b.linger)
		defer t.Stop()
		deadline = t.C
	}
	for n < b.maxRefs {
		var r *addRequest
		select {
		case r = <-b.reqs:
		case <-b.quit:
			return batch, n, true // proposed or failed by run
		default:
			if deadline == nil {
				return batch, n, true
			}
			select {
			case r = <-b.reqs:
			case <-deadline:
				return batch, n, true
			case <-b.quit:
				return batch, n, true
			}
		}
		if n+r.count > b.maxRefs {
			b.pending = r
			break
		}
		batch, n = append(batch, r), n+r.count
	}
	return batch, n, true
}

// propose encodes batch into one command, applies it through Raft and
// reports the outcome to every request from a waiter goroutine.
func (b *batcher) propose(batch []*addRequest) {
	id, err := newRequestID()
	if err != nil {
		<-b.inflight
		failAll(batch, err)
		return
	}
	parts, count := make([][]byte, len(batch)), 0
	for i, r := range batch {
		parts[i], count = r.encoded, count+r.count
	}
	start := time.Now()
	cmd := encodeAddChunks(id, start.UnixMilli(), count, parts)
	b.metrics.applies.Inc()
	b.metrics.batchRefs.Observe(float64(count))
	b.waiters.Add(1)
	go func() {
		defer b.waiters.Done()
		defer func() { <-b.inflight }()
		err := b.send(cmd)
		b.metrics.applyDuration.Observe(time.Since(start).Seconds())
		if err != nil {
			b.metrics.applyFailures.Inc()
		} else {
			b.metrics.refsCommitted.Add(float64(count))
		}
		failAll(batch, err)
	}()
}

// await waits for fut's outcome. A future raft had not dequeued when it
// shut down is never answered, so once raft is down (and can answer
// nothing more) await stops waiting; the goroutine left blocked on such a
// future is the price of raft's API.
func (b *batcher) await(fut raft.ApplyFuture) error {
	out := make(chan error, 1)
	go func() { out <- applyOutcome(fut) }()
	select {
	case err := <-out:
		return err
	case <-b.raftDown:
		select {
		case err := <-out:
			return err
		default:
			return fmt.Errorf("%w: raft shut down before answering (the write may have been committed)", ErrClosed)
		}
	}
}

// applyOutcome waits for fut and translates its error.
func applyOutcome(fut raft.ApplyFuture) error {
	err := fut.Error()
	switch {
	case err == nil:
		if rerr, ok := fut.Response().(error); ok {
			return rerr
		}
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: %w (the write may have been committed)", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	default:
		return fmt.Errorf("raft apply: %w", err)
	}
}

func failAll(batch []*addRequest, err error) {
	for _, r := range batch {
		r.done <- err
	}
}

// stop ends run, then answers every request still queued with ErrClosed.
// Commands already proposed are answered by their waiters (see wait).
func (b *batcher) stop() {
	close(b.quit)
	<-b.exited
	b.sendMu.Lock()
	b.closed = true
	b.sendMu.Unlock()
	if b.pending != nil {
		b.pending.done <- ErrClosed
		b.pending = nil
	}
	for {
		select {
		case r := <-b.reqs:
			r.done <- ErrClosed
		default:
			return
		}
	}
}

// wait blocks until every proposed command has been answered; it must be
// called after raft has shut down.
func (b *batcher) wait() {
	close(b.raftDown)
	b.waiters.Wait()
}
