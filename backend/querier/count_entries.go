package querier

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// CountEntries counts the entries of the selection per window
// (engine.Counter).
//
// Ingester data is read first, in one pass: an entry outside the time
// range of its stream's chunks is counted at once; one inside is kept (as
// timestamp and line hash) to be checked against the chunks. Then streams
// are counted in parallel, up to Config.FetchConcurrency at once: blocks
// wholly inside the windows that touch them count from the block index;
// others from their timestamps (cached after a first read), lines being
// read only for needles, for structured metadata when counts split by it,
// for blocks that share a timestamp with an overlapping block, and for
// blocks holding the timestamp of a kept ingester entry — so that
// identical entries count once.
//
// fn is called under a lock, never concurrently, possibly several times
// for one stream and metadata set: the counts add up.
func (q *Querier) CountEntries(ctx context.Context, sel model.CountSelect, fn func(*model.WindowCounts) error) error {
	w := sel.Windows
	if w.Count <= 0 || w.Step <= 0 || w.Range <= 0 {
		return fmt.Errorf("count entries: windows %+v: %w", w, ErrBadWindows)
	}
	ls := sel.LogSelect
	ls.Start, ls.End, ls.Direction, ls.TimestampsOnly, ls.Limit = w.Start(), w.Last()+1, model.Forward, false, 0
	floor := q.minTime(ls.Tenant)
	if ls.Start = max(ls.Start, floor); ls.End <= ls.Start {
		return nil
	}
	recent, err := q.openRecent(ctx, ls, true)
	if err != nil {
		return err
	}
	srcs, err := q.sources(ctx, ls)
	if err != nil {
		recent.close()
		return err
	}
	sink := &countSink{fn: fn}
	work := make([]*countWork, len(srcs))
	byFP := make(map[model.Fingerprint]*countWork, len(srcs))
	for i := range srcs {
		cw := &countWork{src: &srcs[i], groups: chunkGroups(srcs[i].refs)}
		work[i], byFP[srcs[i].stream.Fingerprint] = cw, cw
	}
	if recent != nil {
		if err := q.countRecent(&sel, recent, byFP, sink); err != nil {
			return err
		}
	}
	return q.countChunks(ctx, &sel, work, sink, floor)
}

// countWork is one stream to count from its chunks, with the ingester
// entries that may repeat chunk entries.
type countWork struct {
	src     *streamSource
	groups  [][]index.ChunkRef
	pending []pendingEntry // ascending timestamps
}

// pendingEntry is an ingester entry that falls in the time range of one
// of its stream's chunk groups: it counts unless a chunk holds it too.
type pendingEntry struct {
	ts    int64
	hash  uint64 // of the line
	bytes int64
	md    labels.Labels
}

// countSink serializes calls of CountEntries' fn.
type countSink struct {
	mu sync.Mutex // guards fn's calls
	fn func(*model.WindowCounts) error
}

func (s *countSink) call(wc *model.WindowCounts) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fn(wc)
}

// countChunks counts streams from their chunks on parallel workers; no
// entry before floor counts.
func (q *Querier) countChunks(ctx context.Context, sel *model.CountSelect, work []*countWork, sink *countSink, floor int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex // guards firstErr
	var firstErr error
	var wg sync.WaitGroup
	for range min(q.cfg.FetchConcurrency, len(work)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := q.newStreamCounter(sel, floor)
			defer q.releaseStreamCounter(c)
			defer c.report(ctx)
			for i := int(next.Add(1) - 1); i < len(work); i = int(next.Add(1) - 1) {
				err := ctx.Err()
				if err == nil {
					err = q.countStream(ctx, work[i], c, sink)
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
	return firstErr
}

// countStream counts one stream's chunks, and its kept ingester entries
// that no chunk holds, and emits the counts.
func (q *Querier) countStream(ctx context.Context, cw *countWork, c *streamCounter, sink *countSink) error {
	c.reset(cw.src.stream)
	pending := cw.pending
	slices.SortFunc(pending, func(a, b pendingEntry) int { return cmpInt64(a.ts, b.ts) })
	for _, g := range cw.groups {
		_, through := groupSpan(g)
		n := 0
		for n < len(pending) && pending[n].ts <= through {
			n++
		}
		if err := q.countGroup(ctx, g, pending[:n], c); err != nil {
			return err
		}
		pending = pending[n:]
	}
	return c.emit(sink.call)
}

// report adds what the counter read to the query statistics.
func (c *streamCounter) report(ctx context.Context) {
	st := stats.FromContext(ctx)
	if st == nil {
		return
	}
	st.Querier().AddDecompressed(c.rs.Entries, c.rs.DecompressedBytes, c.rs.CompressedBytes, 0)
	c.rs = chunk.ReadStats{}
}

// fetchChunk reads and decodes a whole chunk object and caches its block
// index.
func (q *Querier) fetchChunk(ctx context.Context, ref index.ChunkRef) (*chunk.Chunk, error) {
	begin := time.Now()
	data, err := q.bucket.Get(ctx, ref.Key)
	if err != nil {
		return nil, fmt.Errorf("fetch chunk %s: %w", ref.Key, err)
	}
	c, err := chunk.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode chunk %s: %w", ref.Key, err)
	}
	q.metas.put(ref.Key, newChunkMeta(c))
	stats.FromContext(ctx).Querier().AddChunks(1, 1, time.Since(begin))
	return c, nil
}

// countRecent reads the ingesters' entries once: those that can count and
// fall outside their stream's chunk groups are counted (and emitted) at
// once, those inside are kept in byFP's pending lists.
// It closes recent.
func (q *Querier) countRecent(sel *model.CountSelect, recent *recentSnap, byFP map[model.Fingerprint]*countWork, sink *countSink) error {
	rc := newRecentCounts(sel)
	add := func(e *model.StreamEntry) {
		if !rc.countable(e) {
			return
		}
		if cw := byFP[e.Fingerprint]; cw != nil && inGroups(cw.groups, e.Timestamp) {
			cw.pending = append(cw.pending, pendingEntry{ts: e.Timestamp, hash: lineHash(e.Line), bytes: int64(len(e.Line)), md: e.Metadata})
			return
		}
		rc.add(e)
	}
	var err error
	if recent.streams != nil {
		err = eachRecentStream(recent.streams, add)
	} else {
		err = drain(recent.merged, add)
	}
	if err != nil {
		return err
	}
	return rc.emit(sink.call)
}

// eachRecentStream calls fn for every entry of the ingesters' data, read
// stream by stream, and closes streams.
func eachRecentStream(streams iter.Iterator[iter.EntryIterator], fn func(*model.StreamEntry)) error {
	for streams.Next() {
		if err := drainOpen(streams.At(), fn); err != nil {
			_ = streams.Close()
			return err
		}
	}
	err := streams.Err()
	if cerr := streams.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read recent streams: %w", err)
	}
	return nil
}

// drain calls fn for every entry of it, then closes it.
func drain(it iter.EntryIterator, fn func(*model.StreamEntry)) error {
	err := drainOpen(it, fn)
	if cerr := it.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read recent entries: %w", cerr)
	}
	return err
}

// drainOpen calls fn for every entry of it, leaving it open.
func drainOpen(it iter.EntryIterator, fn func(*model.StreamEntry)) error {
	for it.Next() {
		e := it.At()
		fn(&e)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read recent entries: %w", err)
	}
	return nil
}

// inGroups reports whether ts lies in the time range of one of the chunk
// groups (ascending, disjoint).
func inGroups(groups [][]index.ChunkRef, ts int64) bool {
	for _, g := range groups {
		from, through := groupSpan(g)
		if ts < from {
			return false
		}
		if ts <= through {
			return true
		}
	}
	return false
}
