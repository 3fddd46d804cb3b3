package engine

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
)

// pipeline is a compiled log pipeline. The line filters that come before
// any other stage run first, on the raw line, without touching labels; the
// rest run in query order. A pipeline holds scratch state: one goroutine.
type pipeline struct {
	filters []lineFilter
	stages  []stage
	lb      labelsBuilder
}

// lineFilterStage runs a line filter placed after other stages.
type lineFilterStage struct{ f lineFilter }

func (s lineFilterStage) process(_ int64, line []byte, _ *labelsBuilder) ([]byte, bool) {
	return line, s.f.match(line)
}

func newPipeline(stages []logql.Stage) (*pipeline, error) {
	p := &pipeline{}
	leading := true
	for _, st := range stages {
		if lf, ok := st.(*logql.LineFilter); ok {
			f, err := newLineFilter(lf)
			if err != nil {
				return nil, err
			}
			if leading {
				p.filters = append(p.filters, f)
			} else {
				p.stages = append(p.stages, lineFilterStage{f})
			}
			continue
		}
		leading = false
		s, err := newStage(st)
		if err != nil {
			return nil, err
		}
		p.stages = append(p.stages, s)
	}
	return p, nil
}

func newStage(st logql.Stage) (stage, error) {
	switch st := st.(type) {
	case *logql.ParserStage:
		return newParserStage(st)
	case *logql.LabelFilterStage:
		f, err := newLabelFilter(st.Filter)
		if err != nil {
			return nil, err
		}
		return labelFilterStage{f}, nil
	case *logql.LineFormat:
		return newLineFormatStage(st.Template)
	case *logql.LabelFormat:
		return newLabelFormatStage(st)
	case *logql.DropLabels:
		return dropStage{refs: st.Labels}, nil
	case *logql.KeepLabels:
		return &keepStage{refs: st.Labels}, nil
	case *logql.Decolorize:
		return &decolorizeStage{}, nil
	}
	return nil, fmt.Errorf("pipeline stage %T: %w", st, ErrUnsupported)
}

func newParserStage(st *logql.ParserStage) (stage, error) {
	params := make([][2]string, 0, len(st.Params))
	for _, p := range st.Params {
		params = append(params, [2]string{p.Label, p.Expr})
	}
	switch st.Kind {
	case logql.ParserJSON:
		if len(params) > 0 {
			return newJSONParamsStage(params)
		}
		return newJSONStage(), nil
	case logql.ParserLogfmt:
		return newLogfmtStage(st.Strict, st.KeepEmpty, params), nil
	case logql.ParserRegexp:
		return newRegexpStage(st.Expr)
	case logql.ParserPattern:
		return newPatternStage(st.Expr)
	case logql.ParserUnpack:
		return newUnpackStage(), nil
	}
	return nil, fmt.Errorf("parser %v: %w", st.Kind, ErrUnsupported)
}

// mayDrop reports whether some stage can drop lines (line or label filters),
// in which case storage must not stop after Limit entries of its own.
func mayDrop(stages []logql.Stage) bool {
	for _, st := range stages {
		switch st.(type) {
		case *logql.LineFilter, *logql.LabelFilterStage:
			return true
		}
	}
	return false
}

// matchFilters runs the leading line filters.
func (p *pipeline) matchFilters(line []byte) bool {
	for _, f := range p.filters {
		if !f.match(line) {
			return false
		}
	}
	return true
}

// process runs the whole pipeline on one entry of the stream base. It returns
// the output line and whether the entry is kept; the output labels are in
// p.lb until the next call.
func (p *pipeline) process(base *streamBase, ts int64, line []byte, md labels.Labels) ([]byte, bool) {
	if !p.matchFilters(line) {
		return nil, false
	}
	p.lb.reset(base)
	if !md.IsEmpty() {
		lb := &p.lb
		md.Range(func(l labels.Label) {
			name := l.Name
			if lb.baseHas(name) {
				name += extractedSuffix
			}
			lb.set(catMetadata, name, l.Value)
		})
	}
	ok := true
	for _, s := range p.stages {
		if line, ok = s.process(ts, line, &p.lb); !ok {
			return nil, false
		}
	}
	return line, true
}

// needles returns literals every line of the result contains: those of
// logql's Needles (|= filters up to the first stage that rewrites the line)
// and of |~ filters in that span whose regexp is a plain literal.
func needles(e *logql.LogExpr) [][]byte {
	var out [][]byte
	add := func(n []byte) {
		for _, o := range out {
			if string(o) == string(n) {
				return
			}
		}
		out = append(out, n)
	}
	for _, n := range e.Needles() {
		add([]byte(n))
	}
	for _, st := range e.Pipeline {
		switch s := st.(type) {
		case *logql.LineFilter:
			if s.Op != logql.LineMatch || s.IP || len(s.Or) > 0 {
				continue
			}
			if f, ok := simplifyRegex(s.Match); ok {
				if c, ok := f.(containsFilter); ok && len(c.needle) > 0 {
					add(c.needle)
				}
			}
		case *logql.LineFormat, *logql.Decolorize:
			return out
		case *logql.ParserStage:
			if s.Kind == logql.ParserUnpack {
				return out
			}
		}
	}
	return out
}
