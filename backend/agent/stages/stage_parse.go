package stages

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/grafana/regexp"
	"github.com/jmespath/go-jmespath"
	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"
)

// docker: {"log":"...","stream":"stdout","time":"..."} lines of Docker's
// json-file driver. Extracts output, stream and timestamp, sets the stream
// label, the timestamp and the line (without its trailing newline).
// Lines that are not such JSON pass unchanged.
func newDocker(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	if err := decode(n, &struct{}{}, path); err != nil {
		return nil, err
	}
	return funcStage{f: func(e *Entry) bool {
		var d struct {
			Log    string `json:"log"`
			Stream string `json:"stream"`
			Time   string `json:"time"`
		}
		if len(e.Line) == 0 || e.Line[0] != '{' || json.Unmarshal(e.Line, &d) != nil {
			return true
		}
		setExtracted(e, "output", d.Log)
		setExtracted(e, "stream", d.Stream)
		setExtracted(e, "timestamp", d.Time)
		if d.Stream != "" {
			e.Labels = setLabel(e.Labels, "stream", d.Stream)
		}
		if ts, err := time.Parse(time.RFC3339Nano, d.Time); err == nil {
			e.Timestamp = ts.UnixNano()
		}
		line := d.Log
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		}
		e.Line = []byte(line)
		return true
	}}, nil
}

// setLabel returns ls with name set to value.
func setLabel(ls labels.Labels, name, value string) labels.Labels {
	if ls.Get(name) == value && value != "" {
		return ls
	}
	b := labels.NewBuilder(ls)
	b.Set(name, value)
	return b.Labels()
}

// regex: named groups of expression, matched against the line or the
// extracted value source, go to the extracted data.
type regexConfig struct {
	Expression string  `yaml:"expression"`
	Source     *string `yaml:"source"`
}

func newRegex(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var c regexConfig
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.Expression == "" {
		return nil, stageErr(n, path, "expression is required")
	}
	re, err := regexp.Compile(c.Expression)
	if err != nil {
		return nil, stageErr(n, path+".expression", "%v", err)
	}
	names := re.SubexpNames()
	hasName := false
	for _, nm := range names {
		hasName = hasName || nm != ""
	}
	if !hasName {
		return nil, stageErr(n, path+".expression", "the expression has no named capture group (?P<name>...)")
	}
	return funcStage{f: func(e *Entry) bool {
		var in string
		if c.Source != nil {
			v, ok := extractedString(e, *c.Source)
			if !ok {
				return true
			}
			in = v
		} else {
			in = string(e.Line)
		}
		m := re.FindStringSubmatchIndex(in)
		if m == nil {
			return true
		}
		for i, nm := range names {
			if nm != "" && m[2*i] >= 0 {
				setExtracted(e, nm, in[m[2*i]:m[2*i+1]])
			}
		}
		return true
	}}, nil
}

// json: JMESPath expressions evaluated on the line (or an extracted value)
// parsed as JSON. Strings and scalars keep their JSON type; objects and
// arrays are stored as JSON text.
type jsonConfig struct {
	Expressions   map[string]string `yaml:"expressions"`
	Source        *string           `yaml:"source"`
	DropMalformed bool              `yaml:"drop_malformed"`
}

func newJSON(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var c jsonConfig
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if len(c.Expressions) == 0 {
		return nil, stageErr(n, path, "expressions is required")
	}
	type expr struct {
		key string
		q   *jmespath.JMESPath
	}
	var exprs []expr
	for k, v := range c.Expressions {
		if v == "" {
			v = k
		}
		q, err := jmespath.Compile(v)
		if err != nil {
			return nil, stageErr(n, path+".expressions."+k, "invalid JMESPath %q: %v", v, err)
		}
		exprs = append(exprs, expr{k, q})
	}
	dropped := p.opts.Dropped
	return funcStage{f: func(e *Entry) bool {
		var in []byte
		if c.Source != nil {
			v, ok := extractedString(e, *c.Source)
			if !ok {
				return true
			}
			in = []byte(v)
		} else {
			in = e.Line
		}
		var doc any
		if err := json.Unmarshal(in, &doc); err != nil {
			if c.DropMalformed {
				drop(e, dropped, ReasonMalformedJSON)
				return false
			}
			return true
		}
		if _, ok := doc.(map[string]any); !ok && c.DropMalformed {
			drop(e, dropped, ReasonMalformedJSON)
			return false
		}
		for _, x := range exprs {
			r, err := x.q.Search(doc)
			if err != nil || r == nil {
				continue
			}
			switch r.(type) {
			case map[string]any, []any:
				b, err := json.Marshal(r)
				if err != nil {
					continue
				}
				setExtracted(e, x.key, string(b))
			default:
				setExtracted(e, x.key, r)
			}
		}
		return true
	}}, nil
}

// logfmt: mapping of extracted key to logfmt key (empty: the same name).
type logfmtConfig struct {
	Mapping map[string]string `yaml:"mapping"`
	Source  *string           `yaml:"source"`
}

func newLogfmt(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var c logfmtConfig
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if len(c.Mapping) == 0 {
		return nil, stageErr(n, path, "mapping is required")
	}
	want := map[string][]string{} // logfmt key -> extracted keys
	for k, v := range c.Mapping {
		if v == "" {
			v = k
		}
		want[v] = append(want[v], k)
	}
	return funcStage{f: func(e *Entry) bool {
		var in []byte
		if c.Source != nil {
			v, ok := extractedString(e, *c.Source)
			if !ok {
				return true
			}
			in = []byte(v)
		} else {
			in = e.Line
		}
		scanLogfmt(in, func(k, v []byte) {
			if dst, ok := want[string(k)]; ok {
				for _, d := range dst {
					setExtracted(e, d, string(v))
				}
			}
		})
		return true
	}}, nil
}

// scanLogfmt calls f for each key=value pair of a logfmt line; values may
// be double-quoted with Go escapes. Keys without a value get "".
func scanLogfmt(b []byte, f func(k, v []byte)) {
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		ks := i
		for i < len(b) && b[i] != '=' && b[i] != ' ' && b[i] != '\t' {
			i++
		}
		key := b[ks:i]
		if len(key) == 0 {
			i++
			continue
		}
		if i >= len(b) || b[i] != '=' {
			f(key, nil)
			continue
		}
		i++
		if i < len(b) && b[i] == '"' {
			j := i + 1
			esc := false
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					esc = true
					j++
				}
				j++
			}
			raw := b[i+1 : min(j, len(b))]
			if esc {
				raw = unescapeLogfmt(raw)
			}
			f(key, raw)
			i = j + 1
			continue
		}
		vs := i
		for i < len(b) && b[i] != ' ' && b[i] != '\t' {
			i++
		}
		f(key, b[vs:i])
	}
}

func unescapeLogfmt(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		default:
			out = append(out, b[i])
		}
	}
	return out
}

// replace: every capture group of expression matched in the line (or an
// extracted value) is replaced by the replace template; named groups also
// go to the extracted data.
type replaceConfig struct {
	Expression string  `yaml:"expression"`
	Source     *string `yaml:"source"`
	Replace    string  `yaml:"replace"`
}

func newReplace(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var c replaceConfig
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.Expression == "" {
		return nil, stageErr(n, path, "expression is required")
	}
	re, err := regexp.Compile(c.Expression)
	if err != nil {
		return nil, stageErr(n, path+".expression", "%v", err)
	}
	tmpl, err := parseTemplate("replace", c.Replace)
	if err != nil {
		return nil, stageErr(n, path+".replace", "%v", err)
	}
	names := re.SubexpNames()
	return funcStage{f: func(e *Entry) bool {
		var in string
		if c.Source != nil {
			v, ok := extractedString(e, *c.Source)
			if !ok {
				return true
			}
			in = v
		} else {
			in = string(e.Line)
		}
		all := re.FindAllStringSubmatchIndex(in, -1)
		if all == nil {
			return true
		}
		var out bytes.Buffer
		last := 0
		for _, m := range all {
			for g := 1; g < len(m)/2; g++ {
				s, t := m[2*g], m[2*g+1]
				if s < 0 || s < last {
					continue
				}
				val := in[s:t]
				if names[g] != "" {
					setExtracted(e, names[g], val)
				}
				out.WriteString(in[last:s])
				out.WriteString(execTemplate(tmpl, e, val))
				last = t
			}
		}
		out.WriteString(in[last:])
		if c.Source != nil {
			setExtracted(e, *c.Source, out.String())
		} else {
			e.Line = out.Bytes()
		}
		return true
	}}, nil
}
