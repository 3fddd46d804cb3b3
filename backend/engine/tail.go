package engine

import (
	"errors"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
)

// ErrTailMetricQuery is returned for a tail of a metric query.
var ErrTailMetricQuery = errors.New("tail only supports log queries, not metric queries")

// maxTailBases bounds the per-stream label state a TailPipeline keeps.
const maxTailBases = 10000

// TailPipeline runs a log query's pipeline over entries one at a time, as
// they arrive, for live tailing. It holds scratch state: one goroutine.
type TailPipeline struct {
	expr  *logql.LogExpr
	pl    *pipeline
	bases streamBases
}

// NewTailPipeline compiles the pipeline of a log query.
func NewTailPipeline(query string) (*TailPipeline, error) {
	expr, err := logql.Parse(query)
	if err != nil {
		return nil, err
	}
	le, ok := expr.(*logql.LogExpr)
	if !ok {
		return nil, ErrTailMetricQuery
	}
	pl, err := newPipeline(le.Pipeline)
	if err != nil {
		return nil, err
	}
	return &TailPipeline{expr: le, pl: pl, bases: streamBases{}}, nil
}

// Matchers returns the query's stream selector.
func (t *TailPipeline) Matchers() []*labels.Matcher { return t.expr.Selector }

// Process runs the pipeline on e. It returns the output line and labels and
// whether the entry is kept; the line is valid until the next call.
func (t *TailPipeline) Process(e *model.StreamEntry) ([]byte, labels.Labels, bool) {
	if len(t.bases) > maxTailBases {
		clear(t.bases)
	}
	line, ok := t.pl.process(t.bases.get(e), e.Timestamp, e.Line, e.Metadata)
	if !ok {
		return nil, labels.EmptyLabels(), false
	}
	return line, t.pl.lb.labels(), true
}
