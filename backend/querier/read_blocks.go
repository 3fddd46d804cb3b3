package querier

import (
	"context"
	"fmt"
	"time"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// openBlocks reads a chunk whose block index is cached: it fetches only
// the blocks that overlap the selection and pass its needles, each with a
// ranged read. It declines (ok false) when most blocks are needed, since
// one whole read is cheaper then.
func (q *Querier) openBlocks(ctx context.Context, ref index.ChunkRef, m *chunkMeta, sel model.LogSelect) (it iter.EntryIterator, ok bool, err error) {
	var want []int
	for i := range m.blocks {
		b := &m.blocks[i]
		if b.MaxTime < sel.Start || b.MinTime >= sel.End || !mayContainAll(b, sel.Needles) {
			continue
		}
		want = append(want, i)
	}
	if len(want) > len(m.blocks)/2 {
		return nil, false, nil
	}
	st := stats.FromContext(ctx)
	begin := time.Now()
	rs := &chunk.ReadStats{BlocksTotal: int64(len(m.blocks)), BlocksSkipped: int64(len(m.blocks) - len(want))}
	at := model.StreamEntry{Labels: m.labels, Fingerprint: ref.Fingerprint}
	its := make([]iter.EntryIterator, 0, len(want))
	for _, i := range want {
		b := m.blocks[i]
		data, err := q.bucket.GetRange(ctx, ref.Key, int64(b.Offset), int64(b.Length))
		if err != nil {
			return nil, false, fmt.Errorf("fetch block %d of chunk %s: %w", i, ref.Key, err)
		}
		bit := chunk.BlockEntries(data, b, sel.Start, sel.End, sel.Direction, readOptions(sel, rs))
		its = append(its, &chunkEntries{it: bit, at: at, rs: &chunk.ReadStats{}})
	}
	if st != nil {
		st.Querier().AddChunks(1, 1, time.Since(begin))
	}
	return &blockSet{EntryIterator: merge(sel, its...), st: st, rs: rs}, true, nil
}

func mayContainAll(b *chunk.BlockMeta, needles [][]byte) bool {
	for _, n := range needles {
		if !b.MayContain(n) {
			return false
		}
	}
	return true
}

// blockSet reports the read statistics of the blocks of one chunk when
// closed.
type blockSet struct {
	iter.EntryIterator
	st *stats.Context
	rs *chunk.ReadStats
}

func (b *blockSet) Close() error {
	if b.st != nil {
		b.st.Querier().AddDecompressed(b.rs.Entries, b.rs.DecompressedBytes, b.rs.CompressedBytes, 0)
	}
	return b.EntryIterator.Close()
}
