package querier

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// chunkSource gives the blocks of one chunk being counted: from the whole
// object once fetched, else by ranged reads.
type chunkSource struct {
	q      *Querier
	ref    index.ChunkRef
	obj    *chunk.Chunk
	blocks []chunk.BlockMeta
	need   int // blocks whose bytes counting needs
}

// data returns the encoded bytes of block i.
func (s *chunkSource) data(ctx context.Context, i int) ([]byte, error) {
	if s.obj != nil {
		return s.obj.BlockData(i), nil
	}
	b := &s.blocks[i]
	begin := time.Now()
	d, err := s.q.bucket.GetRange(ctx, s.ref.Key, int64(b.Offset), int64(b.Length))
	stats.FromContext(ctx).Querier().AddChunks(0, 0, time.Since(begin))
	if err != nil {
		return nil, fmt.Errorf("fetch block %d of chunk %s: %w", i, s.ref.Key, err)
	}
	return d, nil
}

// countBlock is one block of a chunk group being counted.
type countBlock struct {
	src  *chunkSource
	i    int
	meta *chunk.BlockMeta
}

func (b countBlock) key() blockKey { return blockKey{b.src.ref.Key, b.i} }

func (b countBlock) data(ctx context.Context) func() ([]byte, error) {
	return func() ([]byte, error) { return b.src.data(ctx, b.i) }
}

// countGroup counts a group of time-overlapping chunks of one stream (often
// a single chunk), and the kept ingester entries in its time range that it
// does not hold. Its blocks are grouped by overlap in time: a block
// that overlaps no other is counted on its own; blocks that overlap are
// counted on their own too when no timestamp occurs in two of them (only
// then can they repeat an entry), else merged entry by entry with lines.
// A chunk whose block index is not cached, or most of whose blocks need
// reading, is fetched whole; other blocks are fetched by ranged reads.
func (q *Querier) countGroup(ctx context.Context, g []index.ChunkRef, pending []pendingEntry, c *streamCounter) error {
	srcs := make([]*chunkSource, 0, len(g))
	var all []countBlock
	for _, ref := range g {
		s := &chunkSource{q: q, ref: ref}
		if m, ok := q.metas.get(ref.Key); ok {
			s.blocks = m.blocks
		} else {
			obj, err := q.fetchChunk(ctx, ref)
			if err != nil {
				return err
			}
			s.obj, s.blocks = obj, obj.Blocks()
		}
		srcs = append(srcs, s)
		for i := range s.blocks {
			all = append(all, countBlock{src: s, i: i, meta: &s.blocks[i]})
		}
	}
	if len(g) > 1 {
		slices.SortStableFunc(all, func(a, b countBlock) int { return cmpInt64(a.meta.MinTime, b.meta.MinTime) })
	}
	groups := overlapGroups(all)
	for _, grp := range groups {
		for _, b := range grp {
			if !c.cached(b.key(), b.meta) {
				b.src.need++
			}
		}
	}
	st := stats.FromContext(ctx).Querier()
	for _, s := range srcs {
		switch {
		case s.obj == nil && s.need > len(s.blocks)/2:
			obj, err := q.fetchChunk(ctx, s.ref)
			if err != nil {
				return err
			}
			s.obj = obj
		case s.obj == nil:
			st.AddChunks(1, 0, 0)
		}
	}
	for _, grp := range groups {
		var err error
		if len(grp) == 1 {
			err = c.block(grp[0].key(), grp[0].meta, grp[0].data(ctx))
		} else {
			err = c.blockGroup(ctx, grp)
		}
		if err != nil {
			return fmt.Errorf("count chunk %s: %w", grp[0].src.ref.Key, err)
		}
	}
	if len(pending) > 0 {
		if err := c.countPending(ctx, all, pending); err != nil {
			return fmt.Errorf("count ingester entries against chunks: %w", err)
		}
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// overlapGroups splits blocks ordered by MinTime into maximal runs that
// overlap in time.
func overlapGroups(all []countBlock) [][]countBlock {
	var groups [][]countBlock
	var groupMax int64
	start := 0
	for k, b := range all {
		if k > start && b.meta.MinTime > groupMax {
			groups = append(groups, all[start:k])
			start = k
		}
		if k == start || b.meta.MaxTime > groupMax {
			groupMax = b.meta.MaxTime
		}
	}
	if start < len(all) {
		groups = append(groups, all[start:])
	}
	return groups
}

// blockGroup counts blocks that overlap in time. Their timestamps tell
// whether they can repeat an entry: if no timestamp occurs in two of them,
// each block counts on its own; otherwise they are merged with lines.
func (c *streamCounter) blockGroup(ctx context.Context, grp []countBlock) error {
	live := c.live[:0]
	for _, b := range grp {
		if c.plan(b.meta) != skipBlock {
			live = append(live, b)
		}
	}
	c.live = live[:0]
	switch len(live) {
	case 0:
		return nil
	case 1:
		return c.block(live[0].key(), live[0].meta, live[0].data(ctx))
	}
	for len(c.tsBufs) < len(live) {
		c.tsBufs = append(c.tsBufs, nil)
	}
	ts := c.tsBufs[:len(live)]
	for k, b := range live {
		if err := c.loadTimestamps(b, b.data(ctx)); err != nil {
			return err
		}
		ts[k] = append(ts[k][:0], c.scan.Timestamps()...)
	}
	if anyShared(live, ts) {
		return c.mergeBlocks(ctx, live)
	}
	for k, b := range live {
		if c.columns(b.meta) == 0 && c.plan(b.meta) != fromMeta {
			c.rs.Entries += int64(len(ts[k]))
			c.byWindow(b.meta, ts[k], nil)
			continue
		}
		if err := c.block(b.key(), b.meta, b.data(ctx)); err != nil {
			return err
		}
	}
	return nil
}

// loadTimestamps loads the timestamps of block b into the scanner, from
// the timestamps cache or from its bytes (caching them then).
func (c *streamCounter) loadTimestamps(b countBlock, data func() ([]byte, error)) error {
	if packed, ok := c.ts.get(sectionKey{blockKey: b.key()}); ok {
		return c.scan.LoadPackedTimestamps(packed, b.meta)
	}
	d, err := data()
	if err != nil {
		return err
	}
	if err := c.scan.Load(d, b.meta, 0, &c.rs); err != nil {
		return err
	}
	c.ts.put(sectionKey{blockKey: b.key()}, c.scan.AppendPackedTimestamps(nil, b.meta))
	return nil
}

// anyShared reports whether two of the blocks (ordered by MinTime) have an
// equal timestamp.
func anyShared(live []countBlock, ts [][]int64) bool {
	for x := range live {
		for y := x + 1; y < len(live) && live[y].meta.MinTime <= live[x].meta.MaxTime; y++ {
			if shareTimestamp(ts[x], ts[y]) {
				return true
			}
		}
	}
	return false
}

// shareTimestamp reports whether two ascending timestamp lists have a
// value in common.
func shareTimestamp(a, b []int64) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	lo, hi := max(a[0], b[0]), min(a[len(a)-1], b[len(b)-1])
	if lo > hi {
		return false
	}
	i, _ := slices.BinarySearch(a, lo)
	j, _ := slices.BinarySearch(b, lo)
	for i < len(a) && j < len(b) && a[i] <= hi && b[j] <= hi {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// mergeBlocks counts blocks that may repeat entries, merged entry by entry
// with lines so that repeats count once.
func (c *streamCounter) mergeBlocks(ctx context.Context, live []countBlock) error {
	ebs := make([]chunk.EncodedBlock, 0, len(live))
	for _, b := range live {
		d, err := b.src.data(ctx, b.i)
		if err != nil {
			return err
		}
		ebs = append(ebs, chunk.EncodedBlock{Meta: *b.meta, Data: d})
	}
	it := chunk.MergedBlockEntries(ebs, c.from(), c.w.Last()+1, model.Forward,
		chunk.ReadOptions{Needles: c.sel.Needles, FilterLines: true, Stats: &c.rs})
	for it.Next() {
		e := it.At()
		c.entry(e.Timestamp, e.Line, e.Metadata)
	}
	err := it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}
