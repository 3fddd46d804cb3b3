package ingester

import (
	"math"
	"sync"
)

// headPageSize is the size of the pages that hold the entries of heads.
// Heads take pages from a pool shared by all streams as they fill and give
// them back when cut, so that a head holds memory for what it holds (not
// for the block size it fills up to) and filling it copies each entry
// once. Measured with 100 streams of loggen's corpus (large_test.go): one
// reusable buffer per head, grown to the block size, held 32 MiB for 11 MiB
// of entries.
const headPageSize = 32 << 10

// headBlock holds a stream's entries that are not in a block yet: the
// bodies of its WAL records, back to back (FORMAT.md, WAL record), in
// pages that each hold whole entries.
type headBlock struct {
	pages        [][]byte // only the last one has room left
	size         int      // bytes in pages
	seqs         []uint64 // WAL records whose entries are in pages
	entries      int
	minTs, maxTs int64
}

func (h *headBlock) empty() bool { return h.entries == 0 }

// appendEntries appends seg, whole WAL entries, to the head's pages,
// taking new pages from pool. Entries are never split across pages: a page
// is left partly empty when the next entry does not fit, and an entry
// larger than a page gets a page of its own size.
func (h *headBlock) appendEntries(seg []byte, pool *pagePool) {
	h.size += len(seg)
	for len(seg) > 0 {
		if n := len(h.pages); n > 0 {
			last := &h.pages[n-1]
			free := cap(*last) - len(*last)
			if len(seg) <= free {
				*last = append(*last, seg...)
				return
			}
			fit := fitEntries(seg, free)
			*last, seg = append(*last, seg[:fit]...), seg[fit:]
		}
		// The next entry does not fit in the last page.
		if n := firstEntryLen(seg); n > headPageSize {
			h.pages = append(h.pages, append(make([]byte, 0, n), seg[:n]...))
			seg = seg[n:]
			continue
		}
		h.pages = append(h.pages, pool.get())
	}
}

// appendTo appends the head's entries, as one body, to dst.
func (h *headBlock) appendTo(dst []byte) []byte {
	for _, p := range h.pages {
		dst = append(dst, p...)
	}
	return dst
}

// reset empties the head, giving its pages back to pool.
func (h *headBlock) reset(pool *pagePool) {
	for k := range h.pages {
		pool.put(h.pages[k])
		h.pages[k] = nil
	}
	h.pages, h.seqs = h.pages[:0], h.seqs[:0]
	h.size, h.entries = 0, 0
	h.minTs, h.maxTs = math.MaxInt64, math.MinInt64
}

// release empties the head and drops its slices too (an idle stream).
func (h *headBlock) release(pool *pagePool) {
	h.reset(pool)
	h.pages, h.seqs = nil, nil
}

// fitEntries returns the length of the longest prefix of b, whole WAL
// entries, that is at most limit bytes long.
func fitEntries(b []byte, limit int) int {
	r := entryReader{b: b}
	var e walEntry
	n := 0
	for n < limit && r.next(&e) && r.off <= limit {
		n = r.off
	}
	return n
}

// firstEntryLen returns the length of the first WAL entry of b.
func firstEntryLen(b []byte) int {
	r := entryReader{b: b}
	var e walEntry
	if !r.next(&e) {
		panic("BUG: appending malformed WAL entries to a head")
	}
	return r.off
}

// pagePool recycles head pages among streams. Pages of other sizes (an
// entry larger than a page) are not kept.
type pagePool struct{ p sync.Pool } // of *[headPageSize]byte

func (pp *pagePool) get() []byte {
	if v, ok := pp.p.Get().(*[headPageSize]byte); ok {
		return v[:0]
	}
	return make([]byte, 0, headPageSize)
}

func (pp *pagePool) put(page []byte) {
	if pp != nil && cap(page) == headPageSize {
		pp.p.Put((*[headPageSize]byte)(page[:headPageSize]))
	}
}
