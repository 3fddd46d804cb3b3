package push

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeJSON decodes Loki's JSON push body
//
//	{"streams":[{"stream":{"app":"api"},"values":[["<unix ns>","line",{"trace_id":"abc"}]]}]}
//
// from b into r, replacing what r held. The timestamp is a string (or a
// number) of Unix nanoseconds and the metadata object is optional. Unknown
// keys are skipped. Lines keep their bytes exactly, invalid UTF-8 included.
//
// DecodeJSON works in place: it rewrites escape sequences inside b where they
// stand, and lines and metadata point into b afterwards (stream label strings
// are built as new strings). b must stay unchanged while r is used.
func (r *Request) DecodeJSON(b []byte) error {
	r.Streams = r.Streams[:0]
	d := jsonDecoder{b: b}
	if err := d.request(r); err != nil {
		return malformed("json", err)
	}
	return nil
}

type jsonDecoder struct {
	b     []byte
	i     int
	pairs []LabelPair // scratch for one stream's labels
	lbuf  []byte      // scratch for one stream's label string
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) request(r *Request) error {
	ok, err := d.enter('{')
	if err != nil || !ok {
		return err
	}
	for n := 0; ; n++ {
		key, more, err := d.nextKey('}', n)
		if err != nil || !more {
			if err == nil && d.skipSpace() != len(d.b) {
				return d.errorf("unexpected data after the request object")
			}
			return err
		}
		if string(key) != "streams" {
			if err := d.skipValue(); err != nil {
				return err
			}
			continue
		}
		if err := d.streams(r); err != nil {
			return err
		}
	}
}

func (d *jsonDecoder) streams(r *Request) error {
	ok, err := d.enter('[')
	if err != nil || !ok {
		return err
	}
	for n := 0; ; n++ {
		more, err := d.next(']', n)
		if err != nil || !more {
			return err
		}
		if err := d.stream(r.nextStream()); err != nil {
			return fmt.Errorf("streams[%d]: %w", n, err)
		}
	}
}

func (d *jsonDecoder) stream(s *Stream) error {
	d.pairs = d.pairs[:0]
	ok, err := d.enter('{')
	if err != nil || !ok {
		return err
	}
	for n := 0; ; n++ {
		key, more, err := d.nextKey('}', n)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch string(key) {
		case "stream":
			if d.pairs, err = d.stringMap(d.pairs[:0]); err != nil {
				return fmt.Errorf("stream: %w", err)
			}
		case "values":
			if err := d.values(s); err != nil {
				return err
			}
		default:
			if err := d.skipValue(); err != nil {
				return err
			}
		}
	}
	d.lbuf = AppendLabelsString(d.lbuf[:0], d.pairs)
	s.Labels = string(d.lbuf)
	return nil
}

func (d *jsonDecoder) values(s *Stream) error {
	ok, err := d.enter('[')
	if err != nil || !ok {
		return err
	}
	for n := 0; ; n++ {
		more, err := d.next(']', n)
		if err != nil || !more {
			return err
		}
		if err := d.entry(s.nextEntry()); err != nil {
			return fmt.Errorf("values[%d]%w", n, err)
		}
	}
}

// entry decodes ["<ts>", "<line>", {metadata}?]; errors start with the
// index of the element at fault.
func (d *jsonDecoder) entry(e *Entry) error {
	ok, err := d.enter('[')
	if err != nil {
		return fmt.Errorf(": %w", err)
	}
	if !ok {
		return fmt.Errorf(": %w", d.errorf("entry is null"))
	}
	for n := 0; ; n++ {
		more, err := d.next(']', n)
		if err != nil {
			return fmt.Errorf(": %w", err)
		}
		if !more {
			if n < 2 {
				return fmt.Errorf(": %w", d.errorf("entry has %d elements, want [timestamp, line] or [timestamp, line, metadata]", n))
			}
			return nil
		}
		switch n {
		case 0:
			err = d.timestamp(e)
		case 1:
			e.Line, err = d.str()
		case 2:
			e.Metadata, err = d.stringMap(e.Metadata[:0])
		default:
			err = d.skipValue()
		}
		if err != nil {
			return fmt.Errorf("[%d]: %w", n, err)
		}
	}
}

func (d *jsonDecoder) timestamp(e *Entry) error {
	var v []byte
	var err error
	start := d.skipSpace()
	if start < len(d.b) && d.b[d.i] == '"' {
		v, err = d.str()
	} else {
		v, err = d.number()
	}
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(aliasString(v), 10, 64)
	if err != nil {
		d.i = start
		return d.errorf("invalid timestamp %q: want Unix nanoseconds", v)
	}
	e.Timestamp = ts
	return nil
}

// stringMap decodes an object of string values (or null) into pairs.
func (d *jsonDecoder) stringMap(dst []LabelPair) ([]LabelPair, error) {
	ok, err := d.enter('{')
	if err != nil || !ok {
		return dst, err
	}
	for n := 0; ; n++ {
		key, more, err := d.nextKey('}', n)
		if err != nil || !more {
			return dst, err
		}
		if d.skipSpace() == len(d.b) || d.b[d.i] != '"' {
			return dst, d.errorf("value of %q is not a string", key)
		}
		v, err := d.str()
		if err != nil {
			return dst, err
		}
		dst = append(dst, LabelPair{Name: aliasString(key), Value: aliasString(v)})
	}
}

// enter consumes the opening byte c of an object or array; it returns false
// (and consumes the literal) when the value is null.
func (d *jsonDecoder) enter(c byte) (bool, error) {
	if d.skipSpace() == len(d.b) {
		return false, d.errorf("unexpected end of input")
	}
	if d.b[d.i] == c {
		d.i++
		return true, nil
	}
	if d.literal("null") {
		return false, nil
	}
	kind := "an object"
	if c == '[' {
		kind = "an array"
	}
	return false, d.errorf("expected %s, got %q", kind, d.b[d.i])
}

// next is called before element n of a container closed by end: it consumes
// the separating comma, or the closing byte and then returns false.
func (d *jsonDecoder) next(end byte, n int) (bool, error) {
	if d.skipSpace() == len(d.b) {
		return false, d.errorf("unexpected end of input")
	}
	c := d.b[d.i]
	if c == end {
		d.i++
		return false, nil
	}
	if n > 0 {
		if c != ',' {
			return false, d.errorf("expected ',' or %q, got %q", end, c)
		}
		d.i++
	}
	return true, nil
}

// nextKey is next for objects, also reading the key and the colon.
func (d *jsonDecoder) nextKey(end byte, n int) ([]byte, bool, error) {
	more, err := d.next(end, n)
	if err != nil || !more {
		return nil, false, err
	}
	if d.skipSpace() == len(d.b) || d.b[d.i] != '"' {
		return nil, false, d.errorf("expected an object key")
	}
	key, err := d.str()
	if err != nil {
		return nil, false, err
	}
	if d.skipSpace() == len(d.b) || d.b[d.i] != ':' {
		return nil, false, d.errorf("expected ':' after key %q", key)
	}
	d.i++
	return key, true, nil
}

func (d *jsonDecoder) literal(lit string) bool {
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

func (d *jsonDecoder) skipSpace() int {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return d.i
		}
	}
	return d.i
}

func (d *jsonDecoder) number() ([]byte, error) {
	start := d.skipSpace()
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		d.i++
	}
	if d.i == start {
		return nil, d.errorf("expected a number or a string")
	}
	return d.b[start:d.i:d.i], nil
}

// str reads a string value and returns its content, unescaped in place.
func (d *jsonDecoder) str() ([]byte, error) {
	if d.skipSpace() == len(d.b) || d.b[d.i] != '"' {
		return nil, d.errorf("expected a string")
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch d.b[j] {
		case '"':
			d.i = j + 1
			return d.b[start:j:j], nil
		case '\\':
			return d.unescape(start, j)
		}
	}
	d.i = len(d.b)
	return nil, d.errorf("unterminated string")
}

// unescape rewrites the string starting at start in place from its first
// backslash at r on; unescaped text is never longer than its escaped form.
func (d *jsonDecoder) unescape(start, r int) ([]byte, error) {
	b := d.b
	w := r
	for r < len(b) {
		c := b[r]
		switch {
		case c == '"':
			d.i = r + 1
			return b[start:w:w], nil
		case c != '\\':
			b[w] = c
			w++
			r++
			continue
		}
		if r+1 >= len(b) {
			break
		}
		r++
		switch e := b[r]; e {
		case '"', '\\', '/':
			b[w] = e
		case 'b':
			b[w] = '\b'
		case 'f':
			b[w] = '\f'
		case 'n':
			b[w] = '\n'
		case 'r':
			b[w] = '\r'
		case 't':
			b[w] = '\t'
		case 'u':
			rn, n, ok := decodeUnicodeEscape(b[r-1:])
			if !ok {
				d.i = r - 1
				return nil, d.errorf("invalid \\u escape")
			}
			w += utf8.EncodeRune(b[w:], rn)
			r += n - 1
			continue
		default:
			d.i = r - 1
			return nil, d.errorf("invalid escape '\\%c'", e)
		}
		w++
		r++
	}
	d.i = len(b)
	return nil, d.errorf("unterminated string")
}

// decodeUnicodeEscape decodes `\uXXXX` (and a following low surrogate) at
// the start of b and returns the rune and the bytes consumed. Lone
// surrogates decode to U+FFFD, as encoding/json does.
func decodeUnicodeEscape(b []byte) (rune, int, bool) {
	r1, ok := hex4(b)
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 6, true
	}
	if r2, ok := hex4(b[6:]); ok {
		if rn := utf16.DecodeRune(r1, r2); rn != utf8.RuneError {
			return rn, 12, true
		}
	}
	return utf8.RuneError, 6, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			c = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

var errJSONDepth = errors.New("JSON nested too deeply")

// skipValue skips one JSON value of any kind without recursion.
func (d *jsonDecoder) skipValue() error {
	depth := 0
	for {
		if d.skipSpace() == len(d.b) {
			return d.errorf("unexpected end of input")
		}
		switch c := d.b[d.i]; c {
		case '{', '[':
			if depth++; depth > 10000 {
				return errJSONDepth
			}
			d.i++
			continue
		case '}', ']':
			if depth == 0 {
				return d.errorf("unexpected %q", c)
			}
			depth--
			d.i++
		case ',', ':':
			if depth == 0 {
				return d.errorf("unexpected %q", c)
			}
			d.i++
			continue
		case '"':
			if _, err := d.str(); err != nil {
				return err
			}
		default:
			if !d.literal("true") && !d.literal("false") && !d.literal("null") {
				if _, err := d.number(); err != nil {
					return err
				}
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// AppendJSON appends r in Loki's JSON push shape to dst. Stream label
// strings are parsed (an unparsable one is an error). Timestamps are written
// as strings of Unix nanoseconds; bytes of lines that are not valid UTF-8
// are written as U+FFFD, since JSON text must be UTF-8.
func (r *Request) AppendJSON(dst []byte) ([]byte, error) {
	var pairs []LabelPair
	dst = append(dst, `{"streams":[`...)
	for i := range r.Streams {
		s := &r.Streams[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if pairs, err = AppendParsedLabels(pairs[:0], s.Labels); err != nil {
			return dst, fmt.Errorf("encode stream %d labels %q: %w", i, s.Labels, err)
		}
		dst = append(dst, `{"stream":`...)
		dst = appendJSONMap(dst, pairs)
		dst = append(dst, `,"values":[`...)
		for j := range s.Entries {
			e := &s.Entries[j]
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `["`...)
			dst = strconv.AppendInt(dst, e.Timestamp, 10)
			dst = append(dst, `",`...)
			dst = appendJSONString(dst, aliasString(e.Line))
			if len(e.Metadata) > 0 {
				dst = append(dst, ',')
				dst = appendJSONMap(dst, e.Metadata)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, "]}"...), nil
}

func appendJSONMap(dst []byte, pairs []LabelPair) []byte {
	dst = append(dst, '{')
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, p.Name)
		dst = append(dst, ':')
		dst = appendJSONString(dst, p.Value)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
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
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
