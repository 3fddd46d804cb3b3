package engine

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// ResultType is Loki's resultType.
type ResultType string

// Result types.
const (
	TypeStreams ResultType = "streams"
	TypeMatrix  ResultType = "matrix"
	TypeVector  ResultType = "vector"
	TypeScalar  ResultType = "scalar"
)

// Stream is the result of a log query for one label set; entries are in the
// query's direction.
type Stream struct {
	Labels  labels.Labels
	Entries []model.Entry
	// Parsed holds, per entry, the labels the pipeline extracted, when the
	// query categorized labels (entries' Metadata then holds what is left of
	// their structured metadata); nil otherwise.
	Parsed []labels.Labels
}

// Series is one series of a matrix; sample times are Unix ns, aligned to
// the query steps.
type Series struct {
	Metric  labels.Labels
	Samples []model.Sample
}

// Sample is one element of an instant vector.
type Sample struct {
	Metric labels.Labels
	T      int64 // Unix ns
	V      float64
}

// Result is the answer to one query. Exactly one of Streams, Matrix, Vector
// and Scalar is meaningful, as Type says.
type Result struct {
	Type    ResultType
	Streams []Stream
	Matrix  []Series
	Vector  []Sample
	Scalar  model.Sample
	Stats   stats.Result
	// Categorized marks the categorize-labels encoding (see
	// Params.CategorizeLabels).
	Categorized bool
}

// MarshalJSON encodes r as Loki's query response:
// {"status":"success","data":{"resultType":...,"result":...,"stats":{...}}}.
func (r *Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the Loki response for r to dst.
func (r *Result) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"status":"success","data":{"resultType":"`...)
	dst = append(dst, r.Type...)
	dst = append(dst, '"')
	if r.Categorized {
		dst = append(dst, `,"encodingFlags":["categorize-labels"]`...)
	}
	dst = append(dst, `,"result":`...)
	dst = r.appendResult(dst)
	dst = append(dst, `,"stats":`...)
	dst = r.Stats.AppendJSON(dst)
	return append(dst, "}}"...)
}

// AppendResultJSON appends only the "result" value of r.
func (r *Result) appendResult(dst []byte) []byte {
	switch r.Type {
	case TypeStreams:
		dst = append(dst, '[')
		for i := range r.Streams {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendStream(dst, &r.Streams[i], r.Categorized)
		}
		return append(dst, ']')
	case TypeMatrix:
		dst = append(dst, '[')
		for i, s := range r.Matrix {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"metric":`...)
			dst = appendLabels(dst, s.Metric)
			dst = append(dst, `,"values":[`...)
			for j, p := range s.Samples {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendPoint(dst, p.T, p.V)
			}
			dst = append(dst, "]}"...)
		}
		return append(dst, ']')
	case TypeVector:
		dst = append(dst, '[')
		for i, s := range r.Vector {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"metric":`...)
			dst = appendLabels(dst, s.Metric)
			dst = append(dst, `,"value":`...)
			dst = appendPoint(dst, s.T, s.V)
			dst = append(dst, '}')
		}
		return append(dst, ']')
	case TypeScalar:
		return appendPoint(dst, r.Scalar.T, r.Scalar.V)
	}
	return append(dst, "null"...)
}

func appendStream(dst []byte, s *Stream, categorized bool) []byte {
	dst = append(dst, `{"stream":`...)
	dst = appendLabels(dst, s.Labels)
	dst = append(dst, `,"values":[`...)
	for i, e := range s.Entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `["`...)
		dst = strconv.AppendInt(dst, e.Timestamp, 10)
		dst = append(dst, `",`...)
		dst = appendJSONString(dst, e.Line, true)
		if categorized {
			dst = appendCategories(dst, e.Metadata, s.parsed(i))
		}
		dst = append(dst, ']')
	}
	return append(dst, "]}"...)
}

func (s *Stream) parsed(i int) labels.Labels {
	if i < len(s.Parsed) {
		return s.Parsed[i]
	}
	return labels.EmptyLabels()
}

// appendCategories writes the third element of a categorized entry:
// {"structuredMetadata":{...},"parsed":{...}}, leaving out empty parts.
func appendCategories(dst []byte, md, parsed labels.Labels) []byte {
	dst = append(dst, ",{"...)
	if !md.IsEmpty() {
		dst = append(dst, `"structuredMetadata":`...)
		dst = appendLabels(dst, md)
	}
	if !parsed.IsEmpty() {
		if !md.IsEmpty() {
			dst = append(dst, ',')
		}
		dst = append(dst, `"parsed":`...)
		dst = appendLabels(dst, parsed)
	}
	return append(dst, '}')
}

// appendLabels encodes a label set as a JSON object in label order. Names
// and values are written as Loki writes them (no HTML escaping, bytes of
// invalid UTF-8 passed through).
func appendLabels(dst []byte, ls labels.Labels) []byte {
	dst = append(dst, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, []byte(l.Name), false)
		dst = append(dst, ':')
		dst = appendJSONString(dst, []byte(l.Value), false)
	})
	return append(dst, '}')
}

// appendPoint writes [<seconds>,"<value>"]: the time in seconds with
// millisecond precision and the value formatted as Prometheus does.
func appendPoint(dst []byte, tNanos int64, v float64) []byte {
	dst = append(dst, '[')
	ms := tNanos / 1e6
	if tNanos < 0 && tNanos%1e6 != 0 {
		ms--
	}
	dst = strconv.AppendFloat(dst, float64(ms)/1e3, 'f', -1, 64)
	dst = append(dst, `,"`...)
	dst = appendFloat(dst, v)
	return append(dst, `"]`...)
}

func appendFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Control characters other than
// \n, \r and \t become \u00XX. With html (used for log lines, as Loki
// does), <, > and & are escaped, U+2028 and U+2029 are escaped, and every
// invalid UTF-8 byte becomes \ufffd; without it, other bytes pass through.
func appendJSONString(dst []byte, s []byte, html bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		if !html {
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
