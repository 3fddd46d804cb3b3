package querier

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
)

// IndexStats is Loki's /index/stats answer: how much a selector touches.
type IndexStats struct {
	Streams int    `json:"streams"`
	Chunks  int    `json:"chunks"`
	Bytes   uint64 `json:"bytes"`
	Entries uint64 `json:"entries"`
}

// IndexStats sums the flushed chunks of the streams matching ms in [from,
// through] and counts the streams, including those only the ingesters hold
// so far. Bytes are stored (compressed) chunk bytes.
func (q *Querier) IndexStats(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) (IndexStats, error) {
	var st IndexStats
	streams, err := q.Series(ctx, tenant, from, through, ms)
	if err != nil {
		return st, err
	}
	st.Streams = len(streams)
	err = q.eachChunk(ctx, tenant, from, through, ms, func(_ index.Stream, r index.ChunkRef) {
		st.Chunks++
		st.Bytes += uint64(r.Size)
		st.Entries += uint64(r.Entries)
	})
	return st, err
}

// Volume is one series of Loki's /index/volume answer.
type Volume struct {
	Labels labels.Labels
	Bytes  uint64
}

// Volume sums the flushed chunk bytes of the streams matching ms in [from,
// through], grouped by the labels named in by (all stream labels when by is
// empty), largest first, at most limit series.
func (q *Querier) Volume(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher, by []string, limit int) ([]Volume, error) {
	groups := map[string]*Volume{}
	err := q.eachChunk(ctx, tenant, from, through, ms, func(s index.Stream, r index.ChunkRef) {
		ls := s.Labels
		if len(by) > 0 {
			ls = s.Labels.MatchLabels(true, by...)
		}
		key := ls.String()
		v := groups[key]
		if v == nil {
			v = &Volume{Labels: ls}
			groups[key] = v
		}
		v.Bytes += uint64(r.Size)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Volume, 0, len(groups))
	for _, v := range groups {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return strings.Compare(out[i].Labels.String(), out[j].Labels.String()) < 0
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (q *Querier) eachChunk(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher, fn func(index.Stream, index.ChunkRef)) error {
	streams, err := q.index.Streams(ctx, tenant, from, through, ms)
	if err != nil {
		return fmt.Errorf("select streams: %w", err)
	}
	for _, s := range streams {
		refs, err := q.index.Chunks(ctx, tenant, s.Fingerprint, from, through)
		if err != nil {
			return fmt.Errorf("select chunks of stream %s: %w", s.Labels, err)
		}
		for _, r := range refs {
			fn(s, r)
		}
	}
	return nil
}
