package enginetest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// Querier is an in-memory store of streams.
type Querier struct {
	mu      sync.RWMutex // guards tenants
	tenants map[string]map[model.Fingerprint]*stream
	// Selects records every selection asked for by SelectLogs and
	// SelectStreams, Counts every CountEntries call (for tests of hints).
	Selects []model.LogSelect
	Counts  []model.CountSelect
}

type stream struct {
	labels  labels.Labels
	fp      model.Fingerprint
	entries []model.Entry // sorted by timestamp, then line
}

// New returns an empty Querier.
func New() *Querier { return &Querier{tenants: map[string]map[model.Fingerprint]*stream{}} }

// Push adds entries to the stream with the given labels ({a="b"} syntax).
func (q *Querier) Push(tenant, lbls string, entries ...model.Entry) error {
	ls, err := parser.NewParser(parser.Options{}).ParseMetric(lbls)
	if err != nil {
		return fmt.Errorf("parse stream labels %q: %w", lbls, err)
	}
	q.PushLabels(tenant, ls, entries...)
	return nil
}

// PushLabels adds entries to the stream ls.
func (q *Querier) PushLabels(tenant string, ls labels.Labels, entries ...model.Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := q.tenants[tenant]
	if t == nil {
		t = map[model.Fingerprint]*stream{}
		q.tenants[tenant] = t
	}
	fp := model.StreamFingerprint(tenant, ls)
	s := t[fp]
	if s == nil {
		s = &stream{labels: ls, fp: fp}
		t[fp] = s
	}
	s.entries = append(s.entries, entries...)
	sort.SliceStable(s.entries, func(i, j int) bool {
		a, b := s.entries[i], s.entries[j]
		if a.Timestamp != b.Timestamp {
			return a.Timestamp < b.Timestamp
		}
		return bytes.Compare(a.Line, b.Line) < 0
	})
	out := s.entries[:0]
	for i, e := range s.entries {
		if i > 0 && e.Timestamp == out[len(out)-1].Timestamp && bytes.Equal(e.Line, out[len(out)-1].Line) {
			continue
		}
		out = append(out, e)
	}
	s.entries = out
}

// SelectLogs implements engine.Querier.
func (q *Querier) SelectLogs(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	q.mu.Lock()
	q.Selects = append(q.Selects, sel)
	var its []iter.EntryIterator
	for _, s := range q.tenants[sel.Tenant] {
		if !matches(sel.Matchers, s.labels) {
			continue
		}
		lo := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].Timestamp >= sel.Start })
		hi := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].Timestamp >= sel.End })
		if lo >= hi {
			continue
		}
		items := make([]model.StreamEntry, 0, hi-lo)
		for _, e := range s.entries[lo:hi] {
			if sel.TimestampsOnly {
				e.Line = nil // as storage does: timestamps and metadata only
			}
			items = append(items, model.StreamEntry{Labels: s.labels, Fingerprint: s.fp, Entry: e})
		}
		if sel.Direction == model.Backward {
			for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
				items[i], items[j] = items[j], items[i]
			}
		}
		its = append(its, iter.Slice(items))
	}
	q.mu.Unlock()
	if len(its) == 0 {
		return iter.Empty[model.StreamEntry](), nil
	}
	var it iter.EntryIterator
	if sel.TimestampsOnly {
		it = iter.MergeAll(sel.Direction, its...) // entries without lines cannot be told apart
	} else {
		it = iter.MergeEntries(sel.Direction, its...)
	}
	return &countingIter{EntryIterator: it, st: stats.FromContext(ctx).Ingester()}, nil
}

// selected returns the streams of sel matching its selector, sorted by
// fingerprint, each with its entries in [sel.Start, sel.End) in
// sel.Direction order (lines dropped when TimestampsOnly).
func (q *Querier) selected(sel model.LogSelect) [][]model.StreamEntry {
	q.mu.RLock()
	defer q.mu.RUnlock()
	var streams []*stream
	for _, s := range q.tenants[sel.Tenant] {
		if matches(sel.Matchers, s.labels) {
			streams = append(streams, s)
		}
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].fp < streams[j].fp })
	var out [][]model.StreamEntry
	for _, s := range streams {
		lo := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].Timestamp >= sel.Start })
		hi := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].Timestamp >= sel.End })
		if lo >= hi {
			continue
		}
		items := make([]model.StreamEntry, 0, hi-lo)
		for _, e := range s.entries[lo:hi] {
			if sel.TimestampsOnly {
				e.Line = nil
			}
			items = append(items, model.StreamEntry{Labels: s.labels, Fingerprint: s.fp, Entry: e})
		}
		if sel.Direction == model.Backward {
			slices.Reverse(items)
		}
		out = append(out, items)
	}
	return out
}

// SelectStreams implements engine.StreamQuerier. The first two streams (by
// fingerprint) come merged in one iterator, the others one by one, so that
// callers see both shapes the contract allows; up to two workers run fn at
// once.
func (q *Querier) SelectStreams(ctx context.Context, sel model.LogSelect, workers int, fn func(int, iter.EntryIterator) error) error {
	q.mu.Lock()
	q.Selects = append(q.Selects, sel)
	q.mu.Unlock()
	streams := q.selected(sel)
	var its []iter.EntryIterator
	if len(streams) >= 2 {
		its = append(its, iter.MergeAll(sel.Direction, iter.Slice(streams[0]), iter.Slice(streams[1])))
		streams = streams[2:]
	}
	for _, s := range streams {
		its = append(its, iter.Slice(s))
	}
	st := stats.FromContext(ctx).Ingester()
	var mu sync.Mutex // guards next and firstErr
	next := 0
	var firstErr error
	var wg sync.WaitGroup
	for w := range min(workers, 2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next == len(its) || firstErr != nil {
					mu.Unlock()
					return
				}
				it := &countingIter{EntryIterator: its[next], st: st}
				next++
				mu.Unlock()
				err := fn(w, it)
				if cerr := it.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// CountEntries implements engine.Counter.
func (q *Querier) CountEntries(ctx context.Context, sel model.CountSelect, fn func(*model.WindowCounts) error) error {
	q.mu.Lock()
	q.Counts = append(q.Counts, sel)
	q.mu.Unlock()
	w := sel.Windows
	ls := sel.LogSelect
	ls.Start, ls.End, ls.Direction, ls.TimestampsOnly = w.Start(), w.Last()+1, model.Forward, false
	var lines, size int64
	for _, entries := range q.selected(ls) {
		byMD := map[string]*model.WindowCounts{}
		var order []string
		for _, e := range entries {
			if !containsAll(e.Line, sel.Needles) {
				continue
			}
			first, last := w.Span(e.Timestamp)
			if first > last {
				continue
			}
			lines++
			size += int64(len(e.Line))
			md := keptMetadata(e.Metadata, sel)
			key := md.String()
			wc := byMD[key]
			if wc == nil {
				wc = &model.WindowCounts{Labels: e.Labels, Fingerprint: e.Fingerprint, Metadata: md,
					Counts: make([]int64, w.Count), MinTime: e.Timestamp}
				if sel.Bytes {
					wc.Bytes = make([]int64, w.Count)
				}
				byMD[key] = wc
				order = append(order, key)
			}
			for i := first; i <= last; i++ {
				wc.Counts[i]++
				if sel.Bytes {
					wc.Bytes[i] += int64(len(e.Line))
				}
			}
		}
		for _, k := range order {
			if err := fn(byMD[k]); err != nil {
				return err
			}
		}
	}
	stats.FromContext(ctx).Ingester().AddHeadChunk(lines, size, 0)
	return nil
}

func containsAll(line []byte, needles [][]byte) bool {
	for _, n := range needles {
		if !bytes.Contains(line, n) {
			return false
		}
	}
	return true
}

// keptMetadata returns the metadata labels sel splits counts by.
func keptMetadata(md labels.Labels, sel model.CountSelect) labels.Labels {
	if sel.AllMetadata {
		return md
	}
	b := labels.NewScratchBuilder(0)
	md.Range(func(l labels.Label) {
		if slices.Contains(sel.MetadataBy, l.Name) {
			b.Add(l.Name, l.Value)
		}
	})
	return b.Labels()
}

func matches(ms []*labels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// countingIter adds every entry read to the head-chunk statistics.
type countingIter struct {
	iter.EntryIterator
	st           *stats.StoreCounters
	lines, bytes int64
}

func (c *countingIter) Next() bool {
	if !c.EntryIterator.Next() {
		return false
	}
	c.lines++
	c.bytes += int64(len(c.EntryIterator.At().Line))
	return true
}

func (c *countingIter) Close() error {
	c.st.AddHeadChunk(c.lines, c.bytes, 0)
	c.lines, c.bytes = 0, 0
	return c.EntryIterator.Close()
}
