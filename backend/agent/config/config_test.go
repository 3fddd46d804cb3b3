package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, path string, args ...string) (*Config, error) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &c, c.Load(path, false)
}

func TestBadConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			_, err = load(t, f)
			if err == nil {
				t.Fatal("loaded")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
		})
	}
}

func TestGoodConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := load(t, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDefaultsAndOverrides(t *testing.T) {
	c, err := load(t, "testdata/promtail.good.yaml", "-client.timeout=3s", "-client.external-labels=host=n1")
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Clients[0]
	if cl.BatchWait != 2*time.Second || cl.BatchSize != 512<<10 || cl.Timeout != 5*time.Second || cl.Backoff.MaxRetries != 20 {
		t.Fatalf("client %+v", cl)
	}
	if cl.HTTP.BasicAuth == nil || cl.HTTP.BasicAuth.Username != "u" || !cl.HTTP.TLSConfig.InsecureSkipVerify || !cl.HTTP.FollowRedirects {
		t.Fatalf("http %+v", cl.HTTP)
	}
	if c.ExtraLabels["host"] != "n1" || c.Limits.MaxLineSize != 1<<20 || c.Positions.SyncPeriod != 5*time.Second {
		t.Fatalf("config %+v", c)
	}
	c, err = load(t, "testdata/minimal.good.yaml", "-client.timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	if cl := c.Clients[0]; cl.Timeout != 3*time.Second || cl.BatchWait != time.Second || cl.BatchSize != 1<<20 || cl.Backoff.MinPeriod != 500*time.Millisecond {
		t.Fatalf("flag defaults not applied: %+v", cl)
	}
	if c.Positions.Filename != "/var/log/positions.yaml" || c.Target.InitialPosition != "start" {
		t.Fatalf("defaults %+v", c)
	}
}

func TestExpandEnv(t *testing.T) {
	t.Setenv("LODE_URL", "http://x:3100")
	got := ExpandEnv("url: ${LODE_URL}/push ${MISSING:-dflt} ${MISSING}")
	if got != "url: http://x:3100/push dflt " {
		t.Fatalf("got %q", got)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"512": 512, "8kb": 8 << 10, "256KiB": 256 << 10, "2MB": 2 << 20, "1GiB": 1 << 30, "1.5k": 1536} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := ParseByteSize("12 parsecs"); err == nil {
		t.Error("bad unit accepted")
	}
}
