package lokiapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Result types of a query response, as Loki names them.
const (
	ResultStreams = "streams"
	ResultMatrix  = "matrix"
	ResultVector  = "vector"
	ResultScalar  = "scalar"
)

// QueryResponse is a decoded /query or /query_range answer. Exactly one of Streams, Matrix,
// Vector or Scalar is meaningful, chosen by ResultType.
type QueryResponse struct {
	ResultType string
	Streams    []Stream
	Matrix     []Series
	Vector     []Sample
	Scalar     Point
	// Stats is the raw "stats" object of the answer (nil when absent).
	Stats json.RawMessage
}

// Stream is one log stream of a streams result: its labels and its entries in the order the
// server sent them.
type Stream struct {
	Labels map[string]string `json:"stream"`
	Values []Entry           `json:"values"`
}

// Entry is one log line. StructuredMetadata and Parsed are set only when the server
// categorises labels (the third element of a value).
type Entry struct {
	Timestamp          int64 // Unix ns
	Line               string
	StructuredMetadata map[string]string
	Parsed             map[string]string
}

// Series is one series of a matrix result.
type Series struct {
	Metric map[string]string `json:"metric"`
	Values []Point           `json:"values"`
}

// Sample is one element of a vector result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  Point             `json:"value"`
}

// Point is a metric sample: time in Unix ns and value.
type Point struct {
	T int64
	V float64
}

// envelope is the outer JSON object of every Loki query answer.
type envelope struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
		Stats      json.RawMessage `json:"stats"`
	} `json:"data"`
	Error string `json:"error"`
}

// DecodeQueryResponse decodes the body of a successful /query or /query_range answer.
func DecodeQueryResponse(body []byte) (*QueryResponse, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode query response: %w", notLoki(body))
	}
	if env.Status == "error" {
		return nil, &StatusError{Code: 422, Message: env.Error}
	}
	if env.Status != "success" {
		return nil, fmt.Errorf("decode query response: %w", notLoki(body))
	}
	r := &QueryResponse{ResultType: env.Data.ResultType}
	if len(env.Data.Stats) > 0 && string(env.Data.Stats) != "null" {
		r.Stats = env.Data.Stats
	}
	var err error
	switch r.ResultType {
	case ResultStreams:
		err = unmarshalResult(env.Data.Result, &r.Streams)
	case ResultMatrix:
		err = unmarshalResult(env.Data.Result, &r.Matrix)
	case ResultVector:
		err = unmarshalResult(env.Data.Result, &r.Vector)
	case ResultScalar:
		err = unmarshalResult(env.Data.Result, &r.Scalar)
	default:
		err = fmt.Errorf("%w: unknown resultType %q", ErrBadResult, r.ResultType)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s result: %w", r.ResultType, err)
	}
	return r, nil
}

func unmarshalResult(raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	return nil
}

// entryMetadata is the optional third element of a stream value.
type entryMetadata struct {
	StructuredMetadata map[string]string `json:"structuredMetadata"`
	Parsed             map[string]string `json:"parsed"`
}

// UnmarshalJSON decodes ["<ns>", "<line>"] or ["<ns>", "<line>", {"structuredMetadata":..., "parsed":...}].
// The input is a JSON value already checked by the outer decoder; the common shape is read
// by hand (this runs once per log line) and anything unusual falls back to encoding/json.
func (e *Entry) UnmarshalJSON(b []byte) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return fmt.Errorf("%w: stream value is not an array", ErrBadResult)
	}
	ts, i, ok := rawString(b, skipSpace(b, i+1))
	if !ok {
		return e.unmarshalSlow(b)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: entry timestamp %q is not Unix nanoseconds", ErrBadResult, ts)
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ',' {
		return e.unmarshalSlow(b)
	}
	line, j, ok := rawString(b, skipSpace(b, i+1))
	if !ok {
		return e.unmarshalSlow(b)
	}
	j = skipSpace(b, j)
	if j >= len(b) || b[j] != ']' {
		return e.unmarshalSlow(b)
	}
	e.Timestamp, e.Line, e.StructuredMetadata, e.Parsed = n, line, nil, nil
	return nil
}

// unmarshalSlow decodes an entry with encoding/json (escaped lines, metadata).
func (e *Entry) unmarshalSlow(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) < 2 || len(raw) > 3 {
		return fmt.Errorf("%w: stream value has %d elements, want 2 or 3", ErrBadResult, len(raw))
	}
	var ts string
	if err := json.Unmarshal(raw[0], &ts); err != nil {
		return fmt.Errorf("%w: entry timestamp: %v", ErrBadResult, err)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: entry timestamp %q is not Unix nanoseconds", ErrBadResult, ts)
	}
	e.Timestamp, e.StructuredMetadata, e.Parsed = n, nil, nil
	if err := json.Unmarshal(raw[1], &e.Line); err != nil {
		return fmt.Errorf("%w: entry line: %v", ErrBadResult, err)
	}
	if len(raw) == 3 {
		var md entryMetadata
		if err := json.Unmarshal(raw[2], &md); err != nil {
			return fmt.Errorf("%w: entry metadata: %v", ErrBadResult, err)
		}
		e.StructuredMetadata, e.Parsed = md.StructuredMetadata, md.Parsed
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// rawString reads the JSON string at b[i] and returns it unescaped with the index after it.
// ok is false for what it leaves to encoding/json: a malformed string or invalid UTF-8 (which
// encoding/json replaces with U+FFFD).
func rawString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	start := i + 1
	j := start
	for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
		j++
	}
	if j < len(b) && b[j] == '"' { // no escapes: the common case
		if !utf8.Valid(b[start:j]) {
			return "", i, false
		}
		return string(b[start:j]), j + 1, true
	}
	out := make([]byte, 0, j-start+16)
	out = append(out, b[start:j]...)
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return "", i, false
			}
			return string(out), j + 1, true
		case c < 0x20:
			return "", i, false
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(b) {
			return "", i, false
		}
		switch e := b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, ok := unicodeEscape(b, j)
			if !ok {
				return "", i, false
			}
			out = utf8.AppendRune(out, r)
			j += n
			continue
		default:
			return "", i, false
		}
		j += 2
	}
	return "", i, false
}

// unicodeEscape decodes \uXXXX at b[j] (with a following low surrogate when it is a high
// one) and returns the rune and the bytes consumed.
func unicodeEscape(b []byte, j int) (rune, int, bool) {
	r, ok := hex4(b, j+2)
	if !ok {
		return 0, 0, false
	}
	if utf16.IsSurrogate(r) {
		if j+12 <= len(b) && b[j+6] == '\\' && b[j+7] == 'u' {
			if r2, ok := hex4(b, j+8); ok {
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					return d, 12, true
				}
			}
		}
		return utf8.RuneError, 6, true
	}
	return r, 6, true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// MarshalJSON encodes the entry in Loki's value form (used by test servers).
func (e Entry) MarshalJSON() ([]byte, error) {
	v := []any{strconv.FormatInt(e.Timestamp, 10), e.Line}
	if len(e.StructuredMetadata) > 0 || len(e.Parsed) > 0 {
		v = append(v, entryMetadata{StructuredMetadata: e.StructuredMetadata, Parsed: e.Parsed})
	}
	return json.Marshal(v)
}

// UnmarshalJSON decodes [<unix seconds, number>, "<value>"].
func (p *Point) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != 2 {
		return fmt.Errorf("%w: sample has %d elements, want 2", ErrBadResult, len(raw))
	}
	t, err := ParseUnixSeconds(strings.Trim(string(raw[0]), `"`))
	if err != nil {
		return fmt.Errorf("%w: sample time: %v", ErrBadResult, err)
	}
	var s string
	if err := json.Unmarshal(raw[1], &s); err != nil {
		return fmt.Errorf("%w: sample value: %v", ErrBadResult, err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%w: sample value %q is not a number", ErrBadResult, s)
	}
	p.T, p.V = t, v
	return nil
}

// MarshalJSON encodes the point in Loki's form (used by test servers).
func (p Point) MarshalJSON() ([]byte, error) {
	sec := strconv.FormatInt(p.T/1e9, 10)
	if frac := p.T % 1e9; frac != 0 {
		sec += "." + strings.TrimRight(fmt.Sprintf("%09d", frac), "0")
	}
	return []byte(`[` + sec + `,"` + strconv.FormatFloat(p.V, 'f', -1, 64) + `"]`), nil
}

// ParseUnixSeconds parses a decimal number of seconds ("1700000000", "1700000000.123") into
// Unix nanoseconds without going through float64, so that millisecond steps stay exact.
func ParseUnixSeconds(s string) (int64, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %q as seconds: %w", s, err)
	}
	if sec > math.MaxInt64/1_000_000_000 || sec < math.MinInt64/1_000_000_000 {
		return 0, fmt.Errorf("parse %q as seconds: out of range", s)
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var ns int64
	if frac != "" {
		ns, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %q as seconds: %w", s, err)
		}
	}
	if neg {
		ns = -ns
	}
	return sec*1e9 + ns, nil
}

// TailMessage is one websocket message of /loki/api/v1/tail.
type TailMessage struct {
	Streams        []Stream       `json:"streams"`
	DroppedEntries []DroppedEntry `json:"dropped_entries"`
}

// DroppedEntry names an entry the server could not send in time.
type DroppedEntry struct {
	Labels    map[string]string `json:"labels"`
	Timestamp string            `json:"timestamp"`
}
