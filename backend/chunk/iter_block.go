package chunk

import (
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// ReadOptions tune a read.
type ReadOptions struct {
	Needles        [][]byte // skip blocks for which MayContain(needle) is false for any needle
	TimestampsOnly bool     // decode timestamps and structured metadata only; Entry.Line stays nil
	// FilterLines also drops every entry whose line does not contain all
	// Needles (case-sensitively), found by one scan over the decompressed
	// lines of a block; a block wholly in the time range with no instance
	// of the longest needle has only its lines section decompressed.
	// Ignored with TimestampsOnly.
	FilterLines bool
	Stats       *ReadStats // optional; counters are added to (not goroutine-safe)
}

// ReadStats counts the work of reads. Counters are only ever added to.
type ReadStats struct {
	BlocksTotal, BlocksSkipped, BlocksDecoded int64
	Entries                                   int64
	CompressedBytes, DecompressedBytes        int64
}

func (s *ReadStats) addRead(compressed, decompressed int) {
	if s != nil {
		s.CompressedBytes += int64(compressed)
		s.DecompressedBytes += int64(decompressed)
	}
}

// blockIter iterates the entries of one block with from <= ts < through.
// The block is decoded on the first Next.
type blockIter struct {
	data          []byte
	meta          *BlockMeta
	from, through int64
	dir           model.Direction
	opts          *ReadOptions
	verify        bool
	countEntries  bool // add yielded entries to opts.Stats
	tsOnly        bool // decode timestamps only
	filter        bool // yield only lines that contain every needle

	r      *blockReader
	loaded bool
	// Entries [lo, hi) are in range. Forward returns i++ up to hi.
	// Backward returns runs of equal timestamps from the last run to the
	// first, each run in ascending line order (iter.EntryLess): i goes from
	// runLo up to runHi.
	lo, hi       int
	i            int
	runLo, runHi int
	cur          model.Entry
	err          error
}

// BlockEntries iterates one encoded block on its own (data is exactly the
// block's meta.Length bytes). It verifies the block checksum and honours
// Needles (yielding nothing if the filter rules the block out) and
// TimestampsOnly. Returned Line slices are valid until the next Next.
func BlockEntries(data []byte, meta BlockMeta, from, through int64, dir model.Direction, o ReadOptions) iter.Iterator[model.Entry] {
	if err := meta.validate(); err != nil {
		return iter.Error[model.Entry](err)
	}
	if st := o.Stats; st != nil {
		st.BlocksTotal++
	}
	if !meta.overlaps(from, through) || !meta.mayContainAll(o.Needles) {
		if st := o.Stats; st != nil {
			st.BlocksSkipped++
		}
		return iter.Empty[model.Entry]()
	}
	return newBlockIter(data, &meta, from, through, dir, &o, true)
}

func newBlockIter(data []byte, m *BlockMeta, from, through int64, dir model.Direction, o *ReadOptions, verify bool) *blockIter {
	return &blockIter{data: data, meta: m, from: from, through: through, dir: dir, opts: o, verify: verify, countEntries: true, tsOnly: o.TimestampsOnly}
}

func (it *blockIter) load() bool {
	it.loaded = true
	it.r = getBlockReader()
	if st := it.opts.Stats; st != nil {
		st.BlocksDecoded++
	}
	cols := ColumnLines | ColumnMetadata
	if it.tsOnly {
		cols = ColumnMetadata
	}
	var needles [][]byte
	if !it.tsOnly && !it.opts.TimestampsOnly && it.opts.FilterLines {
		needles = nonEmpty(it.opts.Needles, it.r.needleBuf[:0])
		it.r.needleBuf = needles[:0]
	}
	it.filter = len(needles) > 0
	found, err := true, error(nil)
	if it.filter {
		// Lines without the first needle need nothing but the lines
		// section: the rest is decoded only if an instance is found.
		found, err = it.r.loadMatching(it.data, it.meta, cols, it.from, it.through, needles, it.verify, it.opts.Stats)
	} else {
		err = it.r.load(it.data, it.meta, cols, it.verify, it.opts.Stats)
	}
	if err != nil {
		it.err = err
		return false
	}
	if found {
		it.lo, it.hi = it.r.bounds(it.from, it.through)
		if it.filter {
			it.r.markMatches(it.lo, it.hi, it.opts.Needles)
		}
	}
	it.i, it.runLo, it.runHi = it.lo, it.hi, it.hi
	if it.dir == model.Backward {
		it.i = it.hi
	}
	return true
}

// nextIndex returns the index of the next entry to yield, or -1.
func (it *blockIter) nextIndex() int {
	if it.dir == model.Forward {
		if it.i >= it.hi {
			return -1
		}
		it.i++
		return it.i - 1
	}
	if it.i >= it.runHi {
		if it.runLo <= it.lo {
			return -1
		}
		ts := it.r.ts
		it.runHi = it.runLo
		it.runLo--
		for it.runLo > it.lo && ts[it.runLo-1] == ts[it.runHi-1] {
			it.runLo--
		}
		it.i = it.runLo
	}
	it.i++
	return it.i - 1
}

func (it *blockIter) Next() bool {
	if !it.loaded && !it.load() {
		return false
	}
	if it.err != nil || it.r == nil {
		return false
	}
	i := it.nextIndex()
	for it.filter && i >= 0 && !it.r.matched(i) {
		i = it.nextIndex()
	}
	if i < 0 {
		return false
	}
	it.cur.Timestamp = it.r.ts[i]
	if !it.tsOnly {
		it.cur.Line = it.r.line(i)
		it.cur.Metadata = it.r.metadata(i)
	} else {
		it.cur.Metadata = it.r.metadata(i)
	}
	if st := it.opts.Stats; st != nil && it.countEntries {
		st.Entries++
	}
	return true
}

func (it *blockIter) At() model.Entry { return it.cur }
func (it *blockIter) Err() error      { return it.err }

func (it *blockIter) Close() error {
	if it.r != nil {
		putBlockReader(it.r)
		it.r = nil
	}
	it.cur = model.Entry{}
	return nil
}
