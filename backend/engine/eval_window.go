package engine

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// windows returns the windows of range aggregation ra at the evaluator's
// steps, in the time of the data (offset applied).
func (ev *evaluator) windows(ra *logql.RangeAggregation) model.Windows {
	step := ev.p.Step.Nanoseconds()
	if step <= 0 || len(ev.steps) == 1 {
		step = 1
	}
	return model.Windows{
		First: ev.steps[0] - ra.Offset.Nanoseconds(),
		Step:  step,
		Range: ra.Range.Nanoseconds(),
		Count: len(ev.steps),
	}
}

// countNeedles returns the needles of a pipeline made only of |= filters
// on literals (so that counting lines that contain them all is the whole
// pipeline), or ok false.
func countNeedles(ra *logql.RangeAggregation) (needles [][]byte, ok bool) {
	for _, st := range ra.Log.Pipeline {
		f, isFilter := st.(*logql.LineFilter)
		if !isFilter || f.Op != logql.LineContains || f.IP || len(f.Or) > 0 {
			return nil, false
		}
		if f.Match != "" {
			needles = append(needles, []byte(f.Match))
		}
	}
	return needles, true
}

// evalCounts evaluates a window aggregation whose pipeline is at most |=
// filters through storage that counts entries per window itself.
func (ev *evaluator) evalCounts(c Counter, ra *logql.RangeAggregation, x *extractor, needles [][]byte) ([][]sample, error) {
	w := ev.windows(ra)
	sel := model.CountSelect{
		LogSelect: model.LogSelect{Tenant: ev.p.Tenant, Matchers: ra.Log.Selector, Start: w.Start(), End: w.Last() + 1,
			Direction: model.Forward, Needles: needles},
		Windows: w,
		Bytes:   ra.Op == logql.RangeBytes || ra.Op == logql.RangeBytesRate,
	}
	if g := x.group; g == nil || g.without {
		sel.AllMetadata = true
	} else {
		// Metadata named like a stream label is renamed <name>_extracted.
		sel.MetadataBy = make([]string, 0, len(g.names))
		for _, n := range g.names {
			sel.MetadataBy = append(sel.MetadataBy, n)
			if base, ok := strings.CutSuffix(n, extractedSuffix); ok {
				sel.MetadataBy = append(sel.MetadataBy, base)
			}
		}
	}
	ws := newWindowSet(w)
	pl := &pipeline{}
	bases := map[model.Fingerprint]*streamBase{}
	counted := int64(0)
	err := c.CountEntries(ev.ctx, sel, func(wc *model.WindowCounts) error {
		base, ok := bases[wc.Fingerprint]
		if !ok {
			base = newStreamBase(wc.Labels)
			bases[wc.Fingerprint] = base
		}
		pl.process(base, 0, nil, wc.Metadata)
		s := ws.get(&pl.lb, x.group)
		for i, n := range wc.Counts {
			if n == 0 {
				continue
			}
			counted += n
			var v float64
			if sel.Bytes {
				v = float64(wc.Bytes[i])
			}
			s.add(i, i, n, v, wc.MinTime, wc.Fingerprint)
		}
		return nil
	})
	stats.FromContext(ev.ctx).Querier().AddPostFilterLines(counted)
	if err != nil {
		return nil, fmt.Errorf("count logs: %w", err)
	}
	return ws.vectors(ra)
}

// evalStreams evaluates a window aggregation stream by stream: samples are
// added to their series' windows as they come, in any order, so storage
// needs no merge across streams.
func (ev *evaluator) evalStreams(sq StreamQuerier, ra *logql.RangeAggregation, pl *pipeline, x *extractor) ([][]sample, error) {
	w := ev.windows(ra)
	sel := model.LogSelect{
		Tenant:         ev.p.Tenant,
		Matchers:       ra.Log.Selector,
		Start:          w.Start(),
		End:            w.Last() + 1,
		Direction:      model.Forward,
		Needles:        needles(ra.Log),
		TimestampsOnly: needsTimestampsOnly(ra, x.group),
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), maxStreamWorkers))
	ses := make([]*streamEval, workers)
	ses[0] = newStreamEval(ev, pl, x, w)
	for i := 1; i < workers; i++ {
		wpl, err := newPipeline(ra.Log.Pipeline)
		if err != nil {
			return nil, err
		}
		ses[i] = newStreamEval(ev, wpl, x, w)
	}
	err := sq.SelectStreams(ev.ctx, sel, workers, func(worker int, it iter.EntryIterator) error {
		return ses[worker].consume(it)
	})
	kept := 0
	for _, se := range ses {
		kept += se.kept
	}
	stats.FromContext(ev.ctx).Querier().AddPostFilterLines(int64(kept))
	if err != nil {
		return nil, fmt.Errorf("select streams: %w", err)
	}
	for _, se := range ses[1:] {
		ses[0].ws.merge(se.ws)
	}
	return ses[0].ws.vectors(ra)
}

// maxStreamWorkers bounds the goroutines evalStreams lets storage run its
// streams on (each with its own pipeline and series).
const maxStreamWorkers = 8

func newStreamEval(ev *evaluator, pl *pipeline, x *extractor, w model.Windows) *streamEval {
	return &streamEval{ev: ev, pl: pl, x: x, ws: newWindowSet(w), bases: streamBases{}, byBase: map[*streamBase]*windowSeries{}}
}

// streamEval adds the entries of stream iterators to a window set: one
// per worker of SelectStreams.
type streamEval struct {
	ev    *evaluator
	pl    *pipeline
	x     *extractor
	ws    *windowSet
	bases streamBases
	seen  int
	kept  int
	// The series of each stream's entries that the pipeline leaves
	// unchanged.
	byBase map[*streamBase]*windowSeries
}

func (se *streamEval) consume(it iter.EntryIterator) error {
	for it.Next() {
		if se.seen++; se.seen&4095 == 0 {
			if err := se.ev.ctx.Err(); err != nil {
				return err
			}
		}
		ent := it.At()
		se.add(&ent)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}

func (se *streamEval) add(ent *model.StreamEntry) {
	base := se.bases.get(ent)
	line, ok := se.pl.process(base, ent.Timestamp, ent.Line, ent.Metadata)
	if !ok {
		return
	}
	se.kept++
	first, last := se.ws.w.Span(ent.Timestamp)
	if first > last {
		return
	}
	lb := &se.pl.lb
	v, ok := se.x.value(lb, line)
	if !ok {
		return
	}
	var s *windowSeries
	if lb.dirty {
		s = se.ws.get(lb, se.x.group)
	} else if s = se.byBase[base]; s == nil {
		// The stream's own labels: the same series for all its entries
		// the pipeline leaves unchanged.
		s = se.ws.get(lb, se.x.group)
		se.byBase[base] = s
	}
	s.add(first, last, 1, v, ent.Timestamp, ent.Fingerprint)
}
