package ingester

import (
	"context"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// streamSnap is what a query took from one stream under its lock.
type streamSnap struct {
	s      *stream
	head   []byte // copy of the head's entries, nil if outside the range
	blocks []snapBlock
}

// snapBlock locates one block of a snapshot.
type snapBlock struct {
	cseq uint64
	ref  blockRef
}

// Query returns the entries held by the ingester (head blocks, blocks of
// open chunks and cut chunks not yet flushed) of sel.Tenant's streams that
// match sel.Matchers, with sel.Start <= ts < sel.End, in sel.Direction
// order, identical entries once, at most sel.Limit (if > 0). Blocks ruled
// out by sel.Needles are skipped; other lines are returned unfiltered.
//
// Consistency: the result contains every entry acknowledged before Query
// was called and not flushed before it; entries flushed while it runs may
// appear both here and in the store (the querier de-duplicates). The
// iterator holds a Badger read transaction and must be closed; entry lines
// are valid until the next Next.
func (i *Ingester) Query(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	q, its, err := i.query(ctx, sel)
	if err != nil {
		return nil, err
	}
	q.EntryIterator = iter.Limit(iter.MergeEntries(sel.Direction, its...), sel.Limit)
	return q, nil
}

// QueryStreams is Query split by stream: it returns an iterator over one
// entry iterator per stream that holds data in range (possibly none in
// the end: blocks are filtered when read), each in sel.Direction order
// with identical entries once; sel.Limit is ignored. An entry iterator is
// valid until the next Next of the outer one; closing the outer one closes
// them all and ends the Badger read transaction they share.
func (i *Ingester) QueryStreams(ctx context.Context, sel model.LogSelect) (iter.Iterator[iter.EntryIterator], error) {
	q, its, err := i.query(ctx, sel)
	if err != nil {
		return nil, err
	}
	for k, it := range its {
		its[k] = iter.Dedup(it)
	}
	q.EntryIterator = iter.Empty[model.StreamEntry]()
	return &streamsIter{q: q, its: its, i: -1}, nil
}

// streamsIter is the iterator QueryStreams returns.
type streamsIter struct {
	q   *queryIter
	its []iter.EntryIterator
	i   int
}

func (s *streamsIter) Next() bool {
	s.i++
	return s.i < len(s.its)
}

func (s *streamsIter) At() iter.EntryIterator { return s.its[s.i] }
func (s *streamsIter) Err() error             { return nil }

func (s *streamsIter) Close() error {
	for _, it := range s.its {
		_ = it.Close()
	}
	s.its = nil
	return s.q.Close()
}

// query snapshots the streams matching sel and returns one iterator per
// stream, reading from the returned queryIter's transaction (which the
// caller must close).
func (i *Ingester) query(ctx context.Context, sel model.LogSelect) (*queryIter, []iter.EntryIterator, error) {
	if err := i.enter(); err != nil {
		return nil, nil, err
	}
	defer i.closeMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	q := &queryIter{i: i, sel: sel}
	streams := i.matchingStreams(sel.Tenant, sel.Matchers)
	// Blocks in a snapshot are deleted from Badger only after deleteMu is
	// released, so the transaction opened below still sees them.
	i.deleteMu.RLock()
	snaps := make([]streamSnap, 0, len(streams))
	anyBlocks := false
	for _, s := range streams {
		if sn, ok := snapshot(s, sel.Start, sel.End); ok {
			snaps = append(snaps, sn)
			anyBlocks = anyBlocks || len(sn.blocks) > 0
		}
	}
	if anyBlocks {
		q.txn = i.db.NewTransaction(false)
		// An open iterator keeps value log garbage collection from deleting
		// files that hold blocks of this snapshot.
		q.pin = q.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixPin}})
	}
	i.deleteMu.RUnlock()

	its := make([]iter.EntryIterator, 0, len(snaps))
	for k := range snaps {
		its = append(its, newStreamIter(q, &snaps[k]))
	}
	return q, its, nil
}

// snapshot copies what a query over [start, end) needs from s.
func snapshot(s *stream, start, end int64) (streamSnap, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sn := streamSnap{s: s}
	// The sealed head's entries and the head's, back to back: headEntries
	// sorts them.
	if sh := s.sealed; sh != nil && sh.minTs < end && sh.maxTs >= start {
		sn.head = sh.appendTo(make([]byte, 0, sh.size+s.head.size))
	}
	if h := &s.head; !h.empty() && h.minTs < end && h.maxTs >= start {
		sn.head = h.appendTo(sn.head)
	}
	add := func(cseq uint64, blocks []blockRef) {
		for _, b := range blocks {
			if b.meta.Entries > 0 && b.meta.MinTime < end && b.meta.MaxTime >= start {
				sn.blocks = append(sn.blocks, snapBlock{cseq: cseq, ref: b})
			}
		}
	}
	for _, c := range s.cut {
		add(c.cseq, c.blocks)
	}
	add(s.open.cseq, s.open.blocks)
	return sn, sn.head != nil || len(sn.blocks) > 0
}

// matchingStreams returns the streams of tenant whose labels match all ms.
func (i *Ingester) matchingStreams(tenant string, ms []*labels.Matcher) []*stream {
	all := i.streams.all(tenant)
	out := all[:0]
	for _, s := range all {
		if matches(s.labels, ms) {
			out = append(out, s)
		}
	}
	return out
}

func matches(ls labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// queryIter is the iterator Query returns: the merged streams plus the
// Badger transaction their blocks are read from.
type queryIter struct {
	iter.EntryIterator
	i   *Ingester
	sel model.LogSelect
	txn *badger.Txn
	pin *badger.Iterator
}

func (q *queryIter) Close() error {
	err := q.EntryIterator.Close()
	if q.txn != nil {
		q.i.dbMu.RLock()
		if !q.i.dbClosed {
			q.pin.Close()
			q.txn.Discard()
		}
		q.i.dbMu.RUnlock()
		q.txn, q.pin = nil, nil
	}
	return err
}

// readBlock returns the encoded block b of stream s and its meta with the
// token filter, or ok false if the filter rules out one of the needles.
func (q *queryIter) readBlock(s *stream, b *snapBlock) (data []byte, ok bool, err error) {
	q.i.dbMu.RLock()
	defer q.i.dbMu.RUnlock()
	if q.i.dbClosed {
		return nil, false, ErrClosed
	}
	item, err := q.txn.Get(blockDataKey(s.sid, b.cseq, b.ref.bseq))
	if err != nil {
		return nil, false, fmt.Errorf("read block %d of %s: %w: %w", b.ref.bseq, s.labels, ErrStorage, err)
	}
	err = item.Value(func(v []byte) error {
		filter, block, err := readBlockDataRecord(v)
		if err != nil {
			return err
		}
		m := b.ref.meta
		m.Filter = filter
		for _, n := range q.sel.Needles {
			if !m.MayContain(n) {
				return nil
			}
		}
		data, ok = slices.Clone(block), true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("read block %d of %s: %w", b.ref.bseq, s.labels, wrapBadger(err))
	}
	return data, ok, nil
}

// Series returns the tenant's streams in memory that match ms and hold
// entries in [from, through] (inclusive), sorted by fingerprint.
func (i *Ingester) Series(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	var out []index.Stream
	err := i.eachStream(ctx, tenant, from, through, ms, func(s *stream) {
		out = append(out, index.Stream{Fingerprint: s.fp, Labels: s.labels})
	})
	slices.SortFunc(out, func(a, b index.Stream) int {
		if a.Fingerprint != b.Fingerprint {
			return cmpUint(uint64(a.Fingerprint), uint64(b.Fingerprint))
		}
		return labels.Compare(a.Labels, b.Labels)
	})
	return out, err
}

// LabelNames returns the sorted label names of the tenant's streams in
// memory that match ms and hold entries in [from, through].
func (i *Ingester) LabelNames(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	set := map[string]struct{}{}
	err := i.eachStream(ctx, tenant, from, through, ms, func(s *stream) {
		s.labels.Range(func(l labels.Label) { set[l.Name] = struct{}{} })
	})
	return sortedKeys(set), err
}

// LabelValues returns the sorted values of label name among the tenant's
// streams in memory that match ms and hold entries in [from, through].
func (i *Ingester) LabelValues(ctx context.Context, tenant, name string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	set := map[string]struct{}{}
	err := i.eachStream(ctx, tenant, from, through, ms, func(s *stream) {
		if v := s.labels.Get(name); v != "" {
			set[v] = struct{}{}
		}
	})
	return sortedKeys(set), err
}

// eachStream calls fn for every stream of tenant matching ms with data in
// [from, through].
func (i *Ingester) eachStream(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher, fn func(*stream)) error {
	if err := i.enter(); err != nil {
		return err
	}
	defer i.closeMu.RUnlock()
	for k, s := range i.matchingStreams(tenant, ms) {
		if k%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s.mu.Lock()
		lo, hi, ok := s.timeRange()
		s.mu.Unlock()
		if ok && lo <= through && hi >= from {
			fn(s)
		}
	}
	return nil
}

func sortedKeys(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
