package querier

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// SelectStreams calls fn with the entries of the selection stream by
// stream (engine.StreamQuerier): a stream's chunks and its ingester data
// merge into one iterator, de-duplicated, with no merge across streams.
// Streams with ingester data come first, on worker 0; with a recent source
// that cannot split its data by stream (no RecentStreams) and more of it
// than fits a bounded buffer, they come together in one merged iterator.
// The other streams run on up to workers goroutines, while the first
// chunks of the next ones are fetched.
func (q *Querier) SelectStreams(ctx context.Context, sel model.LogSelect, workers int, fn func(int, iter.EntryIterator) error) error {
	sel.Start = max(sel.Start, q.minTime(sel.Tenant))
	if sel.End <= sel.Start {
		return nil
	}
	recent, err := q.openRecent(ctx, sel, true)
	if err != nil {
		return err
	}
	srcs, err := q.sources(ctx, sel)
	if err != nil {
		recent.close()
		return err
	}
	call := func(worker int, it iter.EntryIterator) error {
		err := fn(worker, it)
		if cerr := it.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close stream: %w", cerr)
		}
		return err
	}
	done := map[model.Fingerprint]bool{}
	if recent != nil {
		first := func(it iter.EntryIterator) error { return call(0, it) }
		if err := q.selectRecent(ctx, sel, recent, srcs, done, first); err != nil {
			return err
		}
	}
	rest := make([]*streamChunks, 0, len(srcs))
	for _, src := range srcs {
		if !done[src.stream.Fingerprint] {
			rest = append(rest, newStreamChunks(q, src.stream, src.refs, sel))
		}
	}
	return q.selectChunks(ctx, rest, max(workers, 1), call)
}

// selectChunks calls fn for every stream of scs on workers goroutines,
// taking streams in order as their first chunks are fetched.
func (q *Querier) selectChunks(ctx context.Context, scs []*streamChunks, workers int, fn func(int, iter.EntryIterator) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := q.loadAhead(ctx, scs)
	var next atomic.Int64
	var mu sync.Mutex // guards firstErr
	var firstErr error
	var wg sync.WaitGroup
	for w := range min(workers, len(scs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(scs); i = int(next.Add(1) - 1) {
				a.wait(i)
				err := ctx.Err()
				if err == nil {
					err = fn(w, scs[i])
				} else {
					_ = scs[i].Close()
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	a.stop()
	for i := int(next.Load()); i < len(scs); i++ {
		_ = scs[i].Close() // streams never handed out
	}
	return firstErr
}

// selectRecent calls fn for the streams that have ingester data (in
// recent, which it closes), each merged with its chunks, and marks them in
// done.
func (q *Querier) selectRecent(ctx context.Context, sel model.LogSelect, recent *recentSnap, srcs []streamSource, done map[model.Fingerprint]bool, fn func(iter.EntryIterator) error) error {
	lsel := sel
	lsel.TimestampsOnly = false // only lines tell repeats apart
	byFP := make(map[model.Fingerprint]*streamSource, len(srcs))
	for i := range srcs {
		byFP[srcs[i].stream.Fingerprint] = &srcs[i]
	}
	withChunks := func(its []iter.EntryIterator, fp model.Fingerprint) []iter.EntryIterator {
		if src := byFP[fp]; src != nil && !done[fp] {
			its = append(its, newStreamChunks(q, src.stream, src.refs, lsel))
		}
		done[fp] = true
		return its
	}
	if recent.merged != nil {
		return q.selectRecentMerged(ctx, sel, recent.merged, withChunks, fn)
	}
	streams := recent.streams
	defer streams.Close()
	for streams.Next() {
		p := &peeked{EntryIterator: streams.At()}
		if !p.prime() {
			if err := p.Err(); err != nil {
				return fmt.Errorf("read recent stream: %w", err)
			}
			continue
		}
		its := withChunks([]iter.EntryIterator{p}, p.cur.Fingerprint)
		if err := fn(iter.MergeEntries(sel.Direction, its...)); err != nil {
			return err
		}
	}
	if err := streams.Err(); err != nil {
		return fmt.Errorf("read recent streams: %w", err)
	}
	return nil
}

// recentBufferBytes bounds the ingester data SelectStreams splits by
// stream in memory when the recent source cannot split it itself.
const recentBufferBytes = 64 << 20

// selectRecentMerged is selectRecent for a recent source without
// RecentStreams: its merged data is split by stream in memory, up to
// q.recentBuffer bytes; past that, it is merged with the chunks of every
// stream the source holds, in one iterator. It closes it.
func (q *Querier) selectRecentMerged(ctx context.Context, sel model.LogSelect, it iter.EntryIterator,
	withChunks func([]iter.EntryIterator, model.Fingerprint) []iter.EntryIterator, fn func(iter.EntryIterator) error) error {
	var buf []model.StreamEntry
	var arena []byte
	size := 0
	for size <= q.recentBuffer && it.Next() {
		e := it.At()
		if cap(arena)-len(arena) < len(e.Line) {
			arena = make([]byte, 0, max(1<<20, len(e.Line)))
		}
		start := len(arena)
		arena = append(arena, e.Line...)
		e.Line = arena[start:len(arena):len(arena)]
		buf = append(buf, e)
		size += len(e.Line) + 64
	}
	if err := it.Err(); err != nil {
		_ = it.Close()
		return fmt.Errorf("read recent entries: %w", err)
	}
	if size > q.recentBuffer {
		held, err := q.recent.Series(ctx, sel.Tenant, sel.Start, sel.End-1, sel.Matchers)
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("select recent streams: %w", err)
		}
		its := []iter.EntryIterator{&concat{its: []iter.EntryIterator{iter.Slice(buf), it}}}
		for _, s := range held {
			its = withChunks(its, s.Fingerprint)
		}
		return fn(iter.MergeEntries(sel.Direction, its...))
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("close recent entries: %w", err)
	}
	byFP := map[model.Fingerprint][]model.StreamEntry{}
	var order []model.Fingerprint
	for _, e := range buf {
		if _, ok := byFP[e.Fingerprint]; !ok {
			order = append(order, e.Fingerprint)
		}
		byFP[e.Fingerprint] = append(byFP[e.Fingerprint], e)
	}
	for _, fp := range order {
		its := withChunks([]iter.EntryIterator{iter.Slice(byFP[fp])}, fp)
		if err := fn(iter.MergeEntries(sel.Direction, its...)); err != nil {
			return err
		}
	}
	return nil
}

// concat yields the entries of its iterators one after the other.
type concat struct {
	its []iter.EntryIterator
	err error
}

func (c *concat) Next() bool {
	for len(c.its) > 0 && c.err == nil {
		if c.its[0].Next() {
			return true
		}
		c.err = c.its[0].Err()
		_ = c.its[0].Close()
		c.its = c.its[1:]
	}
	return false
}

func (c *concat) At() model.StreamEntry { return c.its[0].At() }
func (c *concat) Err() error            { return c.err }

func (c *concat) Close() error {
	var first error
	for _, it := range c.its {
		if err := it.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.its = nil
	return first
}

// queryRecentStreams asks the ingesters for their data stream by stream.
func (q *Querier) queryRecentStreams(ctx context.Context, rs RecentStreams, sel model.LogSelect) (iter.Iterator[iter.EntryIterator], error) {
	streams, err := rs.QueryStreams(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("query ingesters: %w", err)
	}
	st := stats.FromContext(ctx)
	if st == nil {
		return streams, nil
	}
	st.AddIngesterReached(1)
	return &countRecentStreams{Iterator: streams, st: st}, nil
}

// countRecentStreams counts the lines read from each stream as ingester
// head-chunk statistics.
type countRecentStreams struct {
	iter.Iterator[iter.EntryIterator]
	st  *stats.Context
	cur countRecent
}

func (c *countRecentStreams) Next() bool {
	if c.cur.EntryIterator != nil {
		c.st.Ingester().AddHeadChunk(c.cur.lines, c.cur.bytes, 0)
		c.cur = countRecent{}
	}
	return c.Iterator.Next()
}

func (c *countRecentStreams) At() iter.EntryIterator {
	c.cur = countRecent{EntryIterator: c.Iterator.At(), st: c.st}
	return &c.cur
}

func (c *countRecentStreams) Close() error {
	if c.cur.EntryIterator != nil {
		c.st.Ingester().AddHeadChunk(c.cur.lines, c.cur.bytes, 0)
		c.cur = countRecent{}
	}
	return c.Iterator.Close()
}

// peeked is an iterator read one entry ahead: cur is the next entry when
// has is true. prime reads the first one (to learn its stream); Next then
// returns it first.
type peeked struct {
	iter.EntryIterator
	cur     model.StreamEntry
	has     bool
	pending bool // Next returns cur without advancing
}

func (p *peeked) prime() bool {
	p.advance()
	p.pending = true
	return p.has
}

func (p *peeked) advance() {
	if p.has = p.EntryIterator.Next(); p.has {
		p.cur = p.EntryIterator.At()
	}
}

func (p *peeked) Next() bool {
	if p.pending {
		p.pending = false
		return p.has
	}
	p.advance()
	return p.has
}

func (p *peeked) At() model.StreamEntry { return p.cur }

// Close does nothing: the iterator belongs to the recent source's
// iterator of streams, which closes it.
func (p *peeked) Close() error { return nil }

// ahead fetches the first chunk group of streams in order, at most
// FetchConcurrency streams ahead of the consumer, so that fetches overlap
// evaluation.
type ahead struct {
	ready  []chan struct{} // closed once stream i is fetched
	slots  chan struct{}   // one per stream fetched and not yet consumed
	done   chan struct{}   // closed once no fetch runs or will run
	cancel context.CancelFunc
}

// loadAhead starts fetching for scs; the caller must wait(i) before using
// scs[i] and call stop when done.
func (q *Querier) loadAhead(ctx context.Context, scs []*streamChunks) *ahead {
	ctx, cancel := context.WithCancel(ctx)
	n := q.cfg.FetchConcurrency
	a := &ahead{ready: make([]chan struct{}, len(scs)), slots: make(chan struct{}, n), done: make(chan struct{}), cancel: cancel}
	for i := range a.ready {
		a.ready[i] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		go func() {
			defer wg.Done()
			for i := range next {
				scs[i].load(ctx)
				close(a.ready[i])
			}
		}()
	}
	go func() {
		defer close(a.done)
		defer wg.Wait()
		defer close(next)
		for i := range scs {
			select {
			case a.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	return a
}

// wait blocks until stream i is fetched, or fetching stopped (the stream
// then loads on its first Next), and frees its slot.
func (a *ahead) wait(i int) {
	select {
	case <-a.ready[i]:
		<-a.slots
	case <-a.done:
	}
}

// stop cancels the fetches and waits for them to end.
func (a *ahead) stop() {
	a.cancel()
	<-a.done
}
