package limits

import (
	"maps"
	"sync/atomic"
)

// Overrides resolves tenants to their limits: the defaults, or the
// tenant's override. It is goroutine-safe: Tenant may run concurrently
// with Update.
type Overrides struct {
	cfg atomic.Pointer[Config] // replaced whole by Update, never modified
}

// NewOverrides returns the limits of cfg, which must have passed Validate
// (the configuration is validated once, when loaded).
func NewOverrides(cfg Config) *Overrides {
	o := &Overrides{}
	o.store(cfg)
	return o
}

// Update validates cfg and makes it the one Tenant answers from (for
// run-time reloads of the overrides). On error nothing changes.
func (o *Overrides) Update(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	o.store(cfg)
	return nil
}

func (o *Overrides) store(cfg Config) {
	cfg.Overrides = maps.Clone(cfg.Overrides)
	o.cfg.Store(&cfg)
}

// Tenant returns the limits of tenant id: its override, or the defaults.
func (o *Overrides) Tenant(id string) Tenant {
	cfg := o.cfg.Load()
	if t, ok := cfg.Overrides[id]; ok {
		return t
	}
	return cfg.Tenant
}

// Config returns the configuration in force (for /config). The caller must
// not modify its Overrides map.
func (o *Overrides) Config() Config { return *o.cfg.Load() }
