package frontend

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/stats"
)

// Result types of query_range answers the frontend merges.
const (
	typeStreams = "streams"
	typeMatrix  = "matrix"
)

// partResult is a decoded 200 answer of one sub-query. Label objects and
// values stay raw JSON, so that the merged answer carries exactly the bytes
// the downstream wrote.
type partResult struct {
	resultType string
	flags      []string // encodingFlags
	series     []rawSeries
	stats      stats.Result
	entries    int // values of all series
}

// rawSeries is one stream ("stream" and "values") or one matrix series
// ("metric" and "values").
type rawSeries struct {
	labels json.RawMessage
	values []json.RawMessage
}

// decodePart decodes a query_range answer whose resultType must be want.
// It scans the JSON itself rather than through encoding/json: answers are
// large and their values are kept raw, so only the small stats object is
// decoded by reflection.
func decodePart(body []byte, want string) (*partResult, error) {
	p := &partResult{}
	var status, resultType string
	var result []byte
	end, err := eachField(body, skipSpace(body, 0), func(key string, v []byte) (err error) {
		switch key {
		case "status":
			status, _, err = unquote(v, 0)
		case "data":
			_, err = eachField(v, 0, func(key string, v []byte) (err error) {
				switch key {
				case "resultType":
					resultType, _, err = unquote(v, 0)
				case "encodingFlags":
					p.flags, err = decodeStrings(v)
				case "result":
					result = v
				case "stats":
					err = json.Unmarshal(v, &p.stats)
				}
				return err
			})
		}
		return err
	})
	if err == nil && skipSpace(body, end) != len(body) {
		err = fmt.Errorf("%w: data after the answer", ErrBadPartResponse)
	}
	if err != nil {
		return nil, badPart(err)
	}
	if status != "success" || resultType != want {
		return nil, fmt.Errorf("%w: status %q, resultType %q, want %q", ErrBadPartResponse, status, resultType, want)
	}
	p.resultType = want
	if err := p.decodeSeries(result); err != nil {
		return nil, badPart(fmt.Errorf("result: %w", err))
	}
	return p, nil
}

// badPart wraps err in ErrBadPartResponse unless it is already.
func badPart(err error) error {
	if errors.Is(err, ErrBadPartResponse) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrBadPartResponse, err)
}

// decodeSeries reads the "result" array of streams or matrix series.
func (p *partResult) decodeSeries(result []byte) error {
	elems, err := splitArray(result)
	if err != nil {
		return err
	}
	labelsKey := "metric"
	if p.resultType == typeStreams {
		labelsKey = "stream"
	}
	p.series = make([]rawSeries, len(elems))
	for i, e := range elems {
		s := &p.series[i]
		_, err := eachField(e, 0, func(key string, v []byte) (err error) {
			switch key {
			case labelsKey:
				s.labels = v
			case "values":
				s.values, err = splitArray(v)
			}
			return err
		})
		if err != nil {
			return err
		}
		if len(s.labels) == 0 || s.labels[0] != '{' {
			return errors.New("series without labels")
		}
		p.entries += len(s.values)
	}
	return nil
}

func decodeStrings(b []byte) ([]string, error) {
	elems, err := splitArray(b)
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		if err != nil {
			break
		}
		var s string
		s, _, err = unquote(e, 0)
		out = append(out, s)
	}
	return out, err
}

// eachField calls fn with every key and raw value of the JSON object at
// b[i] and returns the index after the object.
func eachField(b []byte, i int, fn func(key string, value []byte) error) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return i, fmt.Errorf("expected an object at %d", i)
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		key, n, err := unquote(b, i)
		if err != nil {
			return i, err
		}
		i = skipSpace(b, n)
		if i >= len(b) || b[i] != ':' {
			return i, fmt.Errorf("expected a colon at %d", i)
		}
		i = skipSpace(b, i+1)
		end, err := skipValue(b, i)
		if err != nil {
			return i, err
		}
		if err := fn(key, b[i:end]); err != nil {
			return i, err
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		} else if i < len(b) && b[i] != '}' {
			return i, fmt.Errorf("expected a comma at %d", i)
		}
	}
	if i >= len(b) {
		return i, errors.New("unterminated object")
	}
	return i + 1, nil
}

// skipValue returns the index after the JSON value at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("missing value")
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return i, errors.New("unterminated string")
	case '{', '[':
		depth, inString := 0, false
		for j := i; j < len(b); j++ {
			c := b[j]
			switch {
			case inString && c == '\\':
				j++
			case c == '"':
				inString = !inString
			case inString:
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return i, errors.New("unterminated object or array")
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",]} \t\n\r", rune(b[j])) {
		j++
	}
	if j == i {
		return i, fmt.Errorf("unexpected %q at %d", b[i], i)
	}
	return j, nil
}

// splitArray returns the elements of the JSON array b as sub-slices of b.
// Like the rest of this scanner it checks structure (strings, nesting,
// separators), not the syntax of numbers and literals.
func splitArray(b []byte) ([]json.RawMessage, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		if string(b) == "null" {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: values %.40q are not an array", ErrBadPartResponse, b)
	}
	var out []json.RawMessage
	depth, inString, start := 0, false, -1
	for i++; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 { // the end of b's array
				if start >= 0 {
					out = append(out, trimSpace(b[start:i]))
				}
				return out, nil
			}
			depth--
		case ',':
			if depth == 0 {
				if start < 0 {
					return nil, fmt.Errorf("%w: empty element in values", ErrBadPartResponse)
				}
				out = append(out, trimSpace(b[start:i]))
				start = -1
				continue
			}
		}
		if start < 0 {
			start = i
		}
	}
	return nil, fmt.Errorf("%w: unterminated values array", ErrBadPartResponse)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// entryTimestamp reads the timestamp of a raw stream value ["<ns>", ...].
func entryTimestamp(v json.RawMessage) (int64, error) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return 0, fmt.Errorf("%w: entry %.40q is not an array", ErrBadPartResponse, v)
	}
	i = skipSpace(v, i+1)
	if i >= len(v) || v[i] != '"' {
		return 0, fmt.Errorf("%w: entry %.40q has no timestamp string", ErrBadPartResponse, v)
	}
	j := i + 1
	for j < len(v) && v[j] != '"' {
		j++
	}
	ts, err := strconv.ParseInt(string(v[i+1:j]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: entry timestamp: %w", ErrBadPartResponse, err)
	}
	return ts, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// decodeLabels decodes a JSON object of strings into labels. Unlike
// encoding/json it keeps bytes of invalid UTF-8 as they are, as the
// downstream wrote them, so that sorting matches the downstream's.
func decodeLabels(b []byte) (labels.Labels, error) {
	var lb labels.ScratchBuilder
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return labels.EmptyLabels(), fmt.Errorf("%w: labels %.40q are not an object", ErrBadPartResponse, b)
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		name, n, err := unquote(b, i)
		if err != nil {
			return labels.EmptyLabels(), err
		}
		i = skipSpace(b, n)
		if i >= len(b) || b[i] != ':' {
			return labels.EmptyLabels(), fmt.Errorf("%w: labels %.40q: missing colon", ErrBadPartResponse, b)
		}
		value, n, err := unquote(b, skipSpace(b, i+1))
		if err != nil {
			return labels.EmptyLabels(), err
		}
		lb.Add(name, value)
		i = skipSpace(b, n)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	lb.Sort()
	return lb.Labels(), nil
}

// unquote decodes the JSON string starting at b[i] and returns it and the
// index after it.
func unquote(b []byte, i int) (string, int, error) {
	if i >= len(b) || b[i] != '"' {
		return "", i, fmt.Errorf("%w: expected a string at %d of %.40q", ErrBadPartResponse, i, b)
	}
	var out []byte
	for i++; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			return string(out), i + 1, nil
		case c != '\\':
			out = append(out, c)
			continue
		}
		if i+1 >= len(b) {
			break
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, n, ok := unicodeEscape(b, i+1)
			if !ok {
				return "", i, fmt.Errorf("%w: bad \\u escape in %.40q", ErrBadPartResponse, b)
			}
			out = utf8.AppendRune(out, r)
			i = n - 1
		default: // '"', '\\', '/'
			out = append(out, b[i])
		}
	}
	return "", i, fmt.Errorf("%w: unterminated string in %.40q", ErrBadPartResponse, b)
}

// unicodeEscape reads the 4 hex digits at b[i:] (and a following low
// surrogate escape when they are a high surrogate); n is the index after.
func unicodeEscape(b []byte, i int) (rune, int, bool) {
	hex := func(i int) (rune, bool) {
		if i+4 > len(b) {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex(i)
	if !ok {
		return 0, i, false
	}
	i += 4
	if utf16.IsSurrogate(r) && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
		if r2, ok := hex(i + 2); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, i + 6, true
			}
		}
	}
	return r, i, true
}
