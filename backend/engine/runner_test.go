package engine

// The LogQL case runner. Every testdata/*.test file is a script of blocks:
//
//	# comment
//	push {app="api", level="info"}
//	  10s first line
//	  1m30s second line ## md {trace_id="abc"}
//	  q:"line with \x1b escapes"
//
//	eval range start=0 end=2m step=1m [limit=N] [direction=forward|backward] [interval=D] <query>
//	eval instant at=2m <query>
//	  expect streams
//	    {app="api", level="info"}
//	      1m30s second line
//	  expect matrix
//	    {app="api"} 1m:1 2m:0.5
//	  expect vector
//	    {app="api"} 3
//	  expect scalar 3
//	  expect error <substring of the error message>
//
// Times are offsets (Go durations, or 0) from T0 = 2023-11-14T22:13:20Z
// (1700000000 s); a 19-digit integer is an absolute Unix-ns time. An entry
// line is "<time> <line>"; the line is everything after the first space,
// or, written q:"...", a Go-quoted string. " ## md {k="v"}" at the end of an
// entry adds structured metadata. Labels use PromQL metric syntax ({} for
// none). Expected streams and series are compared in order (Loki's order:
// streams by label string, matrix and vector series by labels), entries in
// order, values exactly or within 1e-9 relative (NaN equals NaN). A block
// with "expect streams" and no stream expects an empty result. Pushes
// accumulate over the file; "clear" empties the store.

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lode-logs/lode/backend/engine/enginetest"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
)

const testTenant = "fake"

var t0 = time.Unix(1700000000, 0).UTC()

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test scripts")
	}
	total := 0
	for _, f := range files {
		for _, m := range querierModes {
			t.Run(filepath.Base(f)+"/"+m.name, func(t *testing.T) { total += runScript(t, f, m.wrap) })
		}
	}
	t.Logf("%d eval cases", total)
}

// querierModes are the abilities of storage every script runs against:
// entries merged across streams only (SelectLogs), stream by stream too
// (engine.StreamQuerier), and counting per window too (engine.Counter).
var querierModes = []struct {
	name string
	wrap func(*enginetest.Querier) Querier
}{
	{"merged", func(q *enginetest.Querier) Querier { return logsOnly{q} }},
	{"streams", func(q *enginetest.Querier) Querier { return streamsToo{logsOnly{q}} }},
	{"counts", func(q *enginetest.Querier) Querier { return q }},
}

// logsOnly hides the optional abilities of the in-memory store.
type logsOnly struct{ q *enginetest.Querier }

func (l logsOnly) SelectLogs(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	return l.q.SelectLogs(ctx, sel)
}

// streamsToo exposes SelectStreams but not CountEntries.
type streamsToo struct{ logsOnly }

func (s streamsToo) SelectStreams(ctx context.Context, sel model.LogSelect, workers int, fn func(int, iter.EntryIterator) error) error {
	return s.q.SelectStreams(ctx, sel, workers, fn)
}

type evalCase struct {
	line   int
	params Params
	query  string
	kind   string // streams, matrix, vector, scalar, error
	errSub string
	scalar float64
	// streams or series with their expected entries/points
	groups []expectGroup
}

type expectGroup struct {
	labels  labels.Labels
	entries []model.Entry  // streams
	points  []model.Sample // matrix (or one point for vector)
}

var metricParser = parser.NewParser(parser.Options{})

func runScript(t *testing.T, path string, wrap func(*enginetest.Querier) Querier) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	q := enginetest.New()
	eng := New(wrap(q), Options{MaxQuerySeries: 50, MaxEntriesLimitPerQuery: 1000})
	n := 0
	for i := 0; i < len(lines); {
		ln := strings.TrimSpace(lines[i])
		switch {
		case ln == "" || strings.HasPrefix(ln, "#"):
			i++
		case ln == "clear":
			q = enginetest.New()
			eng = New(wrap(q), Options{MaxQuerySeries: 50, MaxEntriesLimitPerQuery: 1000})
			i++
		case strings.HasPrefix(ln, "push "):
			i = parsePush(t, path, lines, i, q)
		case strings.HasPrefix(ln, "eval "):
			var c evalCase
			c, i = parseEval(t, path, lines, i)
			n++
			t.Run(fmt.Sprintf("line%d", c.line), func(t *testing.T) {
				checkCase(t, eng, c)
				// The printed form of the query must mean the same: it
				// answers the same expectation.
				if e, err := logql.Parse(c.query); err == nil {
					printed := c
					printed.query, printed.params.Query = e.String(), e.String()
					checkCase(t, eng, printed)
				}
			})
		default:
			t.Fatalf("%s:%d: unexpected line %q", path, i+1, lines[i])
		}
	}
	return n
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }

func parseTime(s string) (time.Time, error) {
	if len(s) == 19 && strings.Trim(s, "0123456789") == "" {
		n, _ := strconv.ParseInt(s, 10, 64)
		return time.Unix(0, n).UTC(), nil
	}
	if s == "0" {
		return t0, nil
	}
	neg := strings.HasPrefix(s, "-")
	d, err := time.ParseDuration(strings.TrimPrefix(s, "-"))
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	if neg {
		d = -d
	}
	return t0.Add(d), nil
}

// parseEntry reads "<time> <line>[ ## md {...}]".
func parseEntry(s string) (model.Entry, error) {
	ts, rest, _ := strings.Cut(s, " ")
	tm, err := parseTime(ts)
	if err != nil {
		return model.Entry{}, err
	}
	e := model.Entry{Timestamp: tm.UnixNano(), Metadata: labels.EmptyLabels()}
	if i := strings.LastIndex(rest, " ## md "); i >= 0 {
		md, err := metricParser.ParseMetric(rest[i+7:])
		if err != nil {
			return e, fmt.Errorf("metadata: %w", err)
		}
		e.Metadata = md
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "q:") {
		u, err := strconv.Unquote(rest[2:])
		if err != nil {
			return e, fmt.Errorf("quoted line %s: %w", rest, err)
		}
		rest = u
	}
	e.Line = []byte(rest)
	return e, nil
}

func parsePush(t *testing.T, path string, lines []string, i int, q *enginetest.Querier) int {
	head := strings.TrimSpace(lines[i])
	lbls := strings.TrimSpace(strings.TrimPrefix(head, "push "))
	base := indentOf(lines[i])
	var entries []model.Entry
	i++
	for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && indentOf(lines[i]) > base; i++ {
		e, err := parseEntry(strings.TrimLeft(lines[i], " \t"))
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		entries = append(entries, e)
	}
	if err := q.Push(testTenant, lbls, entries...); err != nil {
		t.Fatalf("%s:%d: %v", path, i, err)
	}
	return i
}

func parseEval(t *testing.T, path string, lines []string, i int) (evalCase, int) {
	c := evalCase{line: i + 1}
	head := strings.TrimSpace(lines[i])
	rest := strings.TrimPrefix(head, "eval ")
	kind, rest, _ := strings.Cut(rest, " ")
	c.params = Params{Tenant: testTenant, Direction: model.Backward}
	switch kind {
	case "range":
	case "instant":
		c.params.Instant = true
	default:
		t.Fatalf("%s:%d: eval kind %q", path, i+1, kind)
	}
	fail := func(err error) { t.Fatalf("%s:%d: %v", path, i+1, err) }
	for {
		tok, after, _ := strings.Cut(rest, " ")
		k, v, ok := strings.Cut(tok, "=")
		if !ok || !isParamKey(k) {
			break
		}
		rest = after
		var err error
		switch k {
		case "start":
			c.params.Start, err = parseTime(v)
		case "end":
			c.params.End, err = parseTime(v)
		case "at":
			c.params.End, err = parseTime(v)
			c.params.Start = c.params.End
		case "step":
			c.params.Step, err = time.ParseDuration(v)
		case "interval":
			c.params.Interval, err = time.ParseDuration(v)
		case "limit":
			c.params.Limit, err = strconv.Atoi(v)
		case "direction":
			if v == "forward" {
				c.params.Direction = model.Forward
			}
		}
		if err != nil {
			fail(err)
		}
	}
	c.query = rest
	c.params.Query = rest
	base := indentOf(lines[i])
	i++
	var cur *expectGroup
	for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && indentOf(lines[i]) > base; i++ {
		ln := strings.TrimSpace(lines[i])
		if strings.HasPrefix(ln, "#") {
			continue
		}
		if strings.HasPrefix(ln, "expect ") {
			f := strings.Fields(ln)
			c.kind = f[1]
			switch c.kind {
			case "error":
				c.errSub = strings.TrimSpace(strings.TrimPrefix(ln, "expect error"))
			case "scalar":
				v, err := parseFloat(f[2])
				if err != nil {
					fail(err)
				}
				c.scalar = v
			}
			continue
		}
		if strings.HasPrefix(ln, "{") {
			end := labelsEnd(ln)
			ls, err := metricParser.ParseMetric(ln[:end+1])
			if err != nil {
				fail(fmt.Errorf("labels %q: %w", ln[:end+1], err))
			}
			c.groups = append(c.groups, expectGroup{labels: ls})
			cur = &c.groups[len(c.groups)-1]
			for _, tok := range strings.Fields(ln[end+1:]) {
				p, err := parsePoint(c.kind, tok)
				if err != nil {
					fail(err)
				}
				cur.points = append(cur.points, p)
			}
			continue
		}
		if cur == nil {
			fail(fmt.Errorf("entry outside a stream: %q", ln))
		}
		e, err := parseEntry(strings.TrimLeft(lines[i], " \t"))
		if err != nil {
			fail(err)
		}
		cur.entries = append(cur.entries, e)
	}
	if c.kind == "" {
		fail(fmt.Errorf("eval without expect"))
	}
	return c, i
}

// labelsEnd returns the index of the '}' closing the label set at the start
// of s, skipping quoted values.
func labelsEnd(s string) int {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '}':
			return i
		}
	}
	return len(s) - 1
}

func isParamKey(k string) bool {
	switch k {
	case "start", "end", "step", "limit", "direction", "interval", "at":
		return true
	}
	return false
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "+Inf", "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

func parsePoint(kind, tok string) (model.Sample, error) {
	if kind == "vector" {
		v, err := parseFloat(tok)
		return model.Sample{V: v}, err
	}
	ts, vs, ok := strings.Cut(tok, ":")
	if !ok {
		return model.Sample{}, fmt.Errorf("point %q: want time:value", tok)
	}
	tm, err := parseTime(ts)
	if err != nil {
		return model.Sample{}, err
	}
	v, err := parseFloat(vs)
	return model.Sample{T: tm.UnixNano(), V: v}, err
}

func floatEq(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func checkCase(t *testing.T, eng *Engine, c evalCase) {
	t.Helper()
	res, err := eng.Query(context.Background(), c.params)
	if c.kind == "error" {
		if err == nil {
			t.Fatalf("%s: want error containing %q, got result %s", c.query, c.errSub, describe(res))
		}
		if !strings.Contains(err.Error(), c.errSub) {
			t.Fatalf("%s: error %q does not contain %q", c.query, err, c.errSub)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", c.query, err)
	}
	if string(res.Type) != c.kind {
		t.Fatalf("%s: result type %s, want %s: %s", c.query, res.Type, c.kind, describe(res))
	}
	var got []expectGroup
	switch res.Type {
	case TypeStreams:
		for _, s := range res.Streams {
			got = append(got, expectGroup{labels: s.Labels, entries: s.Entries})
		}
	case TypeMatrix:
		for _, s := range res.Matrix {
			got = append(got, expectGroup{labels: s.Metric, points: s.Samples})
		}
	case TypeVector:
		for _, s := range res.Vector {
			got = append(got, expectGroup{labels: s.Metric, points: []model.Sample{{V: s.V}}})
		}
	case TypeScalar:
		if !floatEq(res.Scalar.V, c.scalar) {
			t.Fatalf("%s: scalar %v, want %v", c.query, res.Scalar.V, c.scalar)
		}
		return
	}
	if !groupsEqual(got, c.groups) {
		t.Fatalf("%s:\n got: %s\nwant: %s", c.query, describeGroups(got), describeGroups(c.groups))
	}
}

func groupsEqual(a, b []expectGroup) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !labels.Equal(a[i].labels, b[i].labels) || len(a[i].entries) != len(b[i].entries) || len(a[i].points) != len(b[i].points) {
			return false
		}
		for j, e := range a[i].entries {
			w := b[i].entries[j]
			if e.Timestamp != w.Timestamp || string(e.Line) != string(w.Line) {
				return false
			}
		}
		for j, p := range a[i].points {
			w := b[i].points[j]
			if p.T != w.T || !floatEq(p.V, w.V) {
				return false
			}
		}
	}
	return true
}

func fmtTime(ns int64) string {
	d := time.Duration(ns - t0.UnixNano())
	if d == 0 {
		return "0"
	}
	return d.String()
}

func describeGroups(gs []expectGroup) string {
	var sb strings.Builder
	for _, g := range gs {
		sb.WriteString("\n  " + g.labels.String())
		for _, e := range g.entries {
			fmt.Fprintf(&sb, "\n    %s %q", fmtTime(e.Timestamp), e.Line)
		}
		for _, p := range g.points {
			if p.T == 0 {
				fmt.Fprintf(&sb, " %v", p.V)
			} else {
				fmt.Fprintf(&sb, " %s:%v", fmtTime(p.T), p.V)
			}
		}
	}
	if len(gs) == 0 {
		return "(empty)"
	}
	return sb.String()
}

func describe(r *Result) string {
	if r == nil {
		return "<nil>"
	}
	return string(r.AppendJSON(nil))
}
