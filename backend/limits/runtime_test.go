package limits

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
)

func TestParseRuntimeOverrides(t *testing.T) {
	base := defaults(t).Tenant
	got, err := ParseRuntimeOverrides([]byte("overrides:\n  team-a:\n    retention_period: 168h\n    max_line_size: 1KiB\n  team-b: {}\n"), base)
	if err != nil {
		t.Fatal(err)
	}
	a := base
	a.RetentionPeriod, a.MaxLineSize = model.Duration(168*time.Hour), 1024
	if len(got) != 2 || got["team-a"] != a || got["team-b"] != base {
		t.Fatalf("overrides %+v", got)
	}
	if got, err := ParseRuntimeOverrides(nil, base); err != nil || len(got) != 0 {
		t.Fatalf("empty file: %v %v", got, err)
	}
	for _, bad := range []struct{ doc, msg string }{
		{"overrides:\n  team-a:\n    no_such_limit: 1\n", "no_such_limit"},
		{"overrides:\n  team-a:\n    retention_period: 1h\n", "retention_period"},
		{"limits: {}\n", "limits"},
		{"overrides:\n  team-a:\n    max_line_size: [1]\n", "team-a"},
	} {
		if _, err := ParseRuntimeOverrides([]byte(bad.doc), base); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%q: error %v, want one naming %s", bad.doc, err, bad.msg)
		}
	}
}

func TestRuntimeLoader(t *testing.T) {
	base := defaults(t)
	static := base.Tenant
	static.MaxQuerySeries = 7
	base.Overrides = map[string]Tenant{"static": static, "team-a": static}
	file := filepath.Join(t.TempDir(), "runtime.yaml")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target := NewOverrides(base)
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := RuntimeConfig{File: file, ReloadPeriod: time.Second}

	write("overrides:\n  team-a:\n    retention_period: 48h\n  [unclosed\n")
	if _, err := NewRuntimeLoader(cfg, base, target, reg, logger); err == nil {
		t.Fatal("an invalid file at start was accepted")
	}
	write("overrides:\n  team-a:\n    retention_period: 48h\n")
	reg = prometheus.NewRegistry()
	l, err := NewRuntimeLoader(cfg, base, target, reg, logger)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, retention time.Duration, ok float64) {
		t.Helper()
		if got := time.Duration(target.Tenant("team-a").RetentionPeriod); got != retention {
			t.Fatalf("%s: team-a retention %v, want %v", when, got, retention)
		}
		// The runtime file replaces team-a's static override; other
		// static overrides stay.
		if target.Tenant("team-a").MaxQuerySeries != base.Tenant.MaxQuerySeries || target.Tenant("static").MaxQuerySeries != 7 {
			t.Fatalf("%s: static overrides not kept as they should be", when)
		}
		if got := testutil.ToFloat64(l.ok); got != ok {
			t.Fatalf("%s: last reload successful = %v, want %v", when, got, ok)
		}
	}
	check("at start", 48*time.Hour, 1)

	write("overrides:\n  team-a:\n    retention_period: 72h\n")
	if changed, err := l.reload(); !changed || err != nil {
		t.Fatalf("reload: %v %v", changed, err)
	}
	check("after a change", 72*time.Hour, 1)
	if changed, err := l.reload(); changed || err != nil {
		t.Fatalf("reload of the same content: %v %v", changed, err)
	}

	write("overrides:\n  team-a:\n    retention_period: 1h\n")
	if _, err := l.reload(); !errors.Is(err, ErrInvalidLimit) {
		t.Fatalf("invalid change: %v", err)
	}
	check("after an invalid change", 72*time.Hour, 0)

	write("overrides: {}\n")
	if _, err := l.reload(); err != nil {
		t.Fatal(err)
	}
	if got := target.Tenant("team-a").MaxQuerySeries; got != 7 {
		t.Fatalf("with the runtime override gone, team-a has max_query_series %d, want its static 7", got)
	}
	if got := testutil.ToFloat64(l.reloads.WithLabelValues("success")); got != 3 {
		t.Fatalf("%v successful reloads counted, want 3", got)
	}
}
