package push

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LabelsError describes why a stream label string does not parse. Offset is
// the byte offset of the problem in the input.
type LabelsError struct {
	Offset int
	Reason string
}

func (e *LabelsError) Error() string { return fmt.Sprintf("%d: %s", e.Offset, e.Reason) }

// Is makes errors.Is(err, ErrMalformed) true.
func (e *LabelsError) Is(target error) bool { return target == ErrMalformed }

// AppendParsedLabels parses a stream label string such as
// `{app="api", env='prod'}` and appends its pairs to dst in input order
// (unsorted, duplicates and empty values kept: deciding about them is the
// caller's business). Values are quoted with ", ' or ` and use Go escapes;
// names follow Prometheus' classic rule [a-zA-Z_][a-zA-Z0-9_]*. A trailing
// comma is allowed. Names and unescaped values point into s.
func AppendParsedLabels(dst []LabelPair, s string) ([]LabelPair, error) {
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return dst, &LabelsError{Offset: i, Reason: "expected '{'"}
	}
	i = skipSpace(s, i+1)
	for i < len(s) && s[i] != '}' {
		var p LabelPair
		var err error
		if p.Name, i, err = parseLabelName(s, i); err != nil {
			return dst, err
		}
		i = skipSpace(s, i)
		if i == len(s) || s[i] != '=' {
			return dst, &LabelsError{Offset: i, Reason: fmt.Sprintf("expected '=' after label name %q", p.Name)}
		}
		i = skipSpace(s, i+1)
		if p.Value, i, err = parseLabelValue(s, i); err != nil {
			return dst, err
		}
		dst = append(dst, p)
		i = skipSpace(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		} else if i < len(s) && s[i] != '}' {
			return dst, &LabelsError{Offset: i, Reason: fmt.Sprintf("expected ',' or '}', got %q", s[i])}
		}
	}
	if i == len(s) {
		return dst, &LabelsError{Offset: i, Reason: "missing closing '}'"}
	}
	if j := skipSpace(s, i+1); j != len(s) {
		return dst, &LabelsError{Offset: j, Reason: "unexpected text after '}'"}
	}
	return dst, nil
}

func parseLabelName(s string, i int) (string, int, error) {
	start := i
	for i < len(s) && !isNameEnd(s[i]) {
		i++
	}
	name := s[start:i]
	if name == "" {
		return "", i, &LabelsError{Offset: i, Reason: "expected a label name"}
	}
	if !ValidLabelName(name) {
		return "", i, &LabelsError{Offset: start, Reason: fmt.Sprintf("invalid label name %q", name)}
	}
	return name, i, nil
}

func isNameEnd(c byte) bool {
	return c == '=' || c == ',' || c == '}' || c == '"' || c == '\'' || c == '`' || isSpace(c)
}

// ValidLabelName reports whether name matches [a-zA-Z_][a-zA-Z0-9_]*.
func ValidLabelName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

func parseLabelValue(s string, i int) (string, int, error) {
	if i == len(s) {
		return "", i, &LabelsError{Offset: i, Reason: "expected a quoted label value"}
	}
	q := s[i]
	if q != '"' && q != '\'' && q != '`' {
		return "", i, &LabelsError{Offset: i, Reason: fmt.Sprintf("expected a quoted label value, got %q", q)}
	}
	start := i + 1
	escaped, ascii := false, true
	for j := start; j < len(s); j++ {
		switch c := s[j]; {
		case c == q:
			v := s[start:j]
			if escaped && (ascii || utf8.ValidString(v)) {
				var err error
				if v, err = unescapeValue(v, q); err != nil {
					return "", j, &LabelsError{Offset: start, Reason: err.Error()}
				}
				ascii = false // \x escapes may have made it invalid
			}
			if !ascii && !utf8.ValidString(v) {
				return "", j, &LabelsError{Offset: start, Reason: "label value is not valid UTF-8"}
			}
			return v, j + 1, nil
		case c == '\\' && q != '`':
			escaped = true
			j++ // the escaped byte cannot end the string
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", len(s), &LabelsError{Offset: i, Reason: "unterminated quoted label value"}
}

func unescapeValue(v string, q byte) (string, error) {
	var b strings.Builder
	b.Grow(len(v))
	for len(v) > 0 {
		r, multibyte, tail, err := strconv.UnquoteChar(v, q)
		if err != nil {
			return "", fmt.Errorf("invalid escape in label value: %w", err)
		}
		if multibyte {
			b.WriteRune(r)
		} else {
			b.WriteByte(byte(r))
		}
		v = tail
	}
	return b.String(), nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// AppendLabelsString appends pairs as a label string in the form
// `{a="1", b="2"}` (Prometheus' labels.Labels.String form: values quoted by
// strconv.Quote, pairs in the given order).
func AppendLabelsString(dst []byte, pairs []LabelPair) []byte {
	dst = append(dst, '{')
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ',', ' ')
		}
		dst = append(dst, p.Name...)
		dst = append(dst, '=')
		dst = strconv.AppendQuote(dst, p.Value)
	}
	return append(dst, '}')
}
