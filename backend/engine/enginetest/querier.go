package enginetest

import (
	"bytes"
	"context"
	"fmt"
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
	// Selects records every selection asked for (for tests of hints).
	Selects []model.LogSelect
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
