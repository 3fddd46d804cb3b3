package engine

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/engine/enginetest"
	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
)

// cpuTime is the process' user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports MB per CPU-second next to the wall-clock MB/s, so that
// figures stay meaningful on a shared, loaded machine.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
	bytes int64
}

func startCPU(b *testing.B, bytesPerOp int64) *cpuMeter {
	b.SetBytes(bytesPerOp)
	b.ReportAllocs()
	b.ResetTimer()
	return &cpuMeter{b: b, start: cpuTime(), bytes: bytesPerOp}
}

func (m *cpuMeter) stop() {
	m.b.StopTimer()
	if d := cpuTime() - m.start; d > 0 {
		m.b.ReportMetric(float64(m.bytes)*float64(m.b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}

// corpus returns n realistic mixed lines, each in its own allocation (as
// decompressed lines are), and the same bytes laid out contiguously.
func corpus(n int) ([][]byte, []byte) {
	g := loggen.NewWithOptions(loggen.Options{Seed: 7, Streams: 50})
	lines := make([][]byte, n)
	var flat []byte
	for i := range lines {
		_, _, l := g.Next(nil)
		lines[i] = l
		flat = append(flat, l...)
		flat = append(flat, '\n')
	}
	return lines, flat
}

func totalBytes(lines [][]byte) int64 {
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	return n
}

func mustPipeline(b *testing.B, query string) *pipeline {
	b.Helper()
	e, err := logql.ParseLogExpr(query)
	if err != nil {
		b.Fatal(err)
	}
	p, err := newPipeline(e.Pipeline)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchFilter runs the leading line filters of query over the corpus.
func benchFilter(b *testing.B, query string) {
	lines, _ := corpus(20000)
	p := mustPipeline(b, query)
	m := startCPU(b, totalBytes(lines))
	kept := 0
	for range b.N {
		for _, l := range lines {
			if p.matchFilters(l) {
				kept++
			}
		}
	}
	m.stop()
	_ = kept
}

// The literal filter, and bytes.Index over the same bytes laid out
// contiguously (the ceiling a per-line filter is compared to).
func BenchmarkLineFilterLiteral(b *testing.B) {
	b.Run("filter", func(b *testing.B) { benchFilter(b, `{a="b"} |= "needle-not-there"`) })
	b.Run("bytes.Index-contiguous", func(b *testing.B) {
		lines, flat := corpus(20000)
		needle := []byte("needle-not-there")
		m := startCPU(b, totalBytes(lines))
		for range b.N {
			if bytes.Index(flat, needle) >= 0 {
				b.Fatal("needle found")
			}
		}
		m.stop()
	})
}

func BenchmarkLineFilterLiteralFrequent(b *testing.B) { benchFilter(b, `{a="b"} |= "GET"`) }

func BenchmarkLineFilterCaseInsensitive(b *testing.B) { benchFilter(b, `{a="b"} |~ "(?i)timeout"`) }

func BenchmarkLineFilterRegex(b *testing.B) { benchFilter(b, `{a="b"} |~ "status=5[0-9]{2}"`) }

func BenchmarkLineFilterAlternatives(b *testing.B) {
	benchFilter(b, `{a="b"} |= "timeout" or "refused" or "deadline"`)
}

func jsonLines(n int) [][]byte {
	lines := make([][]byte, n)
	levels := []string{"info", "warn", "error", "debug"}
	for i := range lines {
		lines[i] = fmt.Appendf(nil, `{"ts":"2024-01-01T00:00:%02d.%03dZ","level":"%s","caller":"api/handler.go:%d","msg":"request served","method":"GET","path":"/api/v1/users/%d","status":%d,"duration_ms":%d.%d,"request":{"id":"req-%08x","user_agent":"Mozilla/5.0 (X11; Linux x86_64)","bytes":%d},"tags":["a","b"]}`,
			i%60, i%1000, levels[i%4], 10+i%90, i, 200+i%4*100, i%500, i%10, i*7919, 100+i%9000)
	}
	return lines
}

func logfmtLines(n int) [][]byte {
	lines := make([][]byte, n)
	levels := []string{"info", "warn", "error", "debug"}
	for i := range lines {
		lines[i] = fmt.Appendf(nil, `ts=2024-01-01T00:00:%02d.%03dZ level=%s caller=api/handler.go:%d msg="request served" method=GET path=/api/v1/users/%d status=%d duration=%dms request_id=req-%08x user_agent="Mozilla/5.0 (X11; Linux x86_64)" bytes=%d`,
			i%60, i%1000, levels[i%4], 10+i%90, i, 200+i%4*100, i%500, i*7919, 100+i%9000)
	}
	return lines
}

// benchPipeline runs the whole pipeline of query over lines of one stream.
func benchPipeline(b *testing.B, query string, lines [][]byte) {
	p := mustPipeline(b, query)
	base := newStreamBase(labels.FromStrings("app", "api", "namespace", "prod"))
	m := startCPU(b, totalBytes(lines))
	for range b.N {
		for i, l := range lines {
			p.process(base, int64(i), l, labels.EmptyLabels())
		}
	}
	m.stop()
}

func BenchmarkParserJSON(b *testing.B) { benchPipeline(b, `{a="b"} | json`, jsonLines(5000)) }

func BenchmarkParserJSONParams(b *testing.B) {
	benchPipeline(b, `{a="b"} | json lvl="level", id="request.id"`, jsonLines(5000))
}

func BenchmarkParserLogfmt(b *testing.B) { benchPipeline(b, `{a="b"} | logfmt`, logfmtLines(5000)) }

func BenchmarkLabelFilter(b *testing.B) {
	benchPipeline(b, `{a="b"} | logfmt | status >= 400 and duration > 100ms`, logfmtLines(5000))
}

func BenchmarkLineFormat(b *testing.B) {
	benchPipeline(b, `{a="b"} | logfmt | line_format "{{.method}} {{.path}} {{.status}}"`, logfmtLines(2000))
}

// presorted serves one pre-merged, time-ordered slice of entries, so that
// BenchmarkCountOverTime measures the engine rather than a storage merge.
type presorted struct{ entries []model.StreamEntry }

func (p *presorted) SelectLogs(_ context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	lo := sort.Search(len(p.entries), func(i int) bool { return p.entries[i].Timestamp >= sel.Start })
	hi := sort.Search(len(p.entries), func(i int) bool { return p.entries[i].Timestamp >= sel.End })
	return iter.Slice(p.entries[lo:hi]), nil
}

// BenchmarkCountOverTime runs sum by (app) (count_over_time(...[1m])) over
// a million lines of 50 streams: once from a pre-merged slice (the engine
// alone, sliding windows over merged entries) and once from the in-memory
// store (which counts per window itself, or hands out entries stream by
// stream).
func BenchmarkCountOverTime(b *testing.B) {
	const n = 1_000_000
	q := enginetest.New()
	g := loggen.NewWithOptions(loggen.Options{Seed: 3, Streams: 50, MeanInterval: time.Millisecond})
	per := map[int][]model.Entry{}
	all := make([]model.StreamEntry, 0, n)
	fps := map[int]model.Fingerprint{}
	var size int64
	for range n {
		s, ts, line := g.Next(nil)
		size += int64(len(line))
		e := model.Entry{Timestamp: ts, Line: line, Metadata: labels.EmptyLabels()}
		per[s] = append(per[s], e)
		fp, ok := fps[s]
		if !ok {
			fp = model.StreamFingerprint(testTenant, g.Labels(s))
			fps[s] = fp
		}
		all = append(all, model.StreamEntry{Labels: g.Labels(s), Fingerprint: fp, Entry: e})
	}
	for s, es := range per {
		q.PushLabels(testTenant, g.Labels(s), es...)
	}
	first, last := all[0].Timestamp, all[len(all)-1].Timestamp
	start, end := time.Unix(0, first).Add(time.Minute), time.Unix(0, last)
	sources := []struct {
		name string
		q    Querier
	}{{"engine", &presorted{entries: all}}, {"memstore", q}}
	for _, src := range sources {
		eng := New(src.q, Options{})
		for _, query := range []string{
			`sum by (app) (count_over_time({namespace=~".+"}[1m]))`,
			`sum by (app) (count_over_time({namespace=~".+"} |= "error" [1m]))`,
			`sum by (level) (count_over_time({namespace=~".+"} | logfmt [1m]))`,
		} {
			b.Run(src.name+"/"+query, func(b *testing.B) {
				m := startCPU(b, size)
				for range b.N {
					res, err := eng.Query(context.Background(), Params{Tenant: testTenant, Query: query, Start: start, End: end, Step: time.Minute})
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Matrix) == 0 {
						b.Fatal("empty result")
					}
				}
				m.stop()
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			})
		}
	}
}

func TestLineFilterZeroAllocs(t *testing.T) {
	lines, _ := corpus(500)
	for _, tc := range []struct {
		q     string
		regex bool // grafana/regexp pools its machines: rare refills after GC
	}{
		{q: `{a="b"} |= "GET"`}, {q: `{a="b"} != "GET"`}, {q: `{a="b"} |~ "(?i)error"`},
		{q: `{a="b"} |~ "status=5[0-9]{2}"`, regex: true},
		{q: `{a="b"} |= "timeout" or "refused"`}, {q: `{a="b"} |> "<_> GET <_>"`}, {q: `{a="b"} |= ip("10.0.0.0/8")`},
	} {
		if tc.regex && raceEnabled {
			continue
		}
		e, err := logql.ParseLogExpr(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		p, err := newPipeline(e.Pipeline)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			for _, l := range lines {
				p.matchFilters(l)
			}
		})
		perLine := allocs / float64(len(lines))
		if (!tc.regex && allocs != 0) || perLine > 0.02 {
			t.Errorf("%s: %v allocations per run of %d lines", tc.q, allocs, len(lines))
		}
	}
}

func TestParsersSteadyStateAllocs(t *testing.T) {
	base := newStreamBase(labels.FromStrings("app", "api"))
	for _, tc := range []struct {
		q     string
		lines [][]byte
	}{
		{`{a="b"} | json`, jsonLines(50)},
		{`{a="b"} | logfmt`, logfmtLines(50)},
		{`{a="b"} | logfmt | status >= 400`, logfmtLines(50)},
	} {
		e, err := logql.ParseLogExpr(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		p, err := newPipeline(e.Pipeline)
		if err != nil {
			t.Fatal(err)
		}
		run := func() {
			for i, l := range tc.lines {
				p.process(base, int64(i), l, labels.EmptyLabels())
			}
		}
		run() // warm the key caches
		if allocs := testing.AllocsPerRun(10, run); allocs != 0 {
			t.Errorf("%s: %v allocations per run of %d lines", tc.q, allocs, len(tc.lines))
		}
	}
}
