package limits

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/internal/loop"
)

// RuntimeConfig is the file of per-tenant overrides read again while Lode
// runs (Loki's runtime configuration):
//
//	overrides:
//	  team-a:
//	    retention_period: 168h
//	    ingestion_rate_mb: 10
//
// Each override starts from the default limits and changes the keys it
// names; it replaces an override of the same tenant in the main
// configuration.
type RuntimeConfig struct {
	File         string        `yaml:"file"`
	ReloadPeriod time.Duration `yaml:"period"`
}

// RegisterFlags registers the runtime configuration flags.
func (c *RuntimeConfig) RegisterFlags(f *flag.FlagSet) {
	f.StringVar(&c.File, "runtime-config.file", "",
		"YAML file of per-tenant limit overrides (overrides: {tenant: {limit: value}}), read again while Lode runs. Empty: none.")
	f.DurationVar(&c.ReloadPeriod, "runtime-config.reload-period", 10*time.Second,
		"How often the runtime configuration file is read again.")
}

// Validate reports the first invalid setting.
func (c *RuntimeConfig) Validate() error {
	if c.ReloadPeriod <= 0 {
		return errors.New("runtime-config.reload-period must be positive")
	}
	return nil
}

// ParseRuntimeOverrides decodes a runtime configuration document into
// per-tenant limits, each starting from defaults. Unknown keys are errors.
// An empty document has no overrides.
func ParseRuntimeOverrides(data []byte, defaults Tenant) (map[string]Tenant, error) {
	var doc struct {
		Overrides map[string]yaml.Node `yaml:"overrides"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	out := make(map[string]Tenant, len(doc.Overrides))
	for id, node := range doc.Overrides {
		if id == "" {
			return nil, fmt.Errorf("%w: overrides for an empty tenant ID", ErrInvalidLimit)
		}
		t := defaults
		// Through an encoder and a strict decoder rather than node.Decode,
		// which cannot refuse unknown keys.
		var buf bytes.Buffer
		if err := yaml.NewEncoder(&buf).Encode(&node); err != nil {
			return nil, fmt.Errorf("overrides for tenant %q: %w", id, err)
		}
		d := yaml.NewDecoder(&buf)
		d.KnownFields(true)
		if err := d.Decode(&t); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("overrides for tenant %q: %w", id, err)
		}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("overrides for tenant %q: %w", id, err)
		}
		out[id] = t
	}
	return out, nil
}

// RuntimeLoader applies a runtime configuration file to Overrides: at
// start (an invalid file is an error then) and every reload period after
// (an invalid file is logged and counted, and the limits in force stay).
type RuntimeLoader struct {
	cfg    RuntimeConfig
	base   Config // the main configuration's limits
	target *Overrides
	logger *slog.Logger
	last   [sha256.Size]byte

	ok      prometheus.Gauge
	reloads *prometheus.CounterVec
}

// NewRuntimeLoader loads cfg.File into target (over base) and returns the
// loader that keeps it up to date; nil when no file is configured.
func NewRuntimeLoader(cfg RuntimeConfig, base Config, target *Overrides, reg prometheus.Registerer, logger *slog.Logger) (*RuntimeLoader, error) {
	if cfg.File == "" {
		return nil, nil
	}
	f := promauto.With(reg)
	l := &RuntimeLoader{cfg: cfg, base: base, target: target, logger: logger,
		ok: f.NewGauge(prometheus.GaugeOpts{Name: "lode_runtime_config_last_reload_successful",
			Help: "1 if the runtime configuration file was last read and applied without error."}),
		reloads: f.NewCounterVec(prometheus.CounterOpts{Name: "lode_runtime_config_reloads_total",
			Help: "Reads of the runtime configuration file that changed it, by result (success, failure)."}, []string{"result"}),
	}
	if _, err := l.reload(); err != nil {
		return nil, fmt.Errorf("runtime config %s: %w", cfg.File, err)
	}
	return l, nil
}

// Run reloads the file every reload period until ctx ends.
func (l *RuntimeLoader) Run(ctx context.Context) {
	loop.Every(ctx, l.cfg.ReloadPeriod, func() bool {
		if changed, err := l.reload(); err != nil {
			l.logger.Error("runtime config not applied; the limits in force stay", "file", l.cfg.File, "err", err)
		} else if changed {
			l.logger.Info("runtime config applied", "file", l.cfg.File)
		}
		return true
	})
}

// reload reads the file and, if its content changed, applies it. A
// content that failed is not tried again until it changes.
func (l *RuntimeLoader) reload() (changed bool, err error) {
	data, err := os.ReadFile(l.cfg.File)
	if err != nil {
		l.ok.Set(0)
		l.reloads.WithLabelValues("failure").Inc()
		return false, err
	}
	sum := sha256.Sum256(data)
	if sum == l.last {
		return false, nil
	}
	l.last = sum
	if err := l.apply(data); err != nil {
		l.ok.Set(0)
		l.reloads.WithLabelValues("failure").Inc()
		return true, err
	}
	l.ok.Set(1)
	l.reloads.WithLabelValues("success").Inc()
	return true, nil
}

func (l *RuntimeLoader) apply(data []byte) error {
	runtime, err := ParseRuntimeOverrides(data, l.base.Tenant)
	if err != nil {
		return err
	}
	cfg := l.base
	cfg.Overrides = maps.Clone(l.base.Overrides)
	if cfg.Overrides == nil {
		cfg.Overrides = map[string]Tenant{}
	}
	maps.Copy(cfg.Overrides, runtime)
	return l.target.Update(cfg)
}
