package chunk

import (
	"bytes"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// chunkIter walks groups of time-overlapping blocks of a chunk in direction
// order: a group of one block is iterated directly, a larger group through
// a merge that drops identical (timestamp, line) entries.
type chunkIter struct {
	c             *Chunk
	from, through int64
	dir           model.Direction
	opts          ReadOptions
	groups        [][]int // selected block indexes, grouped by overlap, in time order
	g             int     // groups consumed so far

	cur     entryIterator
	tsOnly  bool // blank lines of merged groups (decoded for dedup)
	curE    model.Entry
	err     error
	closeTo []*blockIter
}

// entryIterator is the part of iter.Iterator[model.Entry] chunkIter drives.
type entryIterator interface {
	Next() bool
	At() model.Entry
	Err() error
}

func newChunkIter(c *Chunk, from, through int64, dir model.Direction, o ReadOptions) *chunkIter {
	it := &chunkIter{c: c, from: from, through: through, dir: dir, opts: o, tsOnly: o.TimestampsOnly}
	var groupMax int64
	skipped := 0
	for i := range c.blocks {
		m := &c.blocks[i]
		if from >= through || !m.overlaps(from, through) || !m.mayContainAll(o.Needles) {
			skipped++
			continue
		}
		if n := len(it.groups); n > 0 && m.MinTime <= groupMax {
			it.groups[n-1] = append(it.groups[n-1], i)
			groupMax = max(groupMax, m.MaxTime)
			continue
		}
		it.groups = append(it.groups, []int{i})
		groupMax = m.MaxTime
	}
	if st := o.Stats; st != nil {
		st.BlocksTotal += int64(len(c.blocks))
		st.BlocksSkipped += int64(skipped)
	}
	return it
}

// open starts the next group in direction order.
func (it *chunkIter) open() bool {
	it.closeCurrent()
	if it.g >= len(it.groups) {
		return false
	}
	grp := it.groups[it.g]
	if it.dir == model.Backward {
		grp = it.groups[len(it.groups)-1-it.g]
	}
	it.g++
	if len(grp) == 1 {
		bi := it.blockIter(grp[0], it.tsOnly)
		it.cur = bi
		return true
	}
	mi := &mergeIter{dir: it.dir}
	for _, i := range grp {
		// Lines are needed to drop duplicates, even for TimestampsOnly.
		mi.add(it.blockIter(i, false))
	}
	it.cur = mi
	return true
}

func (it *chunkIter) blockIter(i int, tsOnly bool) *blockIter {
	bi := newBlockIter(it.c.BlockData(i), &it.c.blocks[i], it.from, it.through, it.dir, &it.opts, true)
	bi.countEntries = false
	bi.tsOnly = tsOnly
	it.closeTo = append(it.closeTo, bi)
	return bi
}

func (it *chunkIter) closeCurrent() {
	for _, b := range it.closeTo {
		_ = b.Close()
	}
	it.closeTo = it.closeTo[:0]
	it.cur = nil
}

func (it *chunkIter) Next() bool {
	for it.err == nil {
		if it.cur == nil && !it.open() {
			return false
		}
		if it.cur.Next() {
			it.curE = it.cur.At()
			if it.tsOnly {
				it.curE.Line = nil
			}
			if st := it.opts.Stats; st != nil {
				st.Entries++
			}
			return true
		}
		if err := it.cur.Err(); err != nil {
			it.err = err
			return false
		}
		it.cur = nil
	}
	return false
}

func (it *chunkIter) At() model.Entry { return it.curE }
func (it *chunkIter) Err() error      { return it.err }
func (it *chunkIter) Close() error {
	it.closeCurrent()
	it.g = len(it.groups)
	it.curE = model.Entry{}
	return nil
}

// mergeIter merges block iterators ordered in direction dir (ties by
// ascending line, as iter.EntryLess) and drops entries identical in
// timestamp and line to the one returned before. Inputs stay open (and
// their lines valid) until the owner closes them.
type mergeIter struct {
	dir     model.Direction
	heap    []*blockIter // primed inputs, heap-ordered by their current entry
	pending []*blockIter
	cur     model.Entry
	hasCur  bool
	err     error
}

func (m *mergeIter) add(b *blockIter) { m.pending = append(m.pending, b) }

func (m *mergeIter) less(a, b *blockIter) bool {
	x, y := &a.cur, &b.cur
	if x.Timestamp != y.Timestamp {
		return (x.Timestamp < y.Timestamp) == (m.dir == model.Forward)
	}
	return bytes.Compare(x.Line, y.Line) < 0
}

func (m *mergeIter) prime() bool {
	for _, b := range m.pending {
		if b.Next() {
			m.heap = append(m.heap, b)
			m.up(len(m.heap) - 1)
		} else if err := b.Err(); err != nil {
			m.err = err
			return false
		}
	}
	m.pending = nil
	return true
}

func (m *mergeIter) Next() bool {
	if m.pending != nil && !m.prime() {
		return false
	}
	for len(m.heap) > 0 {
		top := m.heap[0]
		e := top.cur
		dup := m.hasCur && e.Timestamp == m.cur.Timestamp && bytes.Equal(e.Line, m.cur.Line)
		m.cur, m.hasCur = e, true
		if top.Next() {
			m.down(0)
		} else {
			if err := top.Err(); err != nil {
				m.err = err
				return false
			}
			n := len(m.heap) - 1
			m.heap[0] = m.heap[n]
			m.heap = m.heap[:n]
			m.down(0)
		}
		if !dup {
			return true
		}
	}
	return false
}

func (m *mergeIter) At() model.Entry { return m.cur }
func (m *mergeIter) Err() error      { return m.err }

func (m *mergeIter) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !m.less(m.heap[i], m.heap[p]) {
			return
		}
		m.heap[i], m.heap[p] = m.heap[p], m.heap[i]
		i = p
	}
}

func (m *mergeIter) down(i int) {
	n := len(m.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.less(m.heap[r], m.heap[l]) {
			c = r
		}
		if !m.less(m.heap[c], m.heap[i]) {
			return
		}
		m.heap[i], m.heap[c] = m.heap[c], m.heap[i]
		i = c
	}
}

// MergedBlockEntries iterates encoded blocks of one stream that may
// overlap in time and repeat entries (blocks of one chunk, or of chunks
// that overlap) as one sequence: entries with from <= ts < through in
// direction dir, identical (timestamp, line) entries once. Lines are
// always decoded (they tell repeats apart), so TimestampsOnly is ignored.
// Each block's checksum is verified when it is read.
func MergedBlockEntries(blocks []EncodedBlock, from, through int64, dir model.Direction, o ReadOptions) iter.Iterator[model.Entry] {
	o.TimestampsOnly = false
	m := &mergedBlocks{mergeIter: mergeIter{dir: dir}, opts: o}
	for i := range blocks {
		b := &blocks[i]
		if err := b.Meta.validate(); err != nil {
			return iter.Error[model.Entry](err)
		}
		if st := o.Stats; st != nil {
			st.BlocksTotal++
		}
		if from >= through || !b.Meta.overlaps(from, through) || !b.Meta.mayContainAll(o.Needles) {
			if st := o.Stats; st != nil {
				st.BlocksSkipped++
			}
			continue
		}
		bi := newBlockIter(b.Data, &b.Meta, from, through, dir, &m.opts, true)
		m.its = append(m.its, bi)
		m.add(bi)
	}
	return m
}

// mergedBlocks is the iterator of MergedBlockEntries.
type mergedBlocks struct {
	mergeIter
	opts ReadOptions
	its  []*blockIter
}

func (m *mergedBlocks) Close() error {
	for _, b := range m.its {
		_ = b.Close()
	}
	m.its = nil
	return nil
}
