package limits

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	yamlv3 "go.yaml.in/yaml/v3"
	"gopkg.in/yaml.v3"
)

// defaults returns a Config holding the flag defaults.
func defaults(t *testing.T, args ...string) Config {
	t.Helper()
	var c Config
	f := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(f)
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFlagDefaults(t *testing.T) {
	c := defaults(t)
	want := Tenant{
		IngestionRateMB:                   64,
		IngestionBurstSizeMB:              128,
		MaxLineSize:                       262144,
		MaxLabelNameLength:                1024,
		MaxLabelValueLength:               2048,
		MaxLabelNamesPerSeries:            15,
		RejectOldSamples:                  true,
		RejectOldSamplesMaxAge:            model.Duration(168 * time.Hour),
		CreationGracePeriod:               model.Duration(10 * time.Minute),
		MaxStructuredMetadataSize:         65536,
		MaxStructuredMetadataEntriesCount: 128,
		MaxStreamsPerTenant:               100000,
		MaxEntriesLimitPerQuery:           5000,
		MaxQuerySeries:                    500,
		QueryTimeout:                      model.Duration(time.Minute),
	}
	if c.Tenant != want {
		t.Fatalf("defaults\n got %+v\nwant %+v", c.Tenant, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestFlags(t *testing.T) {
	c := defaults(t,
		"-distributor.max-line-size=1MB", "-distributor.max-line-size-truncate",
		"-validation.reject-old-samples.max-age=1w", "-validation.create-grace-period=1h",
		"-distributor.ingestion-rate-limit-mb=0", "-validation.max-label-names-per-series=30",
		"-ingester.max-global-streams-per-user=0", "-limits.max-structured-metadata-size=0",
		"-validation.max-entries-limit=100", "-querier.max-query-series=0", "-store.max-query-length=721h",
		"-querier.query-timeout=5m")
	if c.MaxLineSize != 1<<20 || !c.MaxLineSizeTruncate || c.RejectOldSamplesMaxAge != model.Duration(7*24*time.Hour) ||
		c.CreationGracePeriod != model.Duration(time.Hour) || c.IngestionRateMB != 0 || c.MaxLabelNamesPerSeries != 30 ||
		c.MaxStreamsPerTenant != 0 || c.MaxStructuredMetadataSize != 0 || c.MaxEntriesLimitPerQuery != 100 ||
		c.MaxQuerySeries != 0 || c.MaxQueryLength != model.Duration(721*time.Hour) || c.QueryTimeout != model.Duration(5*time.Minute) {
		t.Fatalf("flags not applied: %+v", c.Tenant)
	}
}

// yamlDecoders are the YAML libraries the root config may use.
var yamlDecoders = map[string]func(string, any) error{
	"gopkg.in/yaml.v3": func(s string, v any) error {
		d := yaml.NewDecoder(strings.NewReader(s))
		d.KnownFields(true)
		return d.Decode(v)
	},
	"go.yaml.in/yaml/v3": func(s string, v any) error {
		d := yamlv3.NewDecoder(strings.NewReader(s))
		d.KnownFields(true)
		return d.Decode(v)
	},
}

func TestYAMLOverridesInheritDefaults(t *testing.T) {
	const doc = `
limits:
  max_line_size: 128KB
  ingestion_rate_mb: 10
  reject_old_samples_max_age: 3d
  overrides:
    team-a:
      ingestion_rate_mb: 200
      ingestion_burst_size_mb: 400
      max_label_names_per_series: 20
      max_entries_limit_per_query: 10000
      max_query_length: 30d1h
      query_timeout: 5m
    team-b:
      max_line_size: 1048576
      reject_old_samples: false
    team-c: {}
`
	for name, decode := range yamlDecoders {
		t.Run(name, func(t *testing.T) {
			root := struct {
				Limits Config `yaml:"limits"`
			}{Limits: defaults(t)}
			if err := decode(doc, &root); err != nil {
				t.Fatal(err)
			}
			c := root.Limits
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			l := NewOverrides(c)
			def := l.Tenant("someone-else")
			if def.MaxLineSize != 128<<10 || def.IngestionRateMB != 10 || def.IngestionBurstSizeMB != 128 ||
				def.RejectOldSamplesMaxAge != model.Duration(72*time.Hour) || def.MaxLabelNamesPerSeries != 15 {
				t.Fatalf("defaults %+v", def)
			}
			a := l.Tenant("team-a")
			wantA := def
			wantA.IngestionRateMB, wantA.IngestionBurstSizeMB, wantA.MaxLabelNamesPerSeries = 200, 400, 20
			wantA.MaxEntriesLimitPerQuery, wantA.MaxQueryLength = 10000, model.Duration(721*time.Hour)
			wantA.QueryTimeout = model.Duration(5 * time.Minute)
			if a != wantA {
				t.Fatalf("team-a\n got %+v\nwant %+v", a, wantA)
			}
			b := l.Tenant("team-b")
			wantB := def
			wantB.MaxLineSize, wantB.RejectOldSamples = 1<<20, false
			if b != wantB {
				t.Fatalf("team-b\n got %+v\nwant %+v", b, wantB)
			}
			if got := l.Tenant("team-c"); got != def {
				t.Fatalf("team-c %+v, want the defaults", got)
			}
		})
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	c := defaults(t)
	o := c.Tenant
	o.MaxLineSize = 3 << 20
	c.Overrides = map[string]Tenant{"x": o}
	out, err := yaml.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"max_line_size: 256KiB", "reject_old_samples_max_age: 1w", "max_line_size: 3MiB", "overrides:"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("marshalled config lacks %q:\n%s", want, out)
		}
	}
	var back Config
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Tenant != c.Tenant || back.Overrides["x"] != o {
		t.Fatalf("round trip\n got %+v\nwant %+v", back, c)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "max_lines: 3", "yaml: unmarshal errors:\n  line 1: field max_lines not found in type limits.limitsYAML"},
		{"unknown key in override", "overrides:\n  t1:\n    max_lines: 3", "overrides for tenant \"t1\": yaml: unmarshal errors:\n  line 3: field max_lines not found in type limits.Tenant"},
		{"bad byte size", "max_line_size: 12XB", `invalid byte size "12XB": unknown unit "xb"`},
		{"negative rate", "ingestion_rate_mb: -1", "invalid limit: ingestion_rate_mb must not be negative, got -1"},
		{"rate without burst", "ingestion_burst_size_mb: 0", "invalid limit: ingestion_burst_size_mb must be > 0 when ingestion_rate_mb is set, got 0"},
		{"zero label names", "max_label_names_per_series: 0", "invalid limit: max_label_names_per_series must be at least 1, got 0"},
		{"zero max age", "reject_old_samples_max_age: 0s", "invalid limit: reject_old_samples_max_age must be > 0 when reject_old_samples is set, got 0s"},
		{"negative grace", "creation_grace_period: -1m", `not a valid duration string: "-1m"`},
		{"bad override", "overrides:\n  t1:\n    max_label_value_length: 0", `overrides for tenant "t1": invalid limit: max_label_value_length must be at least 1, got 0`},
		{"negative max entries", "max_entries_limit_per_query: -1", "invalid limit: max_entries_limit_per_query must not be negative, got -1"},
		{"negative max series", "overrides:\n  t1:\n    max_query_series: -5", `overrides for tenant "t1": invalid limit: max_query_series must not be negative, got -5`},
		{"negative query length", "max_query_length: -1h", `not a valid duration string: "-1h"`},
		{"empty tenant", "overrides:\n  '':\n    max_line_size: 1", "invalid limit: overrides for an empty tenant ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults(t)
			err := yamlDecoders["gopkg.in/yaml.v3"](tt.yaml, &c)
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Fatalf("error\n got %q\nwant %q", err, tt.want)
			}
		})
	}
}

func TestValidateErrorsAreSentinels(t *testing.T) {
	c := defaults(t)
	c.MaxLineSize = -1
	if err := c.Validate(); !errors.Is(err, ErrInvalidLimit) {
		t.Fatalf("%v is not ErrInvalidLimit", err)
	}
	if err := NewOverrides(defaults(t)).Update(c); !errors.Is(err, ErrInvalidLimit) {
		t.Fatalf("Update accepted an invalid config: %v", err)
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		str  string
	}{
		{"0", 0, "0"}, {"262144", 262144, "256KiB"}, {"256KB", 262144, "256KiB"}, {"256kib", 262144, "256KiB"},
		{"1.5MB", 3 << 19, "1536KiB"}, {"64 MiB", 64 << 20, "64MiB"}, {"2g", 2 << 30, "2GiB"}, {"100B", 100, "100"},
		{"1025", 1025, "1025"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b ByteSize
			if err := b.Set(tt.in); err != nil {
				t.Fatal(err)
			}
			if b != tt.want || b.String() != tt.str {
				t.Fatalf("got %d %q, want %d %q", b, b.String(), tt.want, tt.str)
			}
			var again ByteSize
			if err := again.Set(b.String()); err != nil || again != b {
				t.Fatalf("String form %q does not parse back", b.String())
			}
		})
	}
	for _, bad := range []string{"", "MB", "-1", "1.2.3KB", "12XB", "99999999999GB"} {
		var b ByteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("%q parsed as %d", bad, b)
		}
	}
}

func TestOverridesUpdate(t *testing.T) {
	c := defaults(t)
	l := NewOverrides(c)
	o := c.Tenant
	o.MaxLineSize = 10
	c.Overrides = map[string]Tenant{"t": o}
	if err := l.Update(c); err != nil {
		t.Fatal(err)
	}
	c.Overrides["t"] = c.Tenant // the caller's map is not shared
	if got := l.Tenant("t").MaxLineSize; got != 10 {
		t.Fatalf("override not in force: %d", got)
	}
	bad := c
	bad.MaxLabelNameLength = 0
	if err := l.Update(bad); err == nil {
		t.Fatal("invalid update accepted")
	}
	if got := l.Tenant("t").MaxLineSize; got != 10 {
		t.Fatal("a failed update changed the limits")
	}
}

func TestRateLimiter(t *testing.T) {
	lim := Tenant{IngestionRateMB: 1, IngestionBurstSizeMB: 2}
	const mib = 1 << 20
	now := time.Unix(1000, 0)
	r := NewRateLimiter()
	steps := []struct {
		name   string
		at     time.Duration
		tenant string
		lim    Tenant
		n      int
		want   bool
	}{
		{"burst available", 0, "a", lim, 2 * mib, true},
		{"bucket empty", 0, "a", lim, 1, false},
		{"other tenant has its own bucket", 0, "b", lim, mib, true},
		{"half a second refills half a MiB", 500 * time.Millisecond, "a", lim, mib / 2, true},
		{"but not more", 500 * time.Millisecond, "a", lim, 1024, false},
		{"larger than the burst never passes", time.Hour, "a", lim, 2*mib + 1, false},
		{"unlimited", time.Hour, "c", Tenant{}, 1 << 40, true},
		{"raised burst: the bucket holds the old burst", 2 * time.Hour, "a", Tenant{IngestionRateMB: 1, IngestionBurstSizeMB: 8}, 3 * mib, false},
		{"raised burst: and fills up to the new one", 2*time.Hour + 6*time.Second, "a", Tenant{IngestionRateMB: 1, IngestionBurstSizeMB: 8}, 8 * mib, true},
	}
	for _, s := range steps {
		if got := r.AllowN(now.Add(s.at), s.tenant, s.lim, s.n); got != s.want {
			t.Fatalf("%s: AllowN = %v, want %v", s.name, got, s.want)
		}
	}
}
