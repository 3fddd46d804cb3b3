package querier

import (
	"context"
	"fmt"
	"slices"
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
	if from = max(from, q.minTime(tenant)); from > through {
		return st, nil
	}
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

// VolumeSelect is a request of Loki's /index/volume (Step 0) or
// /index/volume_range (Step > 0).
type VolumeSelect struct {
	Tenant        string
	From, Through int64 // inclusive, Unix ns
	Matchers      []*labels.Matcher
	// TargetLabels are the label names to group by; empty: the names the
	// matchers use.
	TargetLabels []string
	// ByLabel (aggregateBy=labels) gives one series per label name, with
	// the value "", for the streams that carry that label; otherwise one
	// series per combination of the grouping labels' values.
	ByLabel bool
	Limit   int   // most series returned, largest first; 0: all
	Step    int64 // volume_range: bytes per step ending at From, From+Step, ... up to Through
}

// Volume is one series of Loki's /index/volume or /index/volume_range
// answer.
type Volume struct {
	Labels labels.Labels
	Bytes  uint64 // over the whole range
	// Steps (with VolumeSelect.Step) holds the bytes of step k, the span
	// (From+(k-1)·Step, From+k·Step]. A chunk's bytes are spread evenly
	// over its time span, the index knowing no finer distribution.
	Steps []uint64
}

// Volume sums the flushed chunk bytes of the streams that sel matches in
// its range, grouped as sel asks, largest first, at most sel.Limit series.
// Like Loki's, the answer comes from the index alone: data only the
// ingesters hold is not counted.
func (q *Querier) Volume(ctx context.Context, sel VolumeSelect) ([]Volume, error) {
	by := sel.TargetLabels
	if len(by) == 0 {
		for _, m := range sel.Matchers {
			if !slices.Contains(by, m.Name) {
				by = append(by, m.Name)
			}
		}
	}
	var steps int
	if sel.Step > 0 {
		steps = int((sel.Through-sel.From)/sel.Step) + 1
	}
	groups := map[string]*Volume{}
	add := func(ls labels.Labels, r index.ChunkRef) {
		key := ls.String()
		v := groups[key]
		if v == nil {
			v = &Volume{Labels: ls}
			if steps > 0 {
				v.Steps = make([]uint64, steps)
			}
			groups[key] = v
		}
		if steps > 0 {
			v.Bytes += spreadOverSteps(v.Steps, sel.From, sel.Step, r)
		} else {
			v.Bytes += uint64(r.Size)
		}
	}
	from := max(sel.From, q.minTime(sel.Tenant))
	if from > sel.Through {
		return nil, nil
	}
	err := q.eachChunk(ctx, sel.Tenant, from, sel.Through, sel.Matchers, func(s index.Stream, r index.ChunkRef) {
		if !sel.ByLabel {
			add(s.Labels.MatchLabels(true, by...), r)
			return
		}
		for _, name := range by {
			if s.Labels.Has(name) {
				add(labels.FromStrings(name, ""), r)
			}
		}
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
	if sel.Limit > 0 && len(out) > sel.Limit {
		out = out[:sel.Limit]
	}
	return out, nil
}

// spreadOverSteps adds the bytes of r to the steps it overlaps, step k
// being (from+(k-1)·step, from+k·step], in proportion to the overlap with
// r's span [From, Through], and returns what it added. Shares are rounded
// on their running total, so a chunk within the steps adds its size
// exactly.
func spreadOverSteps(dst []uint64, from, step int64, r index.ChunkRef) uint64 {
	span := float64(r.Through-r.From) + 1 // ns the chunk covers, inclusive
	// upTo is the rounded share of the chunk's bytes at or before ns t.
	upTo := func(t int64) uint64 {
		return uint64(float64(r.Size)*float64(t-r.From+1)/span + 0.5)
	}
	var added uint64
	// The first step whose end is at or after r.From.
	for k := max(0, ceilDiv(r.From-from, step)); k < int64(len(dst)); k++ {
		hi := from + k*step
		lo := hi - step + 1
		if lo > r.Through {
			break
		}
		b := upTo(min(hi, r.Through)) - upTo(max(lo, r.From)-1)
		dst[k] += b
		added += b
	}
	return added
}

// ceilDiv is a/b rounded up, for b > 0.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) {
		q++
	}
	return q
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
