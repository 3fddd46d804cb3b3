package iter

import (
	"bytes"
	"container/heap"

	"github.com/lode-logs/lode/backend/model"
)

// Iterator is the shape of every sequence in Lode. See the package doc.
type Iterator[T any] interface {
	Next() bool
	At() T
	Err() error
	Close() error
}

// EntryIterator yields log entries with their stream.
type EntryIterator = Iterator[model.StreamEntry]

// sliceIter iterates over a slice.
type sliceIter[T any] struct {
	items []T
	i     int
}

// Slice returns an iterator over items, in order.
func Slice[T any](items []T) Iterator[T] { return &sliceIter[T]{items: items, i: -1} }

func (s *sliceIter[T]) Next() bool {
	s.i++
	return s.i < len(s.items)
}
func (s *sliceIter[T]) At() T        { return s.items[s.i] }
func (s *sliceIter[T]) Err() error   { return nil }
func (s *sliceIter[T]) Close() error { return nil }

// Empty returns an iterator with no items.
func Empty[T any]() Iterator[T] { return Slice[T](nil) }

// errIter is an iterator that failed before yielding anything.
type errIter[T any] struct{ err error }

// Error returns an iterator that yields nothing and reports err.
func Error[T any](err error) Iterator[T] { return errIter[T]{err} }

func (e errIter[T]) Next() bool   { return false }
func (e errIter[T]) At() T        { var z T; return z }
func (e errIter[T]) Err() error   { return e.err }
func (e errIter[T]) Close() error { return nil }

// Collect drains it into a slice, cloning nothing: use only for values that
// do not alias producer buffers, or clone in fn.
func Collect[T any](it Iterator[T], clone func(T) T) ([]T, error) {
	var out []T
	for it.Next() {
		v := it.At()
		if clone != nil {
			v = clone(v)
		}
		out = append(out, v)
	}
	err := it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return out, err
}

// limitIter stops after n items.
type limitIter[T any] struct {
	Iterator[T]
	n int
}

// Limit returns an iterator over the first n items of it (all if n <= 0).
func Limit[T any](it Iterator[T], n int) Iterator[T] {
	if n <= 0 {
		return it
	}
	return &limitIter[T]{Iterator: it, n: n}
}

func (l *limitIter[T]) Next() bool {
	if l.n <= 0 {
		return false
	}
	l.n--
	return l.Iterator.Next()
}

// EntryLess orders entries by timestamp in direction d, then by stream
// fingerprint and line so that the order is total and deterministic.
func EntryLess(d model.Direction, a, b *model.StreamEntry) bool {
	if a.Timestamp != b.Timestamp {
		if d == model.Forward {
			return a.Timestamp < b.Timestamp
		}
		return a.Timestamp > b.Timestamp
	}
	if a.Fingerprint != b.Fingerprint {
		return a.Fingerprint < b.Fingerprint
	}
	return bytes.Compare(a.Line, b.Line) < 0
}

// SameEntry reports whether a and b are the same entry: same stream,
// timestamp and line. Lode stores such an entry once.
func SameEntry(a, b *model.StreamEntry) bool {
	return a.Timestamp == b.Timestamp && a.Fingerprint == b.Fingerprint && bytes.Equal(a.Line, b.Line)
}

// mergeEntries is a k-way heap merge with de-duplication.
type mergeEntries struct {
	dir     model.Direction
	h       entryHeap
	pending []EntryIterator // not yet primed
	cur     model.StreamEntry
	last    model.StreamEntry // copy of the previously returned entry
	hasLast bool
	lastBuf []byte
	err     error
	closed  []EntryIterator
	keepAll bool // no de-duplication
}

// MergeEntries merges iterators that are each ordered in direction dir into
// one ordered iterator, dropping entries identical (SameEntry) to the one
// returned just before. Inputs are closed by Close.
func MergeEntries(dir model.Direction, its ...EntryIterator) EntryIterator {
	if len(its) == 1 {
		return Dedup(its[0])
	}
	return &mergeEntries{dir: dir, pending: its, h: entryHeap{dir: dir}}
}

// MergeAll merges like MergeEntries but keeps every entry. It is for
// entries read without their lines (model.LogSelect.TimestampsOnly), which
// cannot be told apart from one another.
func MergeAll(dir model.Direction, its ...EntryIterator) EntryIterator {
	if len(its) == 1 {
		return its[0]
	}
	return &mergeEntries{dir: dir, pending: its, h: entryHeap{dir: dir}, keepAll: true}
}

func (m *mergeEntries) prime() {
	for _, it := range m.pending {
		m.closed = append(m.closed, it)
		if it.Next() {
			m.h.items = append(m.h.items, it)
		} else if err := it.Err(); err != nil && m.err == nil {
			m.err = err
		}
	}
	m.pending = nil
	heap.Init(&m.h)
}

func (m *mergeEntries) Next() bool {
	if m.pending != nil {
		m.prime()
	}
	for m.err == nil && len(m.h.items) > 0 {
		top := m.h.items[0]
		e := top.At()
		m.cur = e
		dup := !m.keepAll && m.hasLast && SameEntry(&m.last, &e)
		// Remember e before advancing top: advancing invalidates e's buffers.
		if !dup {
			m.lastBuf = append(m.lastBuf[:0], e.Line...)
			m.last = e
			m.last.Line = m.lastBuf
			m.hasLast = true
			m.cur.Line = m.lastBuf
		}
		if top.Next() {
			heap.Fix(&m.h, 0)
		} else {
			if err := top.Err(); err != nil {
				m.err = err
			}
			heap.Pop(&m.h)
		}
		if !dup {
			return true
		}
	}
	return false
}

func (m *mergeEntries) At() model.StreamEntry { return m.cur }
func (m *mergeEntries) Err() error            { return m.err }
func (m *mergeEntries) Close() error {
	var first error
	for _, it := range append(m.closed, m.pending...) {
		if err := it.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.closed, m.pending, m.h.items = nil, nil, nil
	return first
}

type entryHeap struct {
	dir   model.Direction
	items []EntryIterator
}

func (h *entryHeap) Len() int { return len(h.items) }
func (h *entryHeap) Less(i, j int) bool {
	a, b := h.items[i].At(), h.items[j].At()
	return EntryLess(h.dir, &a, &b)
}
func (h *entryHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *entryHeap) Push(x any)    { h.items = append(h.items, x.(EntryIterator)) }
func (h *entryHeap) Pop() any {
	n := len(h.items)
	x := h.items[n-1]
	h.items = h.items[:n-1]
	return x
}

// dedupIter drops consecutive identical entries of one ordered iterator.
type dedupIter struct {
	EntryIterator
	last    model.StreamEntry
	lastBuf []byte
	hasLast bool
}

// Dedup drops entries identical (SameEntry) to the one before them. The
// input must be ordered so that identical entries are adjacent.
func Dedup(it EntryIterator) EntryIterator { return &dedupIter{EntryIterator: it} }

func (d *dedupIter) Next() bool {
	for d.EntryIterator.Next() {
		e := d.EntryIterator.At()
		if d.hasLast && SameEntry(&d.last, &e) {
			continue
		}
		d.lastBuf = append(d.lastBuf[:0], e.Line...)
		d.last = e
		d.last.Line = d.lastBuf
		d.hasLast = true
		return true
	}
	return false
}
