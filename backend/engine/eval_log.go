package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// streamBases caches the per-stream part of the labels builder.
type streamBases map[model.Fingerprint]*streamBase

func (m streamBases) get(e *model.StreamEntry) *streamBase {
	b, ok := m[e.Fingerprint]
	if !ok {
		b = newStreamBase(e.Labels)
		m[e.Fingerprint] = b
	}
	return b
}

// outStream is a result stream being filled.
type outStream struct {
	Stream
	lastTS int64
	hash   uint64
	next   *outStream // hash collision chain
}

func (e *Engine) execLogs(ctx context.Context, expr *logql.LogExpr, p Params, st *stats.Context) (*Result, error) {
	if p.Instant {
		if e.opts.LookbackDelta <= 0 {
			return nil, ErrLogQueryInstant
		}
		p.Start = p.End.Add(-e.opts.LookbackDelta)
		p.End = p.End.Add(1) // (t - lookback, t]
	}
	pl, err := newPipeline(expr.Pipeline)
	if err != nil {
		return nil, err
	}
	sel := model.LogSelect{
		Tenant:    p.Tenant,
		Matchers:  expr.Selector,
		Start:     p.Start.UnixNano(),
		End:       p.End.UnixNano(),
		Direction: p.Direction,
		Needles:   needles(expr),
	}
	if !mayDrop(expr.Pipeline) && p.Interval == 0 {
		sel.Limit = p.Limit
	}
	if p.Instant {
		sel.Start++
	}
	it, err := e.q.SelectLogs(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("select logs: %w", err)
	}
	streams, n, err := readStreams(ctx, it, pl, p)
	if cerr := it.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close log iterator: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	st.Querier().AddPostFilterLines(int64(n))
	return &Result{Type: TypeStreams, Streams: streams}, nil
}

// readStreams runs the pipeline over it until p.Limit entries were kept and
// groups them by their output labels. Streams come sorted by labels.
func readStreams(ctx context.Context, it interface {
	Next() bool
	At() model.StreamEntry
	Err() error
}, pl *pipeline, p Params) ([]Stream, int, error) {
	bases := streamBases{}
	out := map[uint64]*outStream{}
	var order []*outStream
	kept := 0
	interval := p.Interval.Nanoseconds()
	for kept < p.Limit && it.Next() {
		if kept&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		ent := it.At()
		line, ok := pl.process(bases.get(&ent), ent.Timestamp, ent.Line, ent.Metadata)
		if !ok {
			continue
		}
		s := findStream(out, &pl.lb, p.CategorizeLabels)
		if s == nil {
			s = newOutStream(out, &pl.lb, p.CategorizeLabels)
			order = append(order, s)
		} else if interval > 0 && !intervalElapsed(p.Direction, s.lastTS, ent.Timestamp, interval) {
			continue
		}
		s.lastTS = ent.Timestamp
		e := model.Entry{Timestamp: ent.Timestamp, Line: append([]byte(nil), line...), Metadata: cloneLabels(ent.Metadata)}
		if p.CategorizeLabels {
			e.Metadata = pl.lb.catLabels(catMetadata)
			s.Parsed = append(s.Parsed, pl.lb.catLabels(catParsed))
		}
		s.Entries = append(s.Entries, e)
		kept++
	}
	if err := it.Err(); err != nil {
		return nil, 0, fmt.Errorf("read logs: %w", err)
	}
	res := make([]Stream, len(order))
	for i, s := range order {
		res[i] = s.Stream
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Labels.String() < res[j].Labels.String() })
	return res, kept, nil
}

// findStream returns the result stream of the current labels (only the
// stream's own labels when categorizing), or nil.
func findStream(out map[uint64]*outStream, lb *labelsBuilder, categorize bool) *outStream {
	if categorize {
		s := out[lb.catHash(0)]
		for s != nil && !lb.catEqual(s.Labels, 0) {
			s = s.next
		}
		return s
	}
	s := out[lb.hash()]
	for s != nil && !lb.equal(s.Labels) {
		s = s.next
	}
	return s
}

func newOutStream(out map[uint64]*outStream, lb *labelsBuilder, categorize bool) *outStream {
	var h uint64
	var ls labels.Labels
	if categorize {
		h, ls = lb.catHash(0), lb.catLabels(0)
	} else {
		h, ls = lb.hash(), lb.labels()
	}
	s := &outStream{Stream: Stream{Labels: ls}, hash: h, next: out[h]}
	out[h] = s
	return s
}

func intervalElapsed(d model.Direction, last, ts, interval int64) bool {
	if d == model.Forward {
		return ts >= last+interval
	}
	return ts <= last-interval
}

func cloneLabels(ls labels.Labels) labels.Labels {
	if ls.IsEmpty() {
		return labels.EmptyLabels()
	}
	return ls.Copy()
}
