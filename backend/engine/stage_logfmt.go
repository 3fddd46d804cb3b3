package engine

import (
	"strconv"
)

// logfmtStage is `| logfmt [--strict] [--keep-empty] [params]`.
//
// The scanner is hand-written (rather than a general logfmt decoder) because
// it runs on every line: it walks the line once, hands out unquoted values
// as slices of the line, caches sanitized key names, and does not allocate
// in the steady state.
//
// Grammar, as Loki's decoder reads it: pairs are separated by bytes <= ' ';
// a key is a run of bytes other than space, '=' and '"'; key=value,
// key="quoted \"value\"", key= (empty value) and a standalone key (kept,
// with an empty value, only with --keep-empty or when requested by a
// parameter). A malformed pair (=v, a=b=c, fo"o=bar, an unterminated quote)
// is skipped, or with --strict ends parsing with LogfmtParserErr; pairs
// before it are kept.
type logfmtStage struct {
	strict, keepEmpty bool
	// params maps a requested key to its label; nil extracts every key.
	params  map[string]string
	keys    map[string]jsonKey
	scratch []byte
	seq     []seqKey // keys of the previous line by position (see jsonStage)
	pos     int
}

func newLogfmtStage(strict, keepEmpty bool, params [][2]string) *logfmtStage {
	s := &logfmtStage{strict: strict, keepEmpty: keepEmpty, keys: map[string]jsonKey{}}
	if len(params) > 0 {
		s.params = map[string]string{}
		for _, p := range params {
			if _, dup := s.params[p[1]]; !dup {
				s.params[p[1]] = p[0]
			}
		}
	}
	return s
}

type logfmtSyntaxError struct {
	pos int
	c   byte
	eof bool
}

func (e logfmtSyntaxError) Error() string {
	if e.eof {
		return "logfmt syntax error at pos " + strconv.Itoa(e.pos+1) + " : unterminated quoted value"
	}
	return "logfmt syntax error at pos " + strconv.Itoa(e.pos+1) + " : unexpected " + strconv.QuoteRune(rune(e.c))
}

func (s *logfmtStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	n := len(line)
	s.pos = 0
	for pos := 0; pos < n; {
		for pos < n && line[pos] <= ' ' {
			pos++
		}
		if pos >= n {
			break
		}
		next, key, val, hasVal, bad := scanLogfmtPair(line, pos)
		if bad >= 0 {
			if s.strict {
				err := logfmtSyntaxError{pos: bad}
				if bad < n {
					err.c = line[bad]
				} else {
					err.eof = true
				}
				lb.setErr(errLogfmt, err.Error())
				return line, true
			}
			// Skip the rest of the malformed pair.
			for next < n && line[next] > ' ' {
				next++
			}
			pos = next
			continue
		}
		pos = next
		s.extract(lb, key, val, hasVal)
	}
	return line, true
}

// scanLogfmtPair scans the pair starting at line[pos] (not space). It
// returns the position after it, the key, the raw value (quotes included
// when quoted), whether a '=' was present, and the position of a syntax
// error or -1.
func scanLogfmtPair(line []byte, pos int) (next int, key, val []byte, hasVal bool, bad int) {
	n := len(line)
	start := pos
	for pos < n && line[pos] > ' ' && line[pos] != '=' && line[pos] != '"' {
		pos++
	}
	key = line[start:pos]
	if pos < n && line[pos] == '"' {
		return pos, nil, nil, false, pos
	}
	if len(key) == 0 {
		return pos, nil, nil, false, pos
	}
	if pos >= n || line[pos] <= ' ' {
		return pos, key, nil, false, -1
	}
	pos++ // '='
	if pos >= n || line[pos] <= ' ' {
		return pos, key, line[pos:pos], true, -1
	}
	vstart := pos
	if line[pos] == '"' {
		pos++
		for pos < n && line[pos] != '"' {
			if line[pos] == '\\' {
				pos++
			}
			pos++
		}
		if pos >= n {
			return n, nil, nil, false, n
		}
		pos++
		if pos < n && line[pos] > ' ' {
			return pos, nil, nil, false, pos
		}
		return pos, key, line[vstart:pos], true, -1
	}
	for pos < n && line[pos] > ' ' {
		if line[pos] == '=' || line[pos] == '"' {
			return pos, nil, nil, false, pos
		}
		pos++
	}
	return pos, key, line[vstart:pos], true, -1
}

func (s *logfmtStage) extract(lb *labelsBuilder, key, val []byte, hasVal bool) {
	if s.params == nil && !hasVal && !s.keepEmpty {
		return
	}
	k := lookupSeq(&s.seq, &s.pos, key, func() jsonKey {
		if s.params == nil {
			return s.cachedKey(key, "")
		}
		label, ok := s.params[string(key)]
		if !ok {
			return jsonKey{}
		}
		return s.cachedKey(key, label)
	})
	if k.name == "" {
		return
	}
	name := k.name
	if lb.baseHas(name) {
		name = k.extracted
	}
	_, dup := lb.findAdd(name)
	if dup {
		return // the first value of a repeated key wins
	}
	v := ""
	if len(val) > 0 && val[0] == '"' {
		raw := val[1 : len(val)-1]
		if indexByte(raw, '\\') < 0 {
			v = bytesString(raw)
		} else {
			var err error
			s.scratch, err = appendUnescaped(s.scratch[:0], raw)
			if err != nil {
				s.scratch = append(s.scratch[:0], raw...)
			}
			v = lb.arenaString(s.scratch)
		}
	} else {
		v = bytesString(val)
	}
	lb.appendNew(catParsed, name, v)
}

func (s *logfmtStage) cachedKey(key []byte, label string) jsonKey {
	if k, ok := s.keys[string(key)]; ok {
		return k
	}
	name := label
	if name == "" {
		name = sanitizeLabelKey(string(key), true)
	}
	k := jsonKey{name: name, extracted: name + extractedSuffix}
	s.keys[string(key)] = k
	return k
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}
