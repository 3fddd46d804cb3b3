package querier

import (
	"bytes"
	"context"
	"slices"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/model"
)

// recentCounts counts ingester entries per stream, metadata set and
// window as they come (in any stream order), keeping per series only the
// changes of its window span: entries of a stream come in time order, so
// consecutive entries in the same windows share one event.
type recentCounts struct {
	sel   *model.CountSelect
	byFP  map[model.Fingerprint][]*recentSeries
	order []*recentSeries
	n, b  []int64 // scratch of emit
}

type recentSeries struct {
	ls     labels.Labels
	fp     model.Fingerprint
	md     labels.Labels // as kept by keepMetadata
	events []countEvent
	minT   int64
}

// countEvent counts n entries of b line bytes in windows first..last.
type countEvent struct {
	first, last int32
	n, b        int64
}

func newRecentCounts(sel *model.CountSelect) *recentCounts {
	return &recentCounts{sel: sel, byFP: map[model.Fingerprint][]*recentSeries{}}
}

// countable reports whether e lies in a window and holds every needle.
func (rc *recentCounts) countable(e *model.StreamEntry) bool {
	if first, last := rc.sel.Windows.Span(e.Timestamp); first > last {
		return false
	}
	for _, n := range rc.sel.Needles {
		if !bytes.Contains(e.Line, n) {
			return false
		}
	}
	return true
}

// add counts a countable entry.
func (rc *recentCounts) add(e *model.StreamEntry) {
	md := keepMetadata(rc.sel, e.Metadata)
	var s *recentSeries
	for _, x := range rc.byFP[e.Fingerprint] {
		if labels.Equal(x.md, md) {
			s = x
			break
		}
	}
	if s == nil {
		s = &recentSeries{ls: e.Labels, fp: e.Fingerprint, md: md, minT: e.Timestamp}
		rc.byFP[e.Fingerprint] = append(rc.byFP[e.Fingerprint], s)
		rc.order = append(rc.order, s)
	}
	first, last := rc.sel.Windows.Span(e.Timestamp)
	s.minT = min(s.minT, e.Timestamp)
	if k := len(s.events) - 1; k >= 0 && s.events[k].first == int32(first) && s.events[k].last == int32(last) {
		s.events[k].n++
		s.events[k].b += int64(len(e.Line))
		return
	}
	s.events = append(s.events, countEvent{first: int32(first), last: int32(last), n: 1, b: int64(len(e.Line))})
}

// emit calls fn with the counts of every series.
func (rc *recentCounts) emit(fn func(*model.WindowCounts) error) error {
	count := rc.sel.Windows.Count
	for _, s := range rc.order {
		rc.n = resize(rc.n, count+1)
		rc.b = resize(rc.b, count+1)
		for _, ev := range s.events {
			rc.n[ev.first] += ev.n
			rc.n[ev.last+1] -= ev.n
			rc.b[ev.first] += ev.b
			rc.b[ev.last+1] -= ev.b
		}
		wc := &model.WindowCounts{Labels: s.ls, Fingerprint: s.fp, Metadata: s.md, MinTime: s.minT,
			Counts: prefixSums(nil, rc.n, count)}
		if rc.sel.Bytes {
			wc.Bytes = prefixSums(nil, rc.b, count)
		}
		if err := fn(wc); err != nil {
			return err
		}
	}
	return nil
}

// anyAt reports whether ts (ascending) holds the timestamp of one of the
// pending entries (ascending) up to through.
func anyAt(ts []int64, pending []pendingEntry, through int64) bool {
	for _, p := range pending {
		if p.ts > through {
			return false
		}
		if _, found := slices.BinarySearch(ts, p.ts); found {
			return true
		}
	}
	return false
}

// lineHash identifies a line among the entries of one stream with the
// same timestamp: a false match needs two different lines of one stream at
// one nanosecond with equal 64-bit hashes.
func lineHash(line []byte) uint64 { return xxhash.Sum64(line) }

// countPending counts the kept ingester entries of a chunk group (pending,
// in ascending time) that no block of the group holds: blocks with an
// entry at one of their timestamps are read with lines, and lines at those
// timestamps are compared by hash.
func (c *streamCounter) countPending(ctx context.Context, all []countBlock, pending []pendingEntry) error {
	type key struct {
		ts   int64
		hash uint64
	}
	held := map[key]bool{}
	for _, b := range all {
		lo, _ := slices.BinarySearchFunc(pending, b.meta.MinTime, func(p pendingEntry, t int64) int { return cmpInt64(p.ts, t) })
		if lo == len(pending) || pending[lo].ts > b.meta.MaxTime {
			continue
		}
		// Only an entry at the same nanosecond can repeat one: read lines
		// only of blocks that have one.
		if err := c.loadTimestamps(b, b.data(ctx)); err != nil {
			return err
		}
		if !anyAt(c.scan.Timestamps(), pending[lo:], b.meta.MaxTime) {
			continue
		}
		d, err := b.src.data(ctx, b.i)
		if err != nil {
			return err
		}
		if err := c.scan.Load(d, b.meta, chunk.ColumnLines, &c.rs); err != nil {
			return err
		}
		for k := lo; k < len(pending) && pending[k].ts <= b.meta.MaxTime; k++ {
			if k > lo && pending[k].ts == pending[k-1].ts {
				continue
			}
			from, to := c.scan.Bounds(pending[k].ts, pending[k].ts+1)
			for i := from; i < to; i++ {
				held[key{pending[k].ts, lineHash(c.scan.Line(i))}] = true
			}
		}
	}
	for _, p := range pending {
		if held[key{p.ts, p.hash}] {
			continue
		}
		first, last := c.w.Span(p.ts)
		c.group(p.md).add(first, last, 1, p.bytes, p.ts)
	}
	return nil
}
