package engine

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON scanner for the json and unpack parsers. It is hand-written
// rather than built on encoding/json because the parsers run on every line:
// it walks the line in place, never allocates, hands out values as slices
// of the line (unescaping only strings that contain escapes), and skips
// arrays and unwanted values without decoding them.

type jsonType uint8

const (
	jsonInvalid jsonType = iota
	jsonString
	jsonNumber
	jsonTrue
	jsonFalse
	jsonNull
	jsonObject
	jsonArray
)

var errJSONSyntax = errors.New("invalid JSON")

// jsonSyntaxError describes where the line stopped being JSON.
type jsonSyntaxError struct {
	pos int
	msg string
}

func (e *jsonSyntaxError) Error() string {
	return e.msg + " at offset " + strconv.Itoa(e.pos)
}

func jsonErr(pos int, msg string) error { return &jsonSyntaxError{pos: pos, msg: msg} }

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString scans the string starting at b[i] == '"' and returns the index
// after its closing quote and whether it holds escapes. It looks for quotes
// with IndexByte and, like most streaming JSON readers, does not reject raw
// control characters inside strings.
func scanString(b []byte, i int) (int, bool, error) {
	// Most keys and values are short: try a plain loop first.
	for j := i + 1; j < len(b) && j < i+17; j++ {
		switch b[j] {
		case '"':
			return j + 1, false, nil
		case '\\':
			return scanStringSlow(b, i)
		}
	}
	return scanStringSlow(b, i)
}

func scanStringSlow(b []byte, i int) (int, bool, error) {
	esc := false
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false, jsonErr(len(b), "unterminated string")
		}
		q := j + k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if !esc && bytes.IndexByte(b[j:q], '\\') >= 0 {
			esc = true
		}
		if n%2 == 0 {
			return q + 1, esc, nil
		}
		j = q + 1
	}
}

// scanValue scans the value starting at b[i] (no leading space) and returns
// the index after it and its type. Containers are validated recursively.
func scanValue(b []byte, i int, depth int) (int, jsonType, error) {
	if i >= len(b) {
		return 0, jsonInvalid, jsonErr(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, jsonString, err
	case c == '{':
		end, err := skipContainer(b, i, '}', depth)
		return end, jsonObject, err
	case c == '[':
		end, err := skipContainer(b, i, ']', depth)
		return end, jsonArray, err
	case c == 't':
		return scanWord(b, i, "true", jsonTrue)
	case c == 'f':
		return scanWord(b, i, "false", jsonFalse)
	case c == 'n':
		return scanWord(b, i, "null", jsonNull)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	}
	return 0, jsonInvalid, jsonErr(i, "unexpected character "+strconv.QuoteRune(rune(b[i])))
}

func scanWord(b []byte, i int, w string, t jsonType) (int, jsonType, error) {
	if len(b)-i >= len(w) && string(b[i:i+len(w)]) == w {
		return i + len(w), t, nil
	}
	return 0, jsonInvalid, jsonErr(i, "invalid literal")
}

func scanNumber(b []byte, i int) (int, jsonType, error) {
	j := i
	if b[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j - k
	}
	if digits() == 0 {
		return 0, jsonInvalid, jsonErr(j, "invalid number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if digits() == 0 {
			return 0, jsonInvalid, jsonErr(j, "invalid number")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return 0, jsonInvalid, jsonErr(j, "invalid number")
		}
	}
	return j, jsonNumber, nil
}

const maxJSONDepth = 512

func skipContainer(b []byte, i int, closer byte, depth int) (int, error) {
	if depth > maxJSONDepth {
		return 0, jsonErr(i, "nesting too deep")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	for {
		var err error
		if closer == '}' {
			if i >= len(b) || b[i] != '"' {
				return 0, jsonErr(i, "expected object key")
			}
			if i, _, err = scanString(b, i); err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, jsonErr(i, "expected ':' after object key")
			}
			i = skipWS(b, i+1)
		}
		if i, _, err = scanValue(b, i, depth+1); err != nil {
			return 0, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, jsonErr(i, "unexpected end of input")
		}
		if b[i] == closer {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, jsonErr(i, "expected ',' or '"+string(closer)+"'")
		}
		i = skipWS(b, i+1)
	}
}

// appendUnescaped appends the decoded content of the JSON string body raw
// (without quotes) to dst.
func appendUnescaped(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(raw) {
			return dst, errJSONSyntax
		}
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw[i+1:])
			if !ok {
				return dst, errJSONSyntax
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if len(raw) >= i+7 && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if r2, ok := hex4(raw[i+3:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							i += 6
							dst = utf8.AppendRune(dst, d)
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, errJSONSyntax
		}
	}
	return dst, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
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

// validJSON reports whether b is one JSON value with only space around it.
func validJSON(b []byte) error {
	i := skipWS(b, 0)
	end, _, err := scanValue(b, i, 0)
	if err != nil {
		return err
	}
	if j := skipWS(b, end); j != len(b) {
		return jsonErr(j, "unexpected data after top-level value")
	}
	return nil
}
