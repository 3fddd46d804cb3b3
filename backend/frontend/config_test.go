package frontend

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.RegisterFlags(flag.NewFlagSet("t", flag.PanicOnError))
	want := Config{SplitInterval: 6 * time.Hour, MaxParallelism: 8, CacheMB: 64, CacheFreshness: 10 * time.Minute}
	if c != want {
		t.Fatalf("defaults %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // "" for valid
	}{
		{"splitting off", []string{"-frontend.split-interval=0"}, ""},
		{"downstreams", []string{"-frontend.downstream-url=http://a:3100, https://b/lode ,"}, ""},
		{"negative split", []string{"-frontend.split-interval=-1h"}, "-frontend.split-interval must not be negative"},
		{"tiny split", []string{"-frontend.split-interval=1us"}, "at least 1ms"},
		{"no parallelism", []string{"-frontend.max-parallelism=0"}, "-frontend.max-parallelism must be at least 1"},
		{"negative cache", []string{"-frontend.cache-mb=-1"}, "-frontend.cache-mb must not be negative"},
		{"negative freshness", []string{"-frontend.max-cache-freshness=-1s"}, "-frontend.max-cache-freshness must not be negative"},
		{"bad downstream", []string{"-frontend.downstream-url=a:3100"}, `invalid downstream URL: "a:3100"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			f := flag.NewFlagSet("t", flag.ContinueOnError)
			c.RegisterFlags(f)
			if err := f.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	var c Config
	c.DownstreamURL = " http://a:3100 ,,http://b:3100"
	if got := c.DownstreamURLs(); len(got) != 2 || got[0] != "http://a:3100" || got[1] != "http://b:3100" {
		t.Fatalf("DownstreamURLs %q", got)
	}
}
