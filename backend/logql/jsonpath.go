package logql

import (
	"errors"
	"fmt"
	"strconv"
)

// JSONPathElem is one step of a json extraction path: an object key or an
// array index.
type JSONPathElem struct {
	Key     string
	Index   int
	IsIndex bool
}

// ParseJSONPath parses the expression of a json parameter as Loki does:
// a field, a ["key"] or a [index], followed by any number of .field,
// ["key"] and [index] steps, e.g. `servers[0].name`, `["user-agent"]`,
// `a.b["c d"][2]`. Fields match [A-Za-z_][A-Za-z0-9_]*; blanks between
// steps are ignored.
func ParseJSONPath(expr string) ([]JSONPathElem, error) {
	var path []JSONPathElem
	i := skipBlanks(expr, 0)
	if i == len(expr) {
		return nil, errors.New("empty expression")
	}
	first := true
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '[':
			el, next, err := parseJSONBracket(expr, i)
			if err != nil {
				return nil, err
			}
			path, i = append(path, el), next
		case c == '.' && !first:
			j := skipBlanks(expr, i+1)
			end := jsonFieldEnd(expr, j)
			if end == j {
				return nil, fmt.Errorf("unexpected char at %d in %q", j, expr)
			}
			path, i = append(path, JSONPathElem{Key: expr[j:end]}), end
		case first && isIdentStart(c):
			end := jsonFieldEnd(expr, i)
			path, i = append(path, JSONPathElem{Key: expr[i:end]}), end
		default:
			return nil, fmt.Errorf("unexpected char %q in %q", c, expr)
		}
		first = false
		i = skipBlanks(expr, i)
	}
	return path, nil
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
		i++
	}
	return i
}

func jsonFieldEnd(s string, i int) int {
	if i >= len(s) || !isIdentStart(s[i]) {
		return i
	}
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	return i
}

// parseJSONBracket parses ["key"] or [index] starting at s[i] == '['.
func parseJSONBracket(s string, i int) (JSONPathElem, int, error) {
	j := skipBlanks(s, i+1)
	var el JSONPathElem
	switch {
	case j < len(s) && s[j] == '"':
		k := j + 1
		for k < len(s) && s[k] != '"' {
			k++
		}
		if k == len(s) {
			return el, 0, fmt.Errorf("unterminated key in %q", s)
		}
		el.Key, j = s[j+1:k], k+1
	case j < len(s) && isDigit(s[j]):
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k < len(s) && s[k] == '.' {
			return el, 0, errors.New("cannot use float as array index")
		}
		n, err := strconv.Atoi(s[j:k])
		if err != nil {
			return el, 0, fmt.Errorf("invalid array index in %q", s)
		}
		el.Index, el.IsIndex, j = n, true, k
	default:
		return el, 0, fmt.Errorf("expected a key or an index after '[' in %q", s)
	}
	j = skipBlanks(s, j)
	if j >= len(s) || s[j] != ']' {
		return el, 0, fmt.Errorf("missing ']' in %q", s)
	}
	return el, j + 1, nil
}
