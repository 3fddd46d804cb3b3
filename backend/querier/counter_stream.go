package querier

import (
	"bytes"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

// streamCounter counts the entries of one stream per window of a
// CountSelect, split by structured metadata as the selection asks. Counts
// are kept as differences (+n at the first window, -n past the last), so
// that an entry costs O(1) whatever Range/Step. One per worker; reset for
// every stream.
type streamCounter struct {
	ts      *timestampsCache
	sel     *model.CountSelect
	w       model.Windows
	floor   int64 // no entry before it counts (the tenant's lookback)
	splitMD bool
	stream  index.Stream
	groups  []*mdCounts // groups[:n] are in use
	n       int
	last    *mdCounts // group of lastMD
	lastMD  labels.Labels
	hasLast bool
	scan    *chunk.BlockScanner // from Querier.scanners; see releaseStreamCounter
	live    []countBlock        // scratch of blockGroup
	tsBufs  [][]int64           // timestamps of a block group, reused
	rs      chunk.ReadStats
	out     model.WindowCounts // reused for emit
}

// mdCounts are the counts of the entries of one metadata set.
type mdCounts struct {
	md    labels.Labels
	n, b  []int64 // differences per window (len Count+1)
	minT  int64
	empty bool // nothing counted yet
}

func (q *Querier) newStreamCounter(sel *model.CountSelect, floor int64) *streamCounter {
	scan, _ := q.scanners.Get().(*chunk.BlockScanner)
	if scan == nil {
		scan = new(chunk.BlockScanner)
	}
	return &streamCounter{ts: q.timestamps, sel: sel, w: sel.Windows, floor: floor, splitMD: sel.AllMetadata || len(sel.MetadataBy) > 0, scan: scan}
}

// from is the smallest timestamp that counts: the windows' start, or the
// floor when it is later.
func (c *streamCounter) from() int64 { return max(c.w.Start(), c.floor) }

// releaseStreamCounter hands c's scanner back for later queries; c is not
// used after.
func (q *Querier) releaseStreamCounter(c *streamCounter) {
	q.scanners.Put(c.scan)
	c.scan = nil
}

func (c *streamCounter) reset(s index.Stream) {
	c.stream = s
	c.n, c.last, c.hasLast = 0, nil, false
}

// group returns the counts of entries with metadata md.
func (c *streamCounter) group(md labels.Labels) *mdCounts {
	if !c.splitMD || md.IsEmpty() {
		md = labels.EmptyLabels()
	} else if c.hasLast && labels.Equal(md, c.lastMD) {
		return c.last
	}
	kept := keepMetadata(c.sel, md)
	for _, g := range c.groups[:c.n] {
		if labels.Equal(g.md, kept) {
			c.last, c.lastMD, c.hasLast = g, md, true
			return g
		}
	}
	if c.n == len(c.groups) {
		c.groups = append(c.groups, &mdCounts{})
	}
	g := c.groups[c.n]
	c.n++
	g.md, g.empty = kept, true
	g.n = resize(g.n, c.w.Count+1)
	if c.sel.Bytes {
		g.b = resize(g.b, c.w.Count+1)
	}
	c.last, c.lastMD, c.hasLast = g, md, true
	return g
}

// keepMetadata returns the metadata labels sel splits counts by.
func keepMetadata(sel *model.CountSelect, md labels.Labels) labels.Labels {
	if sel.AllMetadata || md.IsEmpty() {
		return md
	}
	if len(sel.MetadataBy) == 0 {
		return labels.EmptyLabels()
	}
	b := labels.NewScratchBuilder(0)
	md.Range(func(l labels.Label) {
		if slices.Contains(sel.MetadataBy, l.Name) {
			b.Add(l.Name, l.Value)
		}
	})
	return b.Labels()
}

func resize(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// add counts n entries of total line bytes b in windows first..last, the
// earliest at time t.
func (g *mdCounts) add(first, last int, n, b, t int64) {
	g.n[first] += n
	g.n[last+1] -= n
	if g.b != nil {
		g.b[first] += b
		g.b[last+1] -= b
	}
	if g.empty || t < g.minT {
		g.minT, g.empty = t, false
	}
}

// entry counts one entry (with its line) if it holds every needle.
func (c *streamCounter) entry(ts int64, line []byte, md labels.Labels) {
	if ts < c.floor {
		return
	}
	first, last := c.w.Span(ts)
	if first > last {
		return
	}
	for _, n := range c.sel.Needles {
		if !bytes.Contains(line, n) {
			return
		}
	}
	c.group(md).add(first, last, 1, int64(len(line)), ts)
}

// block counts the entries of block k (meta m) that no other block, chunk
// or recent entry overlaps. Blocks wholly inside the windows that touch
// them are counted from their meta alone; blocks that need timestamps only
// are read from the timestamps cache when it has them; data fetches the
// block's bytes otherwise.
func (c *streamCounter) block(k blockKey, m *chunk.BlockMeta, data func() ([]byte, error)) error {
	act := c.plan(m)
	if act == skipBlock {
		return nil
	}
	c.rs.Entries += int64(m.Entries) // examined, from the index or decoded
	if act == fromMeta {
		first, last := c.w.Overlapping(m.MinTime, m.MaxTime)
		c.group(labels.EmptyLabels()).add(first, last, int64(m.Entries), int64(m.LinesRaw), m.MinTime)
		return nil
	}
	cols := c.columns(m)
	if cols&^chunk.ColumnLengths == 0 {
		ok, err := c.loadCached(k, m, cols)
		if err != nil {
			return err
		}
		if ok {
			c.byWindow(m, c.scan.Timestamps(), c.scan)
			return nil
		}
	}
	b, err := data()
	if err != nil {
		return err
	}
	if cols&chunk.ColumnLines != 0 {
		// A line filter: the lines section alone is searched first, the
		// rest decoded only if a line may match.
		found, err := c.scan.LoadMatching(b, m, cols, c.from(), c.w.Last()+1, c.sel.Needles, &c.rs)
		if err != nil || !found {
			return err
		}
		c.byEntry(cols)
		return nil
	}
	if err := c.scan.Load(b, m, cols, &c.rs); err != nil {
		return err
	}
	if cols&^chunk.ColumnLengths == 0 {
		c.ts.put(sectionKey{blockKey: k}, c.scan.AppendPackedTimestamps(nil, m))
		if cols != 0 {
			c.ts.put(sectionKey{blockKey: k, lengths: true}, c.scan.AppendPackedLengths(nil))
		}
		c.byWindow(m, c.scan.Timestamps(), c.scan)
		return nil
	}
	c.byEntry(cols)
	return nil
}

// loadCached loads the timestamps (and, with ColumnLengths, the line
// lengths) of block k from the cache, if it has them.
func (c *streamCounter) loadCached(k blockKey, m *chunk.BlockMeta, cols chunk.Columns) (bool, error) {
	ts, ok := c.ts.get(sectionKey{blockKey: k})
	if !ok {
		return false, nil
	}
	var lens []byte
	if cols&chunk.ColumnLengths != 0 {
		if lens, ok = c.ts.get(sectionKey{blockKey: k, lengths: true}); !ok {
			return false, nil
		}
	}
	if err := c.scan.LoadPackedTimestamps(ts, m); err != nil {
		return false, err
	}
	if lens != nil {
		if err := c.scan.LoadPackedLengths(lens, m); err != nil {
			return false, err
		}
	}
	return true, nil
}

// cached reports whether counting block k (meta m) needs no data beyond
// the block index and the timestamps cache.
func (c *streamCounter) cached(k blockKey, m *chunk.BlockMeta) bool {
	switch c.plan(m) {
	case skipBlock, fromMeta:
		return true
	}
	cols := c.columns(m)
	if cols&^chunk.ColumnLengths != 0 {
		return false
	}
	if _, ok := c.ts.get(sectionKey{blockKey: k}); !ok {
		return false
	}
	if cols != 0 {
		_, ok := c.ts.get(sectionKey{blockKey: k, lengths: true})
		return ok
	}
	return true
}

// blockAction is what counting a block takes.
type blockAction uint8

const (
	skipBlock  blockAction = iota // no entry can count
	fromMeta                      // every entry counts in the same windows
	decodeData                    // timestamps (and more) must be read
)

func (c *streamCounter) plan(m *chunk.BlockMeta) blockAction {
	first, last := c.w.Overlapping(max(m.MinTime, c.floor), m.MaxTime)
	if first > last || m.MaxTime < c.floor || !mayContainAll(m, c.sel.Needles) {
		return skipBlock
	}
	if len(c.sel.Needles) > 0 || (c.splitMD && m.MetadataRaw > 0) || m.MinTime < c.floor {
		return decodeData
	}
	f1, l1 := c.w.Span(m.MinTime)
	f2, l2 := c.w.Span(m.MaxTime)
	if f1 == first && l1 == last && f2 == first && l2 == last {
		return fromMeta
	}
	return decodeData
}

func (c *streamCounter) columns(m *chunk.BlockMeta) chunk.Columns {
	var cols chunk.Columns
	if len(c.sel.Needles) > 0 {
		cols |= chunk.ColumnLines
	} else if c.sel.Bytes {
		cols |= chunk.ColumnLengths
	}
	if c.splitMD && m.MetadataRaw > 0 {
		cols |= chunk.ColumnMetadata
	}
	return cols
}

// byWindow counts the entries of a block (timestamps ts, line bytes from
// the scanner when asked for) window by window, with two binary searches
// per window: no entry is visited.
func (c *streamCounter) byWindow(m *chunk.BlockMeta, ts []int64, scan *chunk.BlockScanner) {
	first, last := c.w.Overlapping(max(m.MinTime, c.floor), m.MaxTime)
	g := c.group(labels.EmptyLabels())
	for i := first; i <= last; i++ {
		end := c.w.End(i)
		lo, _ := slices.BinarySearch(ts, max(end-c.w.Range+1, c.floor))
		hi, _ := slices.BinarySearch(ts[lo:], end+1)
		hi += lo
		if lo == hi {
			continue
		}
		var b int64
		if c.sel.Bytes {
			b = scan.LineBytes(lo, hi)
		}
		g.add(i, i, int64(hi-lo), b, ts[lo])
	}
}

// byEntry counts a loaded block entry by entry: the entries whose line
// holds the needles (found by one scan of the block's lines), split by
// metadata.
func (c *streamCounter) byEntry(cols chunk.Columns) {
	ts := c.scan.Timestamps()
	lo, hi := c.scan.Bounds(c.from(), c.w.Last()+1)
	for i := lo; i < hi; i++ {
		if cols&chunk.ColumnLines != 0 {
			if i = c.scan.NextMatch(i, hi, c.sel.Needles); i >= hi {
				return
			}
		}
		first, last := c.w.Span(ts[i])
		if first > last {
			continue
		}
		md := labels.EmptyLabels()
		if cols&chunk.ColumnMetadata != 0 {
			md = c.scan.Metadata(i)
		}
		var b int64
		if c.sel.Bytes {
			b = c.scan.LineBytes(i, i+1)
		}
		c.group(md).add(first, last, 1, b, ts[i])
	}
}

// emit calls fn with the counts of every metadata set of the stream that
// counted something.
func (c *streamCounter) emit(fn func(*model.WindowCounts) error) error {
	for _, g := range c.groups[:c.n] {
		if g.empty {
			continue
		}
		o := &c.out
		counts, bytes := o.Counts, o.Bytes
		*o = model.WindowCounts{Labels: c.stream.Labels, Fingerprint: c.stream.Fingerprint, Metadata: g.md,
			Counts: prefixSums(counts, g.n, c.w.Count), MinTime: g.minT}
		if c.sel.Bytes {
			o.Bytes = prefixSums(bytes, g.b, c.w.Count)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// prefixSums turns differences into values per window, into dst's array.
func prefixSums(dst, diff []int64, n int) []int64 {
	dst = slices.Grow(dst[:0], n)[:n]
	var run int64
	for i := range n {
		run += diff[i]
		dst[i] = run
	}
	return dst
}
