package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// stage is one step of a log pipeline applied to a line. It returns the
// (possibly rewritten) line and whether the line is kept. Stages run one
// line at a time and may keep scratch state: a stage value is used by one
// goroutine only.
type stage interface {
	process(ts int64, line []byte, lb *labelsBuilder) ([]byte, bool)
}

// jsonKey caches the label names of one JSON key path.
type jsonKey struct{ name, extracted string }

// jsonStage is `| json` without parameters: every scalar member of the
// top-level object becomes a label; nested objects are flattened with "_";
// arrays are skipped.
type jsonStage struct {
	keys    map[string]jsonKey // raw key path (keys joined by 0x00) -> names
	path    []byte
	scratch []byte
	// Lines of a stream mostly repeat the same keys in the same order: the
	// keys of the previous line, by position, are checked before the map.
	seq []seqKey
	pos int
}

// seqKey is the key met at one position of the previous line.
type seqKey struct {
	raw []byte
	k   jsonKey
}

// lookupSeq returns the cached key for raw at the current position,
// falling back to lookup (and remembering its answer for the next line).
func lookupSeq(seq *[]seqKey, pos *int, raw []byte, lookup func() jsonKey) jsonKey {
	i := *pos
	*pos = i + 1
	if i < len(*seq) && string((*seq)[i].raw) == string(raw) {
		return (*seq)[i].k
	}
	k := lookup()
	if i < len(*seq) {
		(*seq)[i].raw = append((*seq)[i].raw[:0], raw...)
		(*seq)[i].k = k
	} else if i == len(*seq) {
		*seq = append(*seq, seqKey{raw: append([]byte(nil), raw...), k: k})
	}
	return k
}

func newJSONStage() *jsonStage { return &jsonStage{keys: map[string]jsonKey{}} }

func (j *jsonStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		lb.setErr(errJSON, "Value looks like object, but can't find opening '{' symbol")
		return line, true
	}
	j.path = j.path[:0]
	j.pos = 0
	end, err := j.walk(line, i, lb, "", 0)
	if err == nil {
		if k := skipWS(line, end); k != len(line) {
			err = jsonErr(k, "unexpected data after top-level value")
		}
	}
	if err != nil {
		lb.setErr(errJSON, err.Error())
	}
	return line, true
}

// walk extracts the members of the object at b[i] == '{' whose label names
// start with parent (empty at the top level).
func (j *jsonStage) walk(b []byte, i int, lb *labelsBuilder, parent string, depth int) (int, error) {
	if depth > maxJSONDepth {
		return 0, jsonErr(i, "nesting too deep")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, jsonErr(i, "expected object key")
		}
		kEnd, kEsc, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		rawKey := b[i+1 : kEnd-1]
		i = skipWS(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, jsonErr(i, "expected ':' after object key")
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return 0, jsonErr(i, "unexpected end of input")
		}
		pathLen := len(j.path)
		var end int
		switch b[i] {
		case '{':
			k := j.key(parent, rawKey, kEsc)
			end, err = j.walk(b, i, lb, k.name, depth+1)
		case '[':
			end, err = skipContainer(b, i, ']', depth+1)
		case '"':
			var esc bool
			end, esc, err = scanString(b, i)
			if err == nil {
				j.setString(lb, j.key(parent, rawKey, kEsc), b[i+1:end-1], esc)
			}
		default:
			var t jsonType
			end, t, err = scanValue(b, i, depth+1)
			if err == nil {
				v := ""
				if t != jsonNull {
					v = bytesString(b[i:end])
				}
				j.setValue(lb, j.key(parent, rawKey, kEsc), v)
			}
		}
		j.path = j.path[:pathLen]
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return 0, jsonErr(i, "unexpected end of input")
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, jsonErr(i, "expected ',' or '}'")
		}
		i = skipWS(b, i+1)
	}
}

// key returns the cached label names of rawKey under parent and leaves the
// key's raw path in j.path (the caller restores its length).
func (j *jsonStage) key(parent string, rawKey []byte, esc bool) jsonKey {
	j.path = append(j.path, 0)
	j.path = append(j.path, rawKey...)
	return lookupSeq(&j.seq, &j.pos, j.path, func() jsonKey { return j.newKey(parent, rawKey, esc) })
}

func (j *jsonStage) newKey(parent string, rawKey []byte, esc bool) jsonKey {
	if k, ok := j.keys[string(j.path)]; ok {
		return k
	}
	key := string(rawKey)
	if esc {
		if u, err := appendUnescaped(nil, rawKey); err == nil {
			key = string(u)
		}
	}
	var name string
	if parent == "" {
		name = sanitizeLabelKey(key, true)
	} else if s := sanitizeLabelKey(key, false); s != "" {
		name = parent + "_" + s
	}
	k := jsonKey{name: name, extracted: name + extractedSuffix}
	j.keys[string(j.path)] = k
	return k
}

func (j *jsonStage) setString(lb *labelsBuilder, k jsonKey, raw []byte, esc bool) {
	if !esc {
		j.setValue(lb, k, bytesString(raw))
		return
	}
	var err error
	j.scratch, err = appendUnescaped(j.scratch[:0], raw)
	if err != nil {
		return
	}
	j.setValue(lb, k, lb.arenaString(j.scratch))
}

// setValue sets the label unless this line already has it: when a key
// appears twice, the first value is kept.
func (j *jsonStage) setValue(lb *labelsBuilder, k jsonKey, v string) {
	if k.name == "" {
		return
	}
	name := k.name
	if lb.baseHas(name) {
		name = k.extracted
	}
	_, dup := lb.findAdd(name)
	if dup {
		return
	}
	lb.appendNew(catParsed, name, v)
}

// sanitizeLabelKey turns an extracted key into a label name: characters
// other than ASCII letters, digits and _ become _, and (for a top-level key)
// a leading digit gets a _ prefix. Surrounding space is trimmed.
func sanitizeLabelKey(key string, top bool) string {
	key = strings.TrimSpace(key)
	if key == "" {
		return ""
	}
	clean := true
	for i := 0; i < len(key); i++ {
		if !isLabelChar(key[i]) {
			clean = false
			break
		}
	}
	digit := top && key[0] >= '0' && key[0] <= '9'
	if clean && !digit {
		return key
	}
	var sb strings.Builder
	if digit {
		sb.WriteByte('_')
	}
	for _, r := range key {
		if r < 0x80 && isLabelChar(byte(r)) {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

func isLabelChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// jsonPathElem is one step of a json extraction path: a member or an index.
type jsonPathElem struct {
	key     string
	index   int
	isIndex bool
}

// parseJSONPath parses a.b[0]["c d"] into steps.
func parseJSONPath(s string) ([]jsonPathElem, error) {
	var out []jsonPathElem
	bad := func() ([]jsonPathElem, error) { return nil, fmt.Errorf("path %q: %w", s, ErrInvalidJSONPath) }
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == '.':
			if i == 0 || i == len(s)-1 {
				return bad()
			}
			i++
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return bad()
			}
			inner := s[i+1 : i+end]
			if len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\'') {
				// Quoted member names may contain ']' and escaped quotes.
				q := inner[0]
				k := i + 2
				var sb strings.Builder
				for ; k < len(s) && s[k] != q; k++ {
					if s[k] == '\\' && k+1 < len(s) {
						k++
					}
					sb.WriteByte(s[k])
				}
				if k+1 >= len(s) || s[k+1] != ']' {
					return bad()
				}
				out = append(out, jsonPathElem{key: sb.String()})
				i = k + 2
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 {
				return bad()
			}
			out = append(out, jsonPathElem{index: n, isIndex: true})
			i += end + 1
		default:
			k := i
			for k < len(s) && s[k] != '.' && s[k] != '[' {
				k++
			}
			out = append(out, jsonPathElem{key: s[i:k]})
			i = k
		}
	}
	if len(out) == 0 {
		return bad()
	}
	return out, nil
}

type jsonExtraction struct {
	label, extracted string
	path             []jsonPathElem
}

// jsonParamsStage is `| json a="x.y", b`: only the listed paths are
// extracted; a missing path gives an empty value, an object or array its
// JSON text.
type jsonParamsStage struct {
	ex      []jsonExtraction
	scratch []byte
}

func newJSONParamsStage(params [][2]string) (*jsonParamsStage, error) {
	s := &jsonParamsStage{}
	for _, p := range params {
		path, err := parseJSONPath(p[1])
		if err != nil {
			return nil, err
		}
		s.ex = append(s.ex, jsonExtraction{label: p[0], extracted: p[0] + extractedSuffix, path: path})
	}
	return s, nil
}

func (s *jsonParamsStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	if err := validJSON(line); err != nil {
		lb.setErr(errJSON, err.Error())
		return line, true
	}
	for _, e := range s.ex {
		name := e.label
		if lb.baseHas(name) {
			name = e.extracted
		}
		if _, ok := lb.findAdd(name); ok {
			continue
		}
		v := ""
		if start, end, t, ok := jsonLookup(line, e.path); ok {
			switch t {
			case jsonString:
				raw := line[start+1 : end-1]
				s.scratch, _ = appendUnescaped(s.scratch[:0], raw)
				v = lb.arenaString(s.scratch)
			case jsonNull:
			default:
				v = bytesString(line[start:end])
			}
		}
		lb.set(catParsed, name, v)
	}
	return line, true
}

// jsonLookup finds the value at path in the (valid) document b.
func jsonLookup(b []byte, path []jsonPathElem) (start, end int, t jsonType, ok bool) {
	i := skipWS(b, 0)
	for _, p := range path {
		if i >= len(b) {
			return 0, 0, 0, false
		}
		var found bool
		if p.isIndex {
			i, found = jsonIndex(b, i, p.index)
		} else {
			i, found = jsonMember(b, i, p.key)
		}
		if !found {
			return 0, 0, 0, false
		}
	}
	end, t, err := scanValue(b, i, 0)
	if err != nil {
		return 0, 0, 0, false
	}
	return i, end, t, true
}

func jsonMember(b []byte, i int, key string) (int, bool) {
	if b[i] != '{' {
		return 0, false
	}
	i = skipWS(b, i+1)
	var scratch [64]byte
	for i < len(b) && b[i] == '"' {
		kEnd, esc, _ := scanString(b, i)
		raw := b[i+1 : kEnd-1]
		match := false
		if esc {
			u, _ := appendUnescaped(scratch[:0], raw)
			match = string(u) == key
		} else {
			match = string(raw) == key
		}
		i = skipWS(b, kEnd)
		i = skipWS(b, i+1) // ':'
		if match {
			return i, true
		}
		end, _, _ := scanValue(b, i, 0)
		i = skipWS(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return 0, false
}

func jsonIndex(b []byte, i int, n int) (int, bool) {
	if b[i] != '[' {
		return 0, false
	}
	i = skipWS(b, i+1)
	for k := 0; i < len(b) && b[i] != ']'; k++ {
		if k == n {
			return i, true
		}
		end, _, _ := scanValue(b, i, 0)
		i = skipWS(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return 0, false
}
