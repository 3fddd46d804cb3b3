package engine

import (
	"fmt"

	"github.com/grafana/regexp"
)

// regexpStage is `| regexp "<re>"`: each named group becomes a label. A line
// that does not match gets no labels (and no error), as in Loki.
type regexpStage struct {
	re    *regexp.Regexp
	names []jsonKey // per subexpression; empty name for unnamed groups
}

func newRegexpStage(expr string) (*regexpStage, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("compile regexp parser %q: %w", expr, err)
	}
	s := &regexpStage{re: re}
	for _, n := range re.SubexpNames() {
		s.names = append(s.names, jsonKey{name: n, extracted: n + extractedSuffix})
	}
	return s, nil
}

func (s *regexpStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	m := s.re.FindSubmatchIndex(line)
	if m == nil {
		return line, true
	}
	for i, k := range s.names {
		if k.name == "" {
			continue
		}
		name := k.name
		if lb.baseHas(name) {
			name = k.extracted
		}
		if _, ok := lb.findAdd(name); ok {
			continue
		}
		v := ""
		if m[2*i] >= 0 {
			v = bytesString(line[m[2*i]:m[2*i+1]])
		}
		lb.set(catParsed, name, v)
	}
	return line, true
}

// patternStage is `| pattern "<ip> - <_>"`: named captures become labels;
// when a literal is not found, the captures before it are kept.
type patternStage struct {
	p     *pattern
	names []jsonKey
	buf   [][]byte
}

func newPatternStage(expr string) (*patternStage, error) {
	p, err := parsePattern(expr)
	if err != nil {
		return nil, err
	}
	if len(p.names) == 0 {
		return nil, fmt.Errorf("pattern %q: %w: no named capture", expr, ErrInvalidPattern)
	}
	s := &patternStage{p: p}
	for _, n := range p.names {
		s.names = append(s.names, jsonKey{name: n, extracted: n + extractedSuffix})
	}
	return s, nil
}

func (s *patternStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	s.buf, _ = s.p.match(s.buf[:0], line)
	for i, v := range s.buf {
		k := s.names[i]
		name := k.name
		if lb.baseHas(name) {
			name = k.extracted
		}
		if _, ok := lb.findAdd(name); ok {
			continue
		}
		lb.set(catParsed, name, bytesString(v))
	}
	return line, true
}

// unpackStage is `| unpack`: the string members of a JSON object become
// labels, and the member _entry, if present, replaces the line.
type unpackStage struct {
	keys    map[string]jsonKey
	scratch []byte
}

func newUnpackStage() *unpackStage { return &unpackStage{keys: map[string]jsonKey{}} }

func (s *unpackStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	if err := validJSON(line); err != nil {
		lb.setErr(errJSON, err.Error())
		return line, true
	}
	i := skipWS(line, 0)
	if line[i] != '{' {
		lb.setErr(errJSON, "Value looks like object, but can't find opening '{' symbol")
		return line, true
	}
	var entry []byte
	i = skipWS(line, i+1)
	for i < len(line) && line[i] == '"' {
		kEnd, kEsc, _ := scanString(line, i)
		rawKey := line[i+1 : kEnd-1]
		i = skipWS(line, skipWS(line, kEnd)+1)
		end, t, _ := scanValue(line, i, 0)
		if t == jsonString {
			_, vEsc, _ := scanString(line, i)
			raw := line[i+1 : end-1]
			v := bytesString(raw)
			if vEsc {
				s.scratch, _ = appendUnescaped(s.scratch[:0], raw)
				v = lb.arenaString(s.scratch)
			}
			if !kEsc && string(rawKey) == "_entry" {
				entry = append(entry[:0], v...)
			} else {
				s.set(lb, rawKey, kEsc, v)
			}
		}
		i = skipWS(line, end)
		if i < len(line) && line[i] == ',' {
			i = skipWS(line, i+1)
		}
	}
	if entry != nil {
		return entry, true
	}
	return line, true
}

func (s *unpackStage) set(lb *labelsBuilder, rawKey []byte, esc bool, v string) {
	k, ok := s.keys[string(rawKey)]
	if !ok {
		key := string(rawKey)
		if esc {
			if u, err := appendUnescaped(nil, rawKey); err == nil {
				key = string(u)
			}
		}
		n := sanitizeLabelKey(key, true)
		k = jsonKey{name: n, extracted: n + extractedSuffix}
		s.keys[string(rawKey)] = k
	}
	if k.name == "" {
		return
	}
	name := k.name
	if lb.baseHas(name) {
		name = k.extracted
	}
	if _, ok := lb.findAdd(name); ok {
		return
	}
	lb.set(catParsed, name, v)
}

// decolorizeStage strips ANSI escape sequences (CSI ... final byte, and
// two-byte ESC sequences) from the line.
type decolorizeStage struct{ buf []byte }

func (s *decolorizeStage) process(_ int64, line []byte, _ *labelsBuilder) ([]byte, bool) {
	if indexByte(line, 0x1b) < 0 {
		return line, true
	}
	out := s.buf[:0]
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c != 0x1b {
			out = append(out, c)
			continue
		}
		if i+1 < len(line) && line[i+1] == '[' {
			j := i + 2
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		i++ // ESC and the byte after it
	}
	s.buf = out
	return out, true
}
