package plugin

import (
	"strings"
	"testing"
)

func TestLevelOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels map[string]string
		line   string
		want   string
	}{
		{"label wins over line", map[string]string{"level": "warn"}, "ERROR boom", "warning"},
		{"detected_level label", map[string]string{"detected_level": "ERR"}, "", "error"},
		{"unknown label value kept", map[string]string{"level": "Verbose"}, "", "verbose"},
		{"logfmt", nil, `ts=1 level=debug msg="x"`, "debug"},
		{"logfmt quoted", nil, `ts=1 lvl="info" msg=x`, "info"},
		{"json", nil, `{"ts":1,"level": "fatal","msg":"x"}`, "critical"},
		{"json severity", nil, `{"severity":"WARNING"}`, "warning"},
		{"word", nil, "2024-01-01 12:00:00 [ERROR] db down", "error"},
		{"word trace", nil, "TRACE entering", "trace"},
		{"key inside a word is not a level", nil, `sublevel=error but INFO here`, "info"},
		{"lower-case words are not levels", nil, "no error here, just info", ""},
		{"word inside a word", nil, "XERRORX", ""},
		{"nothing", nil, "GET /index.html 200", ""},
		{"beyond scan window", nil, strings.Repeat("a", levelScanBytes) + " ERROR", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := levelOf(c.labels, c.line); got != c.want {
				t.Fatalf("levelOf(%v, %q) = %q, want %q", c.labels, c.line, got, c.want)
			}
		})
	}
}

func TestQueryStats(t *testing.T) {
	got := queryStats([]byte(`{"querier":{"store":{"totalChunksRef":2}},"summary":{"execTime":0.5,"totalBytesProcessed":10,"bytesProcessedPerSecond":20,"note":"x"}}`))
	want := []struct {
		name, unit string
		v          float64
	}{
		{"Summary: bytes processed per second", "Bps", 20},
		{"Summary: exec time", "s", 0.5},
		{"Summary: total bytes processed", "decbytes", 10},
		{"Querier: store total chunks ref", "", 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d stats: %+v", len(got), got)
	}
	for i, w := range want {
		if got[i].DisplayName != w.name || got[i].Unit != w.unit || got[i].Value != w.v {
			t.Errorf("stat %d = %+v, want %+v", i, got[i], w)
		}
	}
	if queryStats(nil) != nil || queryStats([]byte("[1]")) != nil {
		t.Fatal("stats from nothing")
	}
}

func TestSeriesName(t *testing.T) {
	m := map[string]string{"app": "api", "level": "error"}
	for _, c := range []struct{ legend, want string }{
		{"", `{app="api", level="error"}`},
		{"{{app}}", "api"},
		{"{{ app }}/{{level}} ({{nope}})", "api/error ()"},
		{"static", "static"},
	} {
		if got := seriesName(m, c.legend, "expr"); got != c.want {
			t.Errorf("seriesName(%q) = %q, want %q", c.legend, got, c.want)
		}
	}
	if got := seriesName(nil, "", "sum(x)"); got != "sum(x)" {
		t.Errorf("no labels: %q", got)
	}
}
