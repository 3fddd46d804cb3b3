package ingester

import (
	"flag"
	"testing"
	"time"
)

func TestConfigDefaultsAreValid(t *testing.T) {
	cfg := defaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	f := flag.NewFlagSet("x", flag.ContinueOnError)
	var c Config
	c.RegisterFlags(f)
	if err := f.Parse([]string{"-ingester.sync-writes", "-ingester.block-size=65536", "-ingester.chunk-encoding=snappy"}); err != nil {
		t.Fatal(err)
	}
	if !c.SyncWrites || c.BlockSize != 65536 || c.ChunkEncoding != "snappy" {
		t.Fatalf("flags not applied: %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"block size", func(c *Config) { c.BlockSize = 100 }, "ingester.block-size must be at least 1024"},
		{"chunk size", func(c *Config) { c.ChunkTargetSize = 0 }, "ingester.chunk-target-size must be at least 1024"},
		{"max age", func(c *Config) { c.MaxChunkAge = 0 }, "ingester.max-chunk-age must be positive"},
		{"max age over a week", func(c *Config) { c.MaxChunkAge = 8 * 24 * time.Hour }, "ingester.max-chunk-age must be at most 168h"},
		{"idle", func(c *Config) { c.ChunkIdlePeriod = -time.Second }, "ingester.chunk-idle-period must be positive"},
		{"check period", func(c *Config) { c.FlushCheckPeriod = 0 }, "ingester.flush-check-period must be positive"},
		{"concurrency", func(c *Config) { c.ConcurrentFlushes = 0 }, "ingester.concurrent-flushes must be at least 1"},
		{"batch", func(c *Config) { c.FlushBatchSize = 0 }, "ingester.flush-batch-size must be at least 1"},
		{"min backoff", func(c *Config) { c.FlushMinBackoff = 0 }, "ingester.flush-min-backoff must be positive"},
		{"max backoff", func(c *Config) { c.FlushMaxBackoff = time.Millisecond },
			"ingester.flush-max-backoff must not be less than ingester.flush-min-backoff"},
		{"free space", func(c *Config) { c.MinFreeDiskSpace = -1 }, "ingester.min-free-disk-space must not be negative"},
		{"codec", func(c *Config) { c.ChunkEncoding = "gzip" }, `ingester.chunk-encoding: unknown codec "gzip"`},
		{"memtable", func(c *Config) { c.Badger.MemTableSize = 1 << 10 }, "ingester.badger.memtable-size must be at least 1 MiB"},
		{"memtables", func(c *Config) { c.Badger.NumMemtables = 0 }, "ingester.badger.num-memtables must be at least 1"},
		{"threshold", func(c *Config) { c.Badger.ValueThreshold = 2 << 20 }, "ingester.badger.value-threshold must be between 1 and 1 MiB"},
		{"threshold vs memtable", func(c *Config) { c.Badger.MemTableSize, c.Badger.ValueThreshold = 1<<20, 1<<19 },
			"ingester.badger.value-threshold must not exceed 10% of ingester.badger.memtable-size"},
		{"vlog size", func(c *Config) { c.Badger.ValueLogFileSize = 2 << 30 },
			"ingester.badger.value-log-file-size must be at least 4 MiB and less than 2 GiB"},
		{"cache", func(c *Config) { c.Badger.BlockCacheSize = -1 }, "ingester.badger.block-cache-size must not be negative"},
		{"gc", func(c *Config) { c.Badger.GCInterval = 0 }, "ingester.badger.gc-interval must be positive"},
		{"gc ratio", func(c *Config) { c.Badger.GCDiscardRatio = 1 }, "ingester.badger.gc-discard-ratio must be between 0 and 1 (exclusive)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaultConfig()
			c.mod(&cfg)
			err := cfg.Validate()
			if err == nil || err.Error() != c.want {
				t.Fatalf("Validate: %v, want %q", err, c.want)
			}
		})
	}
}
