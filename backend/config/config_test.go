package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each testdata/*.bad.yaml must fail to load with exactly the message in
// its .err file; each *.good.yaml must load.
func TestConfigFiles(t *testing.T) {
	bad, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(bad) == 0 {
		t.Fatal("no bad config files")
	}
	for _, f := range bad {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(f + ".err")
			if err != nil {
				t.Fatalf("every bad file needs its expected error in %s.err: %v", f, err)
			}
			_, err = Load([]string{"-config.file=" + f}, io.Discard)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Fatalf("error\n%s\nwant\n%s", got, want)
			}
		})
	}
	good, _ := filepath.Glob("testdata/*.good.yaml")
	for _, f := range good {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load([]string{"-config.file=" + f}, io.Discard); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFlagsOverrideFileAndFileOverridesDefaults(t *testing.T) {
	c, err := Load([]string{"-config.file=testdata/s3.good.yaml", "-server.http-listen-port=4000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.HTTPListenPort != 4000 {
		t.Errorf("flag did not override the file: port %d", c.Server.HTTPListenPort)
	}
	if c.Server.HTTPListenAddress != "127.0.0.1" || !c.AuthEnabled || c.Storage.Backend != "s3" {
		t.Errorf("file did not override defaults: %+v", c.Server)
	}
	if c.Server.GRPCListenPort != 9095 {
		t.Errorf("default lost: grpc port %d", c.Server.GRPCListenPort)
	}
}

func TestEmbeddedDefault(t *testing.T) {
	c, err := Load(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./data" || c.Server.HTTPListenPort != 3100 || c.Server.GRPCListenPort != 9095 ||
		c.Storage.Backend != "filesystem" || c.AuthEnabled || c.Target != "all" {
		t.Fatalf("embedded default changed: %+v", c)
	}
}

func TestYAMLRedactsSecretsAndLoadsBack(t *testing.T) {
	c, err := Load([]string{"-config.file=testdata/s3.good.yaml"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "supersecret") {
		t.Fatalf("secret printed:\n%s", out)
	}
	if !strings.Contains(string(out), "endpoint: minio:9000") {
		t.Fatalf("effective config missing the endpoint:\n%s", out)
	}
	// The printed configuration is itself a valid configuration file.
	f := filepath.Join(t.TempDir(), "printed.yaml")
	if err := os.WriteFile(f, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{"-config.file=" + f}, io.Discard); err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, out)
	}
}
