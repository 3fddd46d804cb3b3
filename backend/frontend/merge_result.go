package frontend

import (
	"encoding/json"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// merger joins the answers of a query's parts, added in the order their
// values must appear (time order for matrices, the query's direction for
// streams): series with the same labels are one series whose values are
// the parts' values concatenated.
type merger struct {
	resultType string
	flags      []string
	byLabels   map[string]*mergedSeries // by raw label object
	series     []*mergedSeries
	stats      stats.Result
	entries    int
}

type mergedSeries struct {
	raw    json.RawMessage
	labels labels.Labels
	sortBy string // streams only: labels.String(), the engine's order
	values []json.RawMessage
}

func newMerger(resultType string) *merger {
	return &merger{resultType: resultType, byLabels: map[string]*mergedSeries{}}
}

// add appends the series of p; its statistics count unless it came from
// the cache (that work was not done for this query).
func (m *merger) add(p *partResult, cached bool) error {
	if len(m.flags) == 0 {
		m.flags = p.flags
	}
	if !cached {
		m.stats.Merge(p.stats)
	}
	for _, s := range p.series {
		ms, ok := m.byLabels[string(s.labels)]
		if !ok {
			ls, err := decodeLabels(s.labels)
			if err != nil {
				return err
			}
			ms = &mergedSeries{raw: s.labels, labels: ls}
			if m.resultType == typeStreams {
				ms.sortBy = ls.String()
			}
			m.byLabels[string(s.labels)] = ms
			m.series = append(m.series, ms)
		}
		ms.values = append(ms.values, s.values...)
		m.entries += len(s.values)
	}
	return nil
}

// returned is what the engine reports as totalEntriesReturned: entries of
// a streams result, series of a matrix.
func (m *merger) returned() int {
	if m.resultType == typeStreams {
		return m.entries
	}
	return len(m.series)
}

// appendJSON writes the merged answer in the engine's layout (streams
// sorted by label string, matrix series by labels) with st as its stats.
func (m *merger) appendJSON(dst []byte, st *stats.Result) []byte {
	if m.resultType == typeStreams {
		sort.Slice(m.series, func(i, j int) bool { return m.series[i].sortBy < m.series[j].sortBy })
	} else {
		sort.Slice(m.series, func(i, j int) bool { return labels.Compare(m.series[i].labels, m.series[j].labels) < 0 })
	}
	key := `{"metric":`
	if m.resultType == typeStreams {
		key = `{"stream":`
	}
	dst = append(dst, `{"status":"success","data":{"resultType":"`...)
	dst = append(dst, m.resultType...)
	dst = append(dst, '"')
	if len(m.flags) > 0 {
		dst = append(dst, `,"encodingFlags":[`...)
		for i, f := range m.flags {
			if i > 0 {
				dst = append(dst, ',')
			}
			b, _ := json.Marshal(f)
			dst = append(dst, b...)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"result":[`...)
	for i, s := range m.series {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, key...)
		dst = append(dst, s.raw...)
		dst = append(dst, `,"values":[`...)
		for j, v := range s.values {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, v...)
		}
		dst = append(dst, "]}"...)
	}
	dst = append(dst, `],"stats":`...)
	dst = st.AppendJSON(dst)
	return append(dst, "}}"...)
}

// trimStreams keeps the first n entries of p in direction dir (n less than
// p.entries). It reports false, leaving p unchanged, when entries at the
// cut share a timestamp: which of them come first depends on the
// downstream's tie-break, so the part must be asked again with limit n.
func trimStreams(p *partResult, n int, dir model.Direction) (bool, error) {
	ts := make([]int64, 0, p.entries)
	for _, s := range p.series {
		for _, v := range s.values {
			t, err := entryTimestamp(v)
			if err != nil {
				return false, err
			}
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	if dir == model.Backward {
		slices.Reverse(ts)
	}
	last := ts[n-1]
	if ts[n] == last {
		return false, nil
	}
	kept := p.series[:0]
	p.entries = 0
	for _, s := range p.series {
		vs := s.values[:0]
		for _, v := range s.values {
			t, _ := entryTimestamp(v)
			if (dir == model.Forward && t <= last) || (dir == model.Backward && t >= last) {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			s.values = vs
			kept = append(kept, s)
			p.entries += len(vs)
		}
	}
	p.series = kept
	return true, nil
}
