package limits

import (
	"flag"
	"fmt"
	"maps"
	"slices"
)

// Config is the limits section of Lode's configuration: the default limits
// inline, and per-tenant overrides:
//
//	max_line_size: 256KiB
//	ingestion_rate_mb: 64
//	overrides:
//	  team-a:
//	    ingestion_rate_mb: 200
//	    max_label_names_per_series: 20
//
// An override starts from the defaults and changes only the keys it names.
type Config struct {
	Tenant    `yaml:",inline"`
	Overrides map[string]Tenant `yaml:"overrides,omitempty"`
}

// RegisterFlags registers the default limits (see Tenant.RegisterFlags).
// Overrides are YAML-only.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	c.Tenant.RegisterFlags(f)
}

// Validate checks the defaults and every override.
func (c *Config) Validate() error {
	if err := c.Tenant.Validate(); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(c.Overrides)) {
		if id == "" {
			return fmt.Errorf("%w: overrides for an empty tenant ID", ErrInvalidLimit)
		}
		t := c.Overrides[id]
		if err := t.Validate(); err != nil {
			return fmt.Errorf("overrides for tenant %q: %w", id, err)
		}
	}
	return nil
}

// UnmarshalYAML reads the defaults over the values already in c (the flag
// defaults), then each override over a copy of the resulting defaults. It
// uses the decoder-neutral unmarshal callback, so it works with any YAML
// library that supports it (gopkg.in/yaml.v3, go.yaml.in/yaml/v3, v2).
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	raw := limitsYAML{Tenant: c.Tenant}
	if err := unmarshal(&raw); err != nil {
		return err
	}
	c.Tenant = raw.Tenant
	c.Overrides = nil
	if len(raw.Overrides) > 0 {
		c.Overrides = make(map[string]Tenant, len(raw.Overrides))
	}
	for id, d := range raw.Overrides {
		t := c.Tenant
		if d != nil && d.unmarshal != nil {
			if err := d.unmarshal(&t); err != nil {
				return fmt.Errorf("overrides for tenant %q: %w", id, err)
			}
		}
		c.Overrides[id] = t
	}
	return nil
}

// limitsYAML is Config as read from YAML, overrides not decoded yet.
type limitsYAML struct {
	Tenant    `yaml:",inline"`
	Overrides map[string]*deferredYAML `yaml:"overrides"`
}

// deferredYAML keeps a YAML node's unmarshal callback to decode it later,
// onto a value prepared after the rest of the document was read.
type deferredYAML struct {
	unmarshal func(any) error
}

func (d *deferredYAML) UnmarshalYAML(unmarshal func(any) error) error {
	d.unmarshal = unmarshal
	return nil
}
