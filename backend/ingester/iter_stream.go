package ingester

import (
	"bytes"
	"cmp"
	"container/heap"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// streamIter merges the head and the blocks of one stream snapshot in the
// query's direction. Blocks are opened lazily: a block is read from Badger
// only once the merge reaches its first possible timestamp, so a query with
// a small limit reads only the newest (or oldest) blocks.
type streamIter struct {
	q       *queryIter
	s       *stream
	dir     model.Direction
	pending []snapBlock // not opened yet, in order of their first possible entry
	h       sourceHeap
	advance bool // the top source's current entry was returned
	cur     model.StreamEntry
	err     error
}

func newStreamIter(q *queryIter, sn *streamSnap) *streamIter {
	it := &streamIter{q: q, s: sn.s, dir: q.sel.Direction, pending: sn.blocks}
	it.h.dir = it.dir
	if it.dir == model.Forward {
		slices.SortFunc(it.pending, func(a, b snapBlock) int { return cmp.Compare(a.ref.meta.MinTime, b.ref.meta.MinTime) })
	} else {
		slices.SortFunc(it.pending, func(a, b snapBlock) int { return cmp.Compare(b.ref.meta.MaxTime, a.ref.meta.MaxTime) })
	}
	if sn.head != nil {
		it.push(headEntries(sn.head, q.sel))
	}
	return it
}

// push adds a source to the heap if it has an entry.
func (it *streamIter) push(src iter.Iterator[model.Entry]) {
	if src.Next() {
		heap.Push(&it.h, src)
		return
	}
	if err := src.Err(); err != nil && it.err == nil {
		it.err = err
	}
	_ = src.Close()
}

// due reports whether block b may hold an entry that comes before or at
// the heap's current top.
func (it *streamIter) due(b *snapBlock) bool {
	if len(it.h.items) == 0 {
		return true
	}
	ts := it.h.items[0].At().Timestamp
	if it.dir == model.Forward {
		return b.ref.meta.MinTime <= ts
	}
	return b.ref.meta.MaxTime >= ts
}

func (it *streamIter) open(b *snapBlock) {
	data, ok, err := it.q.readBlock(it.s, b)
	if err != nil {
		it.err = err
		return
	}
	if !ok {
		return
	}
	sel := &it.q.sel
	it.push(chunk.BlockEntries(data, b.ref.meta, sel.Start, sel.End, it.dir, chunk.ReadOptions{TimestampsOnly: sel.TimestampsOnly}))
}

func (it *streamIter) Next() bool {
	if it.advance {
		it.advance = false
		top := it.h.items[0]
		if top.Next() {
			heap.Fix(&it.h, 0)
		} else {
			if err := top.Err(); err != nil && it.err == nil {
				it.err = err
			}
			_ = top.Close()
			heap.Pop(&it.h)
		}
	}
	for it.err == nil && len(it.pending) > 0 && it.due(&it.pending[0]) {
		b := it.pending[0]
		it.pending = it.pending[1:]
		it.open(&b)
	}
	if it.err != nil || len(it.h.items) == 0 {
		return false
	}
	e := it.h.items[0].At()
	it.cur = model.StreamEntry{Labels: it.s.labels, Fingerprint: it.s.fp, Entry: e}
	it.advance = true
	return true
}

func (it *streamIter) At() model.StreamEntry { return it.cur }
func (it *streamIter) Err() error            { return it.err }

func (it *streamIter) Close() error {
	for _, src := range it.h.items {
		_ = src.Close()
	}
	it.h.items, it.pending = nil, nil
	return nil
}

// sourceHeap orders the sources of one stream by their current entry:
// timestamp in the direction, then line ascending (iter.EntryLess within a
// stream).
type sourceHeap struct {
	dir   model.Direction
	items []iter.Iterator[model.Entry]
}

func (h *sourceHeap) Len() int { return len(h.items) }
func (h *sourceHeap) Less(a, b int) bool {
	x, y := h.items[a].At(), h.items[b].At()
	if x.Timestamp != y.Timestamp {
		if h.dir == model.Forward {
			return x.Timestamp < y.Timestamp
		}
		return x.Timestamp > y.Timestamp
	}
	return bytes.Compare(x.Line, y.Line) < 0
}
func (h *sourceHeap) Swap(a, b int) { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *sourceHeap) Push(x any)    { h.items = append(h.items, x.(iter.Iterator[model.Entry])) }
func (h *sourceHeap) Pop() any {
	n := len(h.items)
	x := h.items[n-1]
	h.items[n-1] = nil
	h.items = h.items[:n-1]
	return x
}

// headEntries decodes a copy of a head's entries (headBlock.appendTo)
// into those within the query's range, sorted in the query's direction.
// Lines alias arena.
func headEntries(arena []byte, sel model.LogSelect) iter.Iterator[model.Entry] {
	var out []model.Entry
	var sb labels.ScratchBuilder
	r := entryReader{b: arena}
	var e walEntry
	for r.next(&e) {
		if e.ts < sel.Start || e.ts >= sel.End {
			continue
		}
		ent := model.Entry{Timestamp: e.ts, Metadata: labels.EmptyLabels()}
		if !sel.TimestampsOnly {
			ent.Line = e.line
			ent.Metadata = metadataLabels(e.md, &sb)
		}
		out = append(out, ent)
	}
	if r.err != nil {
		return iter.Error[model.Entry](r.err)
	}
	slices.SortFunc(out, func(a, b model.Entry) int {
		if a.Timestamp != b.Timestamp {
			if sel.Direction == model.Forward {
				return cmp.Compare(a.Timestamp, b.Timestamp)
			}
			return cmp.Compare(b.Timestamp, a.Timestamp)
		}
		return bytes.Compare(a.Line, b.Line)
	})
	return iter.Slice(out)
}
