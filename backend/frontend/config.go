package frontend

import (
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config holds the query frontend's settings.
type Config struct {
	// SplitInterval is the width of the time intervals a range query is
	// split into; 0 disables splitting (and with it the cache).
	SplitInterval time.Duration `yaml:"split_interval"`
	// MaxParallelism bounds the sub-queries in flight for one query.
	MaxParallelism int `yaml:"max_parallelism"`
	// CacheMB bounds the results cache in MiB; 0 disables it.
	CacheMB int64 `yaml:"cache_mb"`
	// CacheFreshness: parts ending later than now minus this are never
	// cached (recent data may still arrive).
	CacheFreshness time.Duration `yaml:"max_cache_freshness"`
	// DownstreamURL lists, comma-separated, the base URLs of the queriers
	// a stand-alone frontend (-target=query-frontend) forwards to.
	DownstreamURL string `yaml:"downstream_url"`
}

// RegisterFlags registers the frontend flags.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.DurationVar(&c.SplitInterval, "frontend.split-interval", 6*time.Hour,
		"Range queries are split into parts at multiples of this interval, run in parallel and merged (0 disables splitting and caching).")
	f.IntVar(&c.MaxParallelism, "frontend.max-parallelism", 8,
		"Most sub-queries of one query in flight at once.")
	f.Int64Var(&c.CacheMB, "frontend.cache-mb", 64,
		"Memory for cached results of finished query parts (MiB; 0: no cache).")
	f.DurationVar(&c.CacheFreshness, "frontend.max-cache-freshness", 10*time.Minute,
		"Query parts ending later than now minus this are never cached.")
	f.StringVar(&c.DownstreamURL, "frontend.downstream-url", "",
		"Comma-separated base URLs of the queriers' HTTP API (e.g. http://querier-1:3100). Used only by -target=query-frontend.")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.SplitInterval < 0 {
		return fmt.Errorf("-frontend.split-interval must not be negative, got %s", c.SplitInterval)
	}
	if c.SplitInterval > 0 && c.SplitInterval < time.Millisecond {
		return fmt.Errorf("-frontend.split-interval must be 0 or at least 1ms, got %s", c.SplitInterval)
	}
	if c.MaxParallelism < 1 {
		return fmt.Errorf("-frontend.max-parallelism must be at least 1, got %d", c.MaxParallelism)
	}
	if c.CacheMB < 0 {
		return fmt.Errorf("-frontend.cache-mb must not be negative, got %d", c.CacheMB)
	}
	if c.CacheFreshness < 0 {
		return fmt.Errorf("-frontend.max-cache-freshness must not be negative, got %s", c.CacheFreshness)
	}
	for _, u := range c.DownstreamURLs() {
		if _, err := parseDownstreamURL(u); err != nil {
			return fmt.Errorf("-frontend.downstream-url: %w", err)
		}
	}
	return nil
}

// DownstreamURLs returns the entries of DownstreamURL, trimmed, empty ones
// left out.
func (c *Config) DownstreamURLs() []string {
	var out []string
	for _, s := range strings.Split(c.DownstreamURL, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseDownstreamURL checks that s is an absolute http(s) URL without query
// or fragment.
func parseDownstreamURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalidURL, s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %q: scheme must be http or https", ErrInvalidURL, s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: %q: no host", ErrInvalidURL, s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: %q: must not have a query or fragment", ErrInvalidURL, s)
	}
	return u, nil
}
