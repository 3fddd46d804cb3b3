package logql

import "testing"

// benchQueries are typical dashboard and Explore queries, from short to long.
var benchQueries = []string{
	`{app="api"}`,
	`{namespace="prod", app=~"api|web"} |= "error" != "timeout"`,
	`sum by (status) (rate({app="nginx"} | pattern "<ip> - - <_> \"<method> <uri> <_>\" <status> <size>" | status >= 400 [5m]))`,
	`quantile_over_time(0.99, {namespace="prod", app="api"} |= "latency" | logfmt | level="info", route=~"/api/.*" | unwrap duration(latency) | __error__="" [5m] offset 1h) by (route)`,
	`topk(10, sum by (pod) (count_over_time({namespace="prod", container!="istio-proxy"} |~ "(?i)exception|panic" | json | line_format "{{.msg}}" | label_format lvl=level [1m]))) / on (pod) group_left sum by (pod) (bytes_rate({namespace="prod"}[1m])) > 0.5`,
}

func benchInputBytes() int64 {
	n := 0
	for _, q := range benchQueries {
		n += len(q)
	}
	return int64(n)
}

func BenchmarkLexer(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(benchInputBytes())
	for b.Loop() {
		for _, q := range benchQueries {
			l := lexer{src: q}
			for l.next().kind > tokError {
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, q := range benchQueries {
		b.Run(q[:min(len(q), 40)], func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				if _, err := Parse(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	exprs := make([]Expr, len(benchQueries))
	for i, q := range benchQueries {
		exprs[i] = MustParse(q)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range exprs {
			_ = e.String()
		}
	}
}
