package ingester

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/lode-logs/lode/backend/chunk"
)

// Config holds the ingester's settings. The flag defaults registered by
// RegisterFlags are the only defaults.
//
// Sync writes (-ingester.sync-writes): without it, an acknowledged Push has
// been written into Badger's memory-mapped files, so it survives a crash of
// the process (kill -9, OOM kill, panic) through the OS page cache, but not
// a crash of the machine or a power loss in the next seconds. With it, each
// Badger commit is also msync'ed before Push returns, which survives power
// loss; concurrent pushes share a flush, but a push costs two (its WAL
// records, then the blocks it completed). Lode replicates every stream to
// three ingesters, so one machine's power loss loses nothing acknowledged
// either way; the default is off. Measured with BenchmarkPush (loggen
// corpus, 100 streams, 2 cores shared with other work, so ranges of two
// runs): pushes of 1 MiB one at a time 48-59 MB/s without sync, 47-49 MB/s
// with; pushes of 64 KiB 56-91 MB/s without, 31-41 MB/s with.
type Config struct {
	SyncWrites        bool          `yaml:"sync_writes"`
	BlockSize         int           `yaml:"block_size"`
	ChunkTargetSize   int           `yaml:"chunk_target_size"`
	MaxChunkAge       time.Duration `yaml:"max_chunk_age"`
	ChunkIdlePeriod   time.Duration `yaml:"chunk_idle_period"`
	ChunkEncoding     string        `yaml:"chunk_encoding"`
	FlushCheckPeriod  time.Duration `yaml:"flush_check_period"`
	ConcurrentFlushes int           `yaml:"concurrent_flushes"`
	FlushBatchSize    int           `yaml:"flush_batch_size"`
	FlushMinBackoff   time.Duration `yaml:"flush_min_backoff"`
	FlushMaxBackoff   time.Duration `yaml:"flush_max_backoff"`
	// ChunkRetainPeriod keeps flushed chunks readable in the ingester for
	// this long, so that a querier whose index replica lags the commit of
	// their refs still finds their entries here.
	ChunkRetainPeriod time.Duration `yaml:"chunk_retain_period"`
	MinFreeDiskSpace  int64         `yaml:"min_free_disk_space"`
	// LeaveFlushTimeout bounds the flush of everything buffered when the
	// node leaves a cluster gracefully.
	LeaveFlushTimeout time.Duration `yaml:"leave_flush_timeout"`
	Badger            BadgerConfig  `yaml:"badger"`
}

// BadgerConfig tunes the Badger database that buffers unflushed data.
//
// The buffer's data is short-lived: WAL records die when their head becomes
// a block (seconds for busy streams), blocks when their chunk is flushed.
// Values of at least ValueThreshold bytes (WAL records, blocks; not block
// metas) go to Badger's value log, written once, instead of its LSM tree,
// which would rewrite them at every compaction and hold them in large
// table-building buffers (tried: 800+ MiB of anonymous memory at 1 GiB
// ingested, and half the throughput). Badger writes the value log through memory-mapped files whose
// pages stay resident in the process until the file is deleted, so the
// defaults make garbage collection quick: a 1 MiB memtable (it holds only
// keys and value pointers, about a second of pushes) flushed and compacted
// at once, so that Badger learns of deleted values soon, value log files
// of 32 MiB, and a collector running every second. Measured while ingesting
// 1 GiB of realistic logs (see large_test.go): peak RSS 371 MiB with 1 MiB
// memtables, 8 MiB value log files and a one-second collector against 1414
// MiB with 16 MiB memtables, 64 MiB value log files and a one-minute
// collector. Badger compression is off (blocks are compressed already), so
// no block cache is needed.
//
// Since WAL records are compressed (FORMAT.md), 1 GiB of lines writes
// about 0.5 GiB to the value log (0.35 of WAL records, 0.16 of blocks)
// instead of 1.2 GiB, and larger files pay: each file costs a sync and a
// remap when full, and files are what the collector picks and rewrites.
// Measured with the lode server and lode-loadgen (1 GiB, 200 streams, 4
// pushers; CPU profiles, Badger's writes and collector as a fraction of
// block encoding, which does the same work in every run; peak file-backed
// RSS; peak RSS; 2 to 4 runs each): 8 MiB files and discard ratio 0.5,
// 26%, 244 MiB, 455 MiB; 32 MiB and 0.5, 19%, 253 MiB, 467 MiB; 32 MiB and
// 0.4, 20%, 234 MiB, 457 MiB; 16 MiB and 0.4, 24%, 240 MiB, 455 MiB. With
// 8 MiB files and 0.4, the peak file-backed RSS fell to 222 MiB but the
// server took 4 CPU-seconds more per GiB (2 runs). Memtables of 2 MiB held
// 20 MiB more value log in memory (large_test.go) for no gain.
type BadgerConfig struct {
	MemTableSize     int64         `yaml:"memtable_size"`
	NumMemtables     int           `yaml:"num_memtables"`
	ValueThreshold   int64         `yaml:"value_threshold"`
	ValueLogFileSize int64         `yaml:"value_log_file_size"`
	BlockCacheSize   int64         `yaml:"block_cache_size"`
	GCInterval       time.Duration `yaml:"gc_interval"`
	GCDiscardRatio   float64       `yaml:"gc_discard_ratio"`
	// ReleaseValueLogPages: see vlogPages.
	ReleaseValueLogPages bool `yaml:"release_value_log_pages"`
}

// RegisterFlags registers the ingester's flags with their defaults.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.BoolVar(&c.SyncWrites, "ingester.sync-writes", false,
		"msync every Badger commit before acknowledging a push (survives power loss; slower). Without it, acknowledged data survives process crashes through the page cache.")
	f.IntVar(&c.BlockSize, "ingester.block-size", 256<<10,
		"Raw size in bytes (lines and metadata) at which a stream's head block is compressed into a block.")
	f.IntVar(&c.ChunkTargetSize, "ingester.chunk-target-size", 1536<<10,
		"Compressed size in bytes at which a chunk is complete.")
	f.DurationVar(&c.MaxChunkAge, "ingester.max-chunk-age", 2*time.Hour,
		"Time span of a chunk, on entry timestamps: chunks cover windows aligned to multiples of this duration.")
	f.DurationVar(&c.ChunkIdlePeriod, "ingester.chunk-idle-period", 30*time.Minute,
		"A chunk is complete when its stream received no entry for this long (wall clock).")
	f.StringVar(&c.ChunkEncoding, "ingester.chunk-encoding", chunk.DefaultCodec.String(),
		"Compression of blocks: none, snappy, s2 or zstd.")
	f.DurationVar(&c.FlushCheckPeriod, "ingester.flush-check-period", 30*time.Second,
		"How often complete chunks are flushed and idle streams checked.")
	f.IntVar(&c.ConcurrentFlushes, "ingester.concurrent-flushes", 16,
		"How many chunks are written to the object store at the same time.")
	f.IntVar(&c.FlushBatchSize, "ingester.flush-batch-size", 256,
		"Most chunk refs committed to the index in one call.")
	f.DurationVar(&c.FlushMinBackoff, "ingester.flush-min-backoff", time.Second,
		"First delay before retrying a chunk whose flush failed; doubles on each failure.")
	f.DurationVar(&c.FlushMaxBackoff, "ingester.flush-max-backoff", 2*time.Minute,
		"Longest delay between retries of a failing chunk flush.")
	f.DurationVar(&c.ChunkRetainPeriod, "ingester.chunk-retain-period", 15*time.Second,
		"How long a flushed chunk stays in the ingester (and in its queries) after its ref is committed to the index, so that queriers whose index replica is a little behind still see its entries (0: dropped at once).")
	f.Int64Var(&c.MinFreeDiskSpace, "ingester.min-free-disk-space", 512<<20,
		"Pushes are refused (5xx) while the buffer's file system has less free space than this many bytes (0 disables the check).")
	f.DurationVar(&c.LeaveFlushTimeout, "ingester.leave-flush-timeout", 5*time.Minute,
		"On a graceful stop of a node with cluster peers (state LEAVING), how long the ingester may take to flush everything it buffers before it leaves; what is not flushed by then stays in Badger.")
	c.Badger.RegisterFlags(f)
}

// RegisterFlags registers the Badger tuning flags.
func (c *BadgerConfig) RegisterFlags(f *flag.FlagSet) {
	f.Int64Var(&c.MemTableSize, "ingester.badger.memtable-size", 1<<20,
		"Size of one Badger memtable in bytes. A transaction holds at most 15% of it, so larger pushes take several commits.")
	f.IntVar(&c.NumMemtables, "ingester.badger.num-memtables", 2,
		"Memtables kept in memory (one active, the rest waiting to be written to level 0).")
	f.Int64Var(&c.ValueThreshold, "ingester.badger.value-threshold", 128,
		"Values at least this large go to Badger's value log rather than its LSM tree.")
	f.Int64Var(&c.ValueLogFileSize, "ingester.badger.value-log-file-size", 32<<20,
		"Size of one Badger value log file; smaller files are garbage-collected sooner, larger ones cost less CPU.")
	f.Int64Var(&c.BlockCacheSize, "ingester.badger.block-cache-size", 0,
		"Badger block cache in bytes (0: none; not needed while Badger compression is off).")
	f.DurationVar(&c.GCInterval, "ingester.badger.gc-interval", time.Second,
		"How often Badger's value log is garbage-collected.")
	f.Float64Var(&c.GCDiscardRatio, "ingester.badger.gc-discard-ratio", 0.4,
		"A value log file is rewritten once this fraction of it is garbage: lower keeps fewer files (less disk and memory), higher rewrites long-lived data less often (less CPU).")
	f.BoolVar(&c.ReleaseValueLogPages, "ingester.badger.release-value-log-pages", true,
		"Linux: every 250ms, write back and release from memory the pages of value log files Badger no longer writes, which its memory map otherwise keeps resident (a later read loads them again). Off, the kernel reclaims them only under memory pressure.")
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.BlockSize < 1<<10:
		return errors.New("ingester.block-size must be at least 1024")
	case c.ChunkTargetSize < 1<<10:
		return errors.New("ingester.chunk-target-size must be at least 1024")
	case c.MaxChunkAge <= 0:
		return errors.New("ingester.max-chunk-age must be positive")
	case c.MaxChunkAge > 7*24*time.Hour:
		// The index stores a ref once per 24h period it covers, at most 8.
		return errors.New("ingester.max-chunk-age must be at most 168h")
	case c.ChunkIdlePeriod <= 0:
		return errors.New("ingester.chunk-idle-period must be positive")
	case c.FlushCheckPeriod <= 0:
		return errors.New("ingester.flush-check-period must be positive")
	case c.ConcurrentFlushes < 1:
		return errors.New("ingester.concurrent-flushes must be at least 1")
	case c.FlushBatchSize < 1:
		return errors.New("ingester.flush-batch-size must be at least 1")
	case c.FlushMinBackoff <= 0:
		return errors.New("ingester.flush-min-backoff must be positive")
	case c.FlushMaxBackoff < c.FlushMinBackoff:
		return errors.New("ingester.flush-max-backoff must not be less than ingester.flush-min-backoff")
	case c.ChunkRetainPeriod < 0:
		return errors.New("ingester.chunk-retain-period must not be negative")
	case c.MinFreeDiskSpace < 0:
		return errors.New("ingester.min-free-disk-space must not be negative")
	case c.LeaveFlushTimeout <= 0:
		return errors.New("ingester.leave-flush-timeout must be positive")
	}
	if _, err := parseCodec(c.ChunkEncoding); err != nil {
		return err
	}
	return c.Badger.Validate()
}

// Validate reports the first invalid Badger setting.
func (c *BadgerConfig) Validate() error {
	switch {
	case c.MemTableSize < 1<<20:
		return errors.New("ingester.badger.memtable-size must be at least 1 MiB")
	case c.NumMemtables < 1:
		return errors.New("ingester.badger.num-memtables must be at least 1")
	case c.ValueThreshold < 1 || c.ValueThreshold > 1<<20:
		return errors.New("ingester.badger.value-threshold must be between 1 and 1 MiB")
	case c.ValueThreshold > c.MemTableSize/10:
		return errors.New("ingester.badger.value-threshold must not exceed 10% of ingester.badger.memtable-size")
	case c.ValueLogFileSize < 4<<20 || c.ValueLogFileSize >= 2<<30:
		return errors.New("ingester.badger.value-log-file-size must be at least 4 MiB and less than 2 GiB")
	case c.BlockCacheSize < 0:
		return errors.New("ingester.badger.block-cache-size must not be negative")
	case c.GCInterval <= 0:
		return errors.New("ingester.badger.gc-interval must be positive")
	case c.GCDiscardRatio <= 0 || c.GCDiscardRatio >= 1:
		return errors.New("ingester.badger.gc-discard-ratio must be between 0 and 1 (exclusive)")
	}
	return nil
}

// parseCodec maps a codec name to the chunk codec.
func parseCodec(name string) (chunk.Codec, error) {
	for c := chunk.CodecNone; c.Valid(); c++ {
		if c.String() == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("ingester.chunk-encoding: unknown codec %q", name)
}
