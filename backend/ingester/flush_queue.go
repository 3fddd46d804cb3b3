package ingester

import (
	"slices"
	"sync"
	"time"
)

// flushQueue holds the cut chunks waiting for the flush, oldest first.
type flushQueue struct {
	mu    sync.Mutex // guards items, bytes and the retry state of the chunks
	items []*cutChunk
	bytes int64
	round uint64 // last take round handed out
	m     *metrics
	// kick wakes the flush loop when a chunk is queued (capacity 1).
	kick chan struct{}
}

// push queues c and wakes the flush loop.
func (q *flushQueue) push(c *cutChunk) {
	q.mu.Lock()
	q.items = append(q.items, c)
	q.bytes += c.size
	q.updateMetrics()
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

func (q *flushQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// newRound returns an id for a sequence of takes that must visit each
// chunk at most once.
func (q *flushQueue) newRound() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.round++
	return q.round
}

// take returns up to n chunks that are not being flushed, have not been
// taken in this round, and are due at now (or regardless of their backoff
// when force), and marks them in flight.
func (q *flushQueue) take(now int64, n int, force bool, round uint64) []*cutChunk {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*cutChunk
	for _, c := range q.items {
		if len(out) == n {
			break
		}
		if c.inFlight || c.round == round || (!force && c.nextTry > now) {
			continue
		}
		c.inFlight, c.round = true, round
		out = append(out, c)
	}
	return out
}

// done removes flushed chunks.
func (q *flushQueue) done(cs []*cutChunk) {
	if len(cs) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range cs {
		c.inFlight, c.flushed = false, true
		q.bytes -= c.size
	}
	q.items = slices.DeleteFunc(q.items, func(c *cutChunk) bool { return c.flushed })
	q.updateMetrics()
}

// failed schedules the retry of chunks whose flush failed: the delay
// doubles from minBackoff with each failure, up to maxBackoff.
func (q *flushQueue) failed(cs []*cutChunk, now int64, minBackoff, maxBackoff time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range cs {
		c.inFlight = false
		c.attempts++
		d := maxBackoff
		if c.attempts <= 30 && minBackoff<<(c.attempts-1) < maxBackoff {
			d = minBackoff << (c.attempts - 1)
		}
		c.nextTry = now + int64(d)
	}
}

func (q *flushQueue) updateMetrics() {
	if q.m != nil {
		q.m.backlogChunks.Set(float64(len(q.items)))
		q.m.backlogBytes.Set(float64(q.bytes))
	}
}
