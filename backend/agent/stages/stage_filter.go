package stages

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"golang.org/x/time/rate"
	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/agent/config"
)

// match: run nested stages on entries whose labels (and line, when the
// selector has line filters such as |= "x") match; with action drop, drop
// them instead.
type matchConfig struct {
	Selector          string      `yaml:"selector"`
	Stages            []yaml.Node `yaml:"stages"`
	Action            string      `yaml:"action"`
	PipelineName      string      `yaml:"pipeline_name"`
	DropCounterReason string      `yaml:"drop_counter_reason"`
}

type lineFilter struct {
	neg bool
	lit []byte
	re  *regexp.Regexp
}

type matchStage struct {
	matchers []*labels.Matcher
	filters  []lineFilter
	drop     bool
	reason   string
	defs     []stageDef
	p        *Pipeline
}

func newMatch(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	c := matchConfig{Action: "keep", DropCounterReason: ReasonMatchStage}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	ms, filters, err := parseSelector(c.Selector)
	if err != nil {
		return nil, stageErr(n, path+".selector", "%v", err)
	}
	s := &matchStage{matchers: ms, filters: filters, reason: c.DropCounterReason, p: p}
	switch c.Action {
	case "keep":
		if len(c.Stages) == 0 {
			return nil, stageErr(n, path+".stages", "stages are required unless action is drop")
		}
		if s.defs, err = p.compileList(c.Stages, path+".stages"); err != nil {
			return nil, err
		}
	case "drop":
		s.drop = true
	default:
		return nil, stageErr(n, path+".action", "must be keep or drop, got %q", c.Action)
	}
	return s, nil
}

// parseSelector parses `{a="b", c=~"d"} |= "x" != "y" |~ "re"`.
func parseSelector(sel string) ([]*labels.Matcher, []lineFilter, error) {
	sel = strings.TrimSpace(sel)
	end := strings.LastIndexByte(sel, '}')
	if !strings.HasPrefix(sel, "{") || end < 0 {
		return nil, nil, fmt.Errorf("invalid selector %q: want a stream selector such as {app=\"api\"}", sel)
	}
	// The last '}' may be inside a line filter string: find the closing
	// brace of the selector by parsing prefixes.
	var ms []*labels.Matcher
	var err error
	var rest string
	for i := strings.IndexByte(sel, '}'); i >= 0; {
		ms, err = parser.NewParser(parser.Options{}).ParseMetricSelector(sel[:i+1])
		if err == nil {
			rest = sel[i+1:]
			break
		}
		j := strings.IndexByte(sel[i+1:], '}')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if err != nil {
		return nil, nil, fmt.Errorf("invalid selector %q: %w", sel, err)
	}
	filters, err := parseLineFilters(rest)
	return ms, filters, err
}

func parseLineFilters(s string) ([]lineFilter, error) {
	var out []lineFilter
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if len(s) < 2 {
			return nil, fmt.Errorf("invalid line filter %q", s)
		}
		op := s[:2]
		if op != "|=" && op != "!=" && op != "|~" && op != "!~" {
			return nil, fmt.Errorf("unsupported expression %q: only line filters (|= != |~ !~) may follow the selector", s)
		}
		s = strings.TrimSpace(s[2:])
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("line filter %s needs a quoted string", op)
		}
		v, _ := strconv.Unquote(q)
		s = s[len(q):]
		f := lineFilter{neg: op[0] == '!'}
		if op[1] == '~' {
			if f.re, err = regexp.Compile(v); err != nil {
				return nil, fmt.Errorf("line filter %s %q: %w", op, v, err)
			}
		} else {
			f.lit = []byte(v)
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *matchStage) matches(e *Entry) bool {
	for _, m := range s.matchers {
		if !m.Matches(e.Labels.Get(m.Name)) {
			return false
		}
	}
	for _, f := range s.filters {
		var ok bool
		if f.re != nil {
			ok = f.re.Match(e.Line)
		} else {
			ok = bytes.Contains(e.Line, f.lit)
		}
		if ok == f.neg {
			return false
		}
	}
	return true
}

func (s *matchStage) instance(next Emit) stageInst {
	mi := &matchInst{s: s, next: next}
	if !s.drop {
		insts := buildChain(s.defs, next)
		mi.first = insts[0]
		mi.flushers = collectFlushers(insts)
	}
	return mi
}

type matchInst struct {
	s        *matchStage
	next     Emit
	first    stageInst
	flushers []flusher
}

func (m *matchInst) process(e *Entry) {
	if !m.s.matches(e) {
		m.next(e)
		return
	}
	if m.s.drop {
		drop(e, m.s.p.opts.Dropped, m.s.reason)
		return
	}
	m.first.process(e)
}

func (m *matchInst) flush(now time.Time, force bool) {
	for _, f := range m.flushers {
		f.flush(now, force)
	}
}

func (m *matchInst) pending() bool {
	for _, f := range m.flushers {
		if f.pending() {
			return true
		}
	}
	return false
}

// drop: drop entries for which every configured condition holds.
type dropConfig struct {
	Source            yaml.Node       `yaml:"source"`
	Separator         *string         `yaml:"separator"`
	Expression        string          `yaml:"expression"`
	Value             *string         `yaml:"value"`
	OlderThan         time.Duration   `yaml:"older_than"`
	LongerThan        config.ByteSize `yaml:"longer_than"`
	DropCounterReason string          `yaml:"drop_counter_reason"`
}

func newDrop(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	c := dropConfig{DropCounterReason: ReasonDropStage}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	var sources []string
	switch c.Source.Kind {
	case 0:
	case yaml.ScalarNode:
		sources = []string{c.Source.Value}
	default:
		if err := c.Source.Decode(&sources); err != nil {
			return nil, stageErr(&c.Source, path+".source", "want a name or a list of names")
		}
	}
	sep := ";"
	if c.Separator != nil {
		sep = *c.Separator
	}
	if c.Value != nil && c.Expression != "" {
		return nil, stageErr(n, path, "value and expression are mutually exclusive")
	}
	if c.Value != nil && len(sources) == 0 {
		return nil, stageErr(n, path, "value requires source")
	}
	if len(sources) == 0 && c.Expression == "" && c.OlderThan == 0 && c.LongerThan == 0 {
		return nil, stageErr(n, path, "at least one of source, expression, older_than and longer_than is required")
	}
	var re *regexp.Regexp
	if c.Expression != "" {
		var err error
		if re, err = regexp.Compile(c.Expression); err != nil {
			return nil, stageErr(n, path+".expression", "%v", err)
		}
	}
	now, dropped := p.opts.Now, p.opts.Dropped
	cond := func(e *Entry) bool {
		if c.OlderThan > 0 && e.Timestamp >= now().Add(-c.OlderThan).UnixNano() {
			return false
		}
		if c.LongerThan > 0 && len(e.Line) <= int(c.LongerThan) {
			return false
		}
		if len(sources) > 0 {
			vals := make([]string, 0, len(sources))
			for _, s := range sources {
				v, ok := extractedString(e, s)
				if !ok {
					return false // a missing source never matches
				}
				vals = append(vals, v)
			}
			joined := strings.Join(vals, sep)
			switch {
			case c.Value != nil:
				return joined == *c.Value
			case re != nil:
				return re.MatchString(joined)
			}
			return true
		}
		if re != nil {
			return re.Match(e.Line)
		}
		return true
	}
	return funcStage{f: func(e *Entry) bool {
		if cond(e) {
			drop(e, dropped, c.DropCounterReason)
			return false
		}
		return true
	}}, nil
}

// limit: a token bucket of rate lines per second and burst lines; over it
// lines wait (backpressure) or, with drop, are dropped. by_label_name
// keeps one bucket per value of that label (lines without it pass).
type limitConfig struct {
	Rate              float64 `yaml:"rate"`
	Burst             int     `yaml:"burst"`
	Drop              bool    `yaml:"drop"`
	ByLabelName       string  `yaml:"by_label_name"`
	MaxDistinctLabels int     `yaml:"max_distinct_labels"`
}

type limitStage struct {
	c       limitConfig
	dropped func(e *Entry)
	mu      sync.Mutex // guards byLabel and order
	single  *rate.Limiter
	byLabel map[string]*rate.Limiter
	order   []string // insertion order, to forget the oldest values
}

func newLimit(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	c := limitConfig{MaxDistinctLabels: 10000}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.Rate <= 0 || c.Burst <= 0 {
		return nil, stageErr(n, path, "rate and burst must be positive")
	}
	if c.ByLabelName != "" && !c.Drop {
		return nil, stageErr(n, path+".by_label_name", "requires drop: true")
	}
	s := &limitStage{c: c, single: rate.NewLimiter(rate.Limit(c.Rate), c.Burst), byLabel: map[string]*rate.Limiter{}}
	dropped := p.opts.Dropped
	s.dropped = func(e *Entry) { drop(e, dropped, ReasonLimitStage) }
	return funcStage{f: s.allow}, nil
}

func (s *limitStage) limiter(e *Entry) *rate.Limiter {
	if s.c.ByLabelName == "" {
		return s.single
	}
	v := e.Labels.Get(s.c.ByLabelName)
	if v == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.byLabel[v]
	if !ok {
		if len(s.order) >= s.c.MaxDistinctLabels {
			delete(s.byLabel, s.order[0])
			s.order = s.order[1:]
		}
		l = rate.NewLimiter(rate.Limit(s.c.Rate), s.c.Burst)
		s.byLabel[v] = l
		s.order = append(s.order, v)
	}
	return l
}

func (s *limitStage) allow(e *Entry) bool {
	l := s.limiter(e)
	if l == nil {
		return true
	}
	if s.c.Drop {
		if !l.Allow() {
			s.dropped(e)
			return false
		}
		return true
	}
	_ = l.Wait(context.Background())
	return true
}
