package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/api"
	"github.com/lode-logs/lode/backend/cluster"
	"github.com/lode-logs/lode/backend/distributor"
	"github.com/lode-logs/lode/backend/frontend"
	"github.com/lode-logs/lode/backend/ingester"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/objstore"
	"github.com/lode-logs/lode/backend/querier"
	"github.com/lode-logs/lode/backend/retention"
)

// Config is the whole configuration of a lode process.
type Config struct {
	Target      string             `yaml:"target"`
	AuthEnabled bool               `yaml:"auth_enabled"`
	DataDir     string             `yaml:"data_dir"`
	LogLevel    string             `yaml:"log_level"`
	MemoryLimit int64              `yaml:"memory_limit_mb"`
	Server      api.Config         `yaml:"server"`
	Storage     objstore.Config    `yaml:"storage"`
	Cluster     cluster.Config     `yaml:"cluster"`
	Ingester    ingester.Config    `yaml:"ingester"`
	Distributor distributor.Config `yaml:"distributor"`
	Limits      limits.Config      `yaml:"limits"`
	Querier     querier.Config     `yaml:"querier"`
	Frontend    frontend.Config    `yaml:"frontend"`
	Retention   retention.Config   `yaml:"retention"`
	// RuntimeConfig names the file of per-tenant overrides read again
	// while Lode runs.
	RuntimeConfig limits.RuntimeConfig `yaml:"runtime_config"`
}

// RegisterFlags registers every flag of every section.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.StringVar(&c.Target, "target", "all", "Comma-separated roles this process runs: all, or distributor, ingester, querier, query-frontend.")
	f.BoolVar(&c.AuthEnabled, "auth.enabled", false, "Require X-Scope-OrgID on every request (multi-tenancy); when off every request belongs to tenant \"fake\".")
	f.StringVar(&c.DataDir, "data.dir", "./data", "Directory for Badger, Raft and (with the filesystem backend) chunks.")
	f.StringVar(&c.LogLevel, "log.level", "info", "Log level: debug, info, warn or error.")
	f.Int64Var(&c.MemoryLimit, "memory-limit-mb", 256, "Soft limit of the Go heap in MiB (the GC works harder near it; 0: none). The GOMEMLIMIT environment variable overrides it.")
	c.Server.RegisterFlags(f)
	c.Storage.RegisterFlags(f)
	c.Cluster.RegisterFlags(f)
	c.Ingester.RegisterFlags(f)
	c.Distributor.RegisterFlags(f)
	c.Limits.RegisterFlags(f)
	c.Querier.RegisterFlags(f)
	c.Frontend.RegisterFlags(f)
	c.Retention.RegisterFlags(f)
	c.RuntimeConfig.RegisterFlags(f)
}

// Validate checks every section and joins their errors.
func (c *Config) Validate() error {
	var errs []error
	if r, err := ParseTarget(c.Target); err != nil {
		errs = append(errs, err)
	} else if r.Frontend && !r.Querier && len(c.Frontend.DownstreamURLs()) == 0 {
		errs = append(errs, errors.New("target query-frontend without querier needs -frontend.downstream-url"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data.dir must not be empty"))
	}
	if c.MemoryLimit < 0 {
		errs = append(errs, fmt.Errorf("memory-limit-mb must not be negative, got %d", c.MemoryLimit))
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	for _, v := range []interface{ Validate() error }{
		&c.Server, &c.Storage, &c.Cluster, &c.Ingester, &c.Distributor, &c.Limits, &c.Querier, &c.Frontend, &c.Retention, &c.RuntimeConfig,
	} {
		if err := v.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ParseLogLevel parses a -log.level value.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log.level %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// Load builds the configuration from command-line arguments: defaults,
// then the -config.file YAML, then the flags given. Errors name the flag,
// key or line at fault. output receives flag usage on -help.
func Load(args []string, output io.Writer) (*Config, error) {
	c := &Config{}
	f := flag.NewFlagSet("lode", flag.ContinueOnError)
	f.SetOutput(output)
	var file string
	f.StringVar(&file, "config.file", "", "YAML configuration file; flags given on the command line override it.")
	c.RegisterFlags(f)
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	if f.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: lode takes flags only", f.Arg(0))
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		if err := decodeYAML(b, c); err != nil {
			return nil, fmt.Errorf("config file %s: %w", file, err)
		}
		// Flags given on the command line win over the file.
		if err := f.Parse(args); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return c, nil
}

func decodeYAML(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err := dec.Decode(c)
	var te *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &te):
		return errors.New(strings.Join(te.Errors, "; "))
	default:
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
}

// YAML returns the effective configuration as YAML, secrets redacted.
func (c *Config) YAML() ([]byte, error) {
	return yaml.Marshal(c)
}
