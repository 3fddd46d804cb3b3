package ingester

import (
	"math"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/model"
)

// stream is the in-memory state of one stream of one tenant. Its data lives
// in three places: the head (WAL entries not yet in a block, in memory and
// in Badger), the blocks of the open chunk, and the cut chunks waiting for
// the flush (both in Badger, with only their metas here).
type stream struct {
	// Immutable after creation.
	tenant string
	labels labels.Labels
	fp     model.Fingerprint
	sid    uint64

	// next chains streams whose fingerprints collide; guarded by the lock
	// of the stripe that holds the stream.
	next *stream

	mu sync.Mutex // guards every field below
	// persisted: the stream record is in Badger.
	persisted bool
	// removed: the stream left the stream map; a Push that finds it so
	// looks the stream up again.
	removed bool
	// inflight counts pushes between preparing and applying their record
	// for this stream; the stream is not removed while it is non-zero.
	inflight int
	// lastAppend is the wall-clock time (Unix ns) of the last append, for
	// the idle cut.
	lastAppend int64

	head headBlock
	// sealed is a full head that a push took out of head to encode it
	// into a block without holding mu (see cutBlocks); nil when none.
	sealed       *sealedHead
	dedup        dedupSet
	open         openChunk
	cut          []*cutChunk // oldest first
	nextBlockSeq uint64
}

// openChunk is the chunk a stream is appending to.
type openChunk struct {
	cseq uint64
	// active: the chunk has entries (in the head or in blocks) and
	// windowStart is set.
	active      bool
	windowStart int64
	blocks      []blockRef
	size        int64 // compressed bytes of blocks
}

// blockRef is what memory keeps of a block stored in Badger: its meta
// without the token filter.
type blockRef struct {
	bseq uint64
	meta chunk.BlockMeta // Filter is always nil
}

// cutChunk is a complete chunk waiting for the flush. Its identity and
// blocks are immutable once cut; the retry state is guarded by the flush
// queue's lock.
type cutChunk struct {
	s      *stream
	cseq   uint64
	blocks []blockRef
	size   int64 // compressed bytes of blocks

	attempts int
	nextTry  int64  // wall clock, Unix ns
	round    uint64 // last flush round that took the chunk
	inFlight bool
	flushed  bool
	// indexed: the object is stored and its ref is in the index; only the
	// drop from Badger is left. Used by the flush round only.
	indexed bool
	// retainUntil (wall clock, Unix ns): a flushed chunk kept for the
	// retain period is dropped from then on. Guarded by flushMu.
	retainUntil int64
	// dropped: its records are deleted and it is out of s.cut. Set under
	// deleteMu.
	dropped bool
}

// blocksRange returns the smallest and largest timestamp of blocks.
func blocksRange(blocks []blockRef) (minTs, maxTs int64, ok bool) {
	minTs, maxTs = math.MaxInt64, math.MinInt64
	for i := range blocks {
		m := &blocks[i].meta
		minTs, maxTs = min(minTs, m.MinTime), max(maxTs, m.MaxTime)
		ok = true
	}
	return minTs, maxTs, ok
}

// timeRange returns the time range of everything the stream holds; ok is
// false when it holds nothing. The caller holds s.mu.
func (s *stream) timeRange() (minTs, maxTs int64, ok bool) {
	minTs, maxTs = math.MaxInt64, math.MinInt64
	if !s.head.empty() {
		minTs, maxTs, ok = s.head.minTs, s.head.maxTs, true
	}
	if sh := s.sealed; sh != nil {
		minTs, maxTs, ok = min(minTs, sh.minTs), max(maxTs, sh.maxTs), true
	}
	add := func(blocks []blockRef) {
		if lo, hi, any := blocksRange(blocks); any {
			minTs, maxTs, ok = min(minTs, lo), max(maxTs, hi), true
		}
	}
	add(s.open.blocks)
	for _, c := range s.cut {
		add(c.blocks)
	}
	return minTs, maxTs, ok
}

// empty reports whether the stream holds no data and no pending WAL
// record. The caller holds s.mu.
func (s *stream) empty() bool {
	return s.head.empty() && len(s.head.seqs) == 0 && s.sealed == nil && !s.open.active &&
		len(s.open.blocks) == 0 && len(s.cut) == 0
}

// dedupSet remembers hashes of the (timestamp, line) pairs of the head
// block and of the block cut before it, to drop entries a client pushes
// again. Hashes are 64-bit, so a false match needs a collision among the
// few thousand hashes of two blocks (probability about n²/2⁶⁵).
type dedupSet struct {
	cur, prev hashList
	maxTs     int64 // largest timestamp in cur or prev
	any       bool
}

// entryHash combines a timestamp and a line into the dedup hash.
func entryHash(ts int64, line []byte) uint64 {
	h := xxhash.Sum64(line) ^ (uint64(ts) * 0x9E3779B97F4A7C15)
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>32
}

// contains reports whether the entry of timestamp ts and hash h
// (entryHash) is in the set. Entries newer than everything in the set, the
// common case, cost one comparison.
func (d *dedupSet) contains(ts int64, h uint64) bool {
	if !d.any || ts > d.maxTs {
		return false
	}
	return d.cur.contains(h) || d.prev.contains(h)
}

// add adds the entry of timestamp ts and hash h to the head's hashes.
func (d *dedupSet) add(ts int64, h uint64) {
	d.cur.add(h)
	if !d.any || ts > d.maxTs {
		d.maxTs = ts
	}
	d.any = true
}

// rotate starts a new head block: the current hashes become the previous
// block's.
func (d *dedupSet) rotate() {
	d.prev, d.cur = d.cur, d.prev
	d.cur.reset()
}

// release drops everything (the stream went idle).
func (d *dedupSet) release() { *d = dedupSet{} }

// hashList is a set of 64-bit hashes: a sorted run followed by the hashes
// added since the last lookup, which a lookup sorts and merges into the
// run. Adding appends (a stream's list is touched sequentially, where a
// hash table costs a cache miss per entry once many streams are active),
// and pushes that arrive out of timestamp order (concurrent pushers), which
// look entries up between additions, cost a sort of the push's hashes and
// a merge instead of a sort of the whole list.
type hashList struct {
	h      []uint64
	sorted int // h[:sorted] is sorted
}

func (l *hashList) add(h uint64) { l.h = append(l.h, h) }

func (l *hashList) contains(h uint64) bool {
	if l.sorted < len(l.h) {
		l.sortTail()
	}
	_, found := slices.BinarySearch(l.h, h)
	return found
}

// sortTail sorts the hashes added since the last lookup and merges them
// into the sorted run, through a copy in the array's spare capacity.
func (l *hashList) sortTail() {
	n, s := len(l.h), l.sorted
	l.sorted = n
	slices.Sort(l.h[s:])
	if s == 0 || l.h[s-1] <= l.h[s] {
		return
	}
	l.h = slices.Grow(l.h, n-s)
	tail := l.h[n : n+n-s]
	copy(tail, l.h[s:n])
	// Merge backwards, largest first, into the room the tail leaves.
	i, j := s-1, len(tail)-1
	for k := n - 1; j >= 0; k-- {
		if i >= 0 && l.h[i] > tail[j] {
			l.h[k] = l.h[i]
			i--
		} else {
			l.h[k] = tail[j]
			j--
		}
	}
}

// reset empties the list, keeping its array.
func (l *hashList) reset() { l.h, l.sorted = l.h[:0], 0 }

// alignDown returns the start of the window of length w holding ts.
func alignDown(ts int64, w int64) int64 {
	r := ts % w
	if r < 0 {
		r += w
	}
	return ts - r
}
