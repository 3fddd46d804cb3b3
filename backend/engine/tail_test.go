package engine

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

func TestTailPipeline(t *testing.T) {
	tp, err := NewTailPipeline(`{app="api"} |= "GET" | logfmt | status >= 500 | line_format "{{.path}} failed"`)
	if err != nil {
		t.Fatal(err)
	}
	if ms := tp.Matchers(); len(ms) != 1 || ms[0].Name != "app" {
		t.Fatalf("matchers %v", ms)
	}
	ls := labels.FromStrings("app", "api")
	cases := []struct {
		line   string
		keep   bool
		out    string
		status string
	}{
		{`method=GET path=/a status=500`, true, "/a failed", "500"},
		{`method=GET path=/b status=200`, false, "", ""},
		{`method=POST path=/c status=503`, false, "", ""},
	}
	for _, c := range cases {
		e := model.StreamEntry{Labels: ls, Fingerprint: 1, Entry: model.Entry{Timestamp: 1, Line: []byte(c.line)}}
		line, out, ok := tp.Process(&e)
		if ok != c.keep || string(line) != c.out || (ok && out.Get("status") != c.status) {
			t.Errorf("%q: got %q %v %v", c.line, line, out, ok)
		}
	}
	if _, err := NewTailPipeline(`count_over_time({app="api"}[1m])`); !errors.Is(err, ErrTailMetricQuery) {
		t.Fatalf("metric query: %v", err)
	}
}
