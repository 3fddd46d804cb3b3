package objstore

import (
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func defaultConfig(t *testing.T, args ...string) Config {
	t.Helper()
	var cfg Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse flags: %v", err)
	}
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	cfg := defaultConfig(t)
	want := Config{Backend: BackendFilesystem, S3: S3Config{Bucket: "lode"}}
	if cfg != want {
		t.Fatalf("defaults = %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	s3 := []string{"-storage.backend=s3", "-storage.s3.endpoint=127.0.0.1:9000"}
	cases := []struct {
		name string
		args []string
		want string // exact error; "" means valid
	}{
		{"filesystem", nil, ""},
		{"filesystem ignores s3 settings", []string{"-storage.s3.endpoint=http://x"}, ""},
		{"s3", s3, ""},
		{"s3 with credentials", append(s3, "-storage.s3.access-key-id=a", "-storage.s3.secret-access-key=b"), ""},
		{"s3 on aws", []string{"-storage.backend=s3", "-storage.s3.endpoint=s3.eu-west-1.amazonaws.com", "-storage.s3.region=eu-west-1"}, ""},
		{"unknown backend", []string{"-storage.backend=gcs"},
			`invalid -storage.backend "gcs": must be "filesystem" or "s3"`},
		{"s3 without endpoint", []string{"-storage.backend=s3"},
			"-storage.s3.endpoint is required when -storage.backend=s3"},
		{"s3 endpoint with scheme", []string{"-storage.backend=s3", "-storage.s3.endpoint=http://minio:9000"},
			`invalid -storage.s3.endpoint "http://minio:9000": give host[:port] without a scheme (use -storage.s3.insecure for plain HTTP)`},
		{"s3 endpoint with path", []string{"-storage.backend=s3", "-storage.s3.endpoint=minio:9000/lode"},
			`invalid -storage.s3.endpoint "minio:9000/lode": give host[:port] without a path`},
		{"s3 empty bucket", append(s3, "-storage.s3.bucket="),
			"-storage.s3.bucket is required when -storage.backend=s3"},
		{"s3 bad bucket", append(s3, "-storage.s3.bucket=Lode_Chunks"),
			`invalid -storage.s3.bucket "Lode_Chunks": Bucket name contains invalid characters`},
		{"s3 key without secret", append(s3, "-storage.s3.access-key-id=a"),
			"-storage.s3.access-key-id and -storage.s3.secret-access-key must be set together"},
		{"s3 secret without key", append(s3, "-storage.s3.secret-access-key=b"),
			"-storage.s3.access-key-id and -storage.s3.secret-access-key must be set together"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaultConfig(t, c.args...)
			err := cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("Validate() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestConfigDir(t *testing.T) {
	cases := []struct {
		name, flagDir, dataDir, want string
	}{
		{"default under data dir", "", "/var/lib/lode", filepath.Join("/var/lib/lode", "chunks")},
		{"relative data dir", "", "data", filepath.Join("data", "chunks")},
		{"explicit dir wins", "/mnt/chunks", "/var/lib/lode", "/mnt/chunks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaultConfig(t, "-storage.filesystem.dir="+c.flagDir)
			if got := cfg.Dir(c.dataDir); got != c.want {
				t.Fatalf("Dir(%q) = %q, want %q", c.dataDir, got, c.want)
			}
		})
	}
}

func TestSecretIsRedacted(t *testing.T) {
	cfg := defaultConfig(t, "-storage.backend=s3", "-storage.s3.endpoint=h:1",
		"-storage.s3.access-key-id=AKID", "-storage.s3.secret-access-key=hunter2")
	if got := string(cfg.S3.SecretAccessKey); got != "hunter2" {
		t.Fatalf("flag value = %q, want the secret itself", got)
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	renderings := map[string]string{
		"yaml": string(y),
		"json": string(j),
		"%v":   fmt.Sprintf("%v", cfg),
		"%+v":  fmt.Sprintf("%+v", cfg),
		"%#v":  fmt.Sprintf("%#v", cfg),
		"%s":   fmt.Sprintf("%s", cfg.S3.SecretAccessKey),
	}
	for name, out := range renderings {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, "hunter2") {
				t.Fatalf("secret leaked in %s:\n%s", name, out)
			}
			if !strings.Contains(out, "<secret>") && !strings.Contains(out, `\u003csecret\u003e`) {
				t.Fatalf("no redaction marker in %s:\n%s", name, out)
			}
		})
	}
	if !strings.Contains(string(y), "secret_access_key: <secret>") || !strings.Contains(string(y), "access_key_id: AKID") {
		t.Fatalf("unexpected YAML:\n%s", y)
	}
	var unset Secret
	if out, _ := yaml.Marshal(struct{ S Secret }{unset}); strings.Contains(string(out), "<secret>") {
		t.Fatalf("an unset secret renders as set: %s", out)
	}
}
