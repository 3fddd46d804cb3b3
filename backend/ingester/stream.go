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

	head         headBlock
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
	return s.head.empty() && len(s.head.seqs) == 0 && !s.open.active &&
		len(s.open.blocks) == 0 && len(s.cut) == 0
}

// dedupSet remembers hashes of the (timestamp, line) pairs of the head
// block and of the block cut before it, to drop entries a client pushes
// again. Hashes are 64-bit, so a false match needs a collision among the
// few thousand hashes of two blocks (probability about n²/2⁶⁵). Hashes are
// kept unsorted while appending and sorted on the first lookup after.
type dedupSet struct {
	cur, prev             []uint64
	curSorted, prevSorted bool
	maxTs                 int64 // largest timestamp in cur or prev
	any                   bool
}

// entryHash combines a timestamp and a line into the dedup hash.
func entryHash(ts int64, line []byte) uint64 {
	h := xxhash.Sum64(line) ^ (uint64(ts) * 0x9E3779B97F4A7C15)
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>32
}

// contains reports whether (ts, line) is in the set. Entries newer than
// everything in the set, the common case, cost one comparison.
func (d *dedupSet) contains(ts int64, line []byte) bool {
	if !d.any || ts > d.maxTs {
		return false
	}
	h := entryHash(ts, line)
	return searchSorted(d.cur, &d.curSorted, h) || searchSorted(d.prev, &d.prevSorted, h)
}

func searchSorted(hs []uint64, sorted *bool, h uint64) bool {
	if len(hs) == 0 {
		return false
	}
	if !*sorted {
		slices.Sort(hs)
		*sorted = true
	}
	_, found := slices.BinarySearch(hs, h)
	return found
}

func (d *dedupSet) add(ts int64, line []byte) {
	h := entryHash(ts, line)
	if n := len(d.cur); n > 0 && d.cur[n-1] > h {
		d.curSorted = false
	}
	d.cur = append(d.cur, h)
	if !d.any || ts > d.maxTs {
		d.maxTs = ts
	}
	d.any = true
}

// rotate starts a new head block: the current hashes become the previous
// block's.
func (d *dedupSet) rotate() {
	d.prev, d.cur = d.cur, d.prev[:0]
	d.prevSorted, d.curSorted = d.curSorted, true
}

// release drops everything (the stream went idle).
func (d *dedupSet) release() { *d = dedupSet{curSorted: true, prevSorted: true} }

// alignDown returns the start of the window of length w holding ts.
func alignDown(ts int64, w int64) int64 {
	r := ts % w
	if r < 0 {
		r += w
	}
	return ts - r
}
