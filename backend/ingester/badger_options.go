package ingester

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/skl"
)

// badgerOptions returns the Badger options for the buffer in dir (see
// BadgerConfig for the reasoning). A level-0 table is compacted as soon as
// it exists: tables hold only keys and value pointers, so compactions are
// cheap, and they are what tells the value log collector which values died.
func badgerOptions(dir string, cfg *Config, logger *slog.Logger) badger.Options {
	b := &cfg.Badger
	return badger.DefaultOptions(dir).
		WithSyncWrites(cfg.SyncWrites).
		WithLogger(badgerLogger{logger}).
		WithMetricsEnabled(false). // Badger's metrics are process-global expvars
		WithDetectConflicts(false).
		WithCompression(options.None).
		WithBlockCacheSize(b.BlockCacheSize).
		WithIndexCacheSize(0).
		WithMemTableSize(b.MemTableSize).
		WithNumMemtables(b.NumMemtables).
		WithNumLevelZeroTables(1).
		WithNumLevelZeroTablesStall(8).
		WithValueThreshold(b.ValueThreshold).
		WithValueLogFileSize(b.ValueLogFileSize).
		WithNumCompactors(2).
		WithNumVersionsToKeep(1).
		WithCompactL0OnClose(false)
}

// badgerLogger sends Badger's log lines to slog. Badger's informational
// lines (compactions, value log rotation) are logged at debug level.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) log(level slog.Level, format string, args ...any) {
	if !b.l.Enabled(context.Background(), level) {
		return
	}
	b.l.Log(context.Background(), level, strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "badger")
}

func (b badgerLogger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a...) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a...) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a...) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.log(slog.LevelDebug-4, f, a...) }

// txnLimits returns how many entries, and how many bytes as entrySize
// counts them, one Badger transaction may hold, with a 10% margin. Badger
// allows 15% of a memtable, counting each entry as a skiplist node for the
// count.
func txnLimits(opts badger.Options) (count int, size int64) {
	maxSize := opts.MemTableSize * 15 / 100
	return int(maxSize/int64(skl.MaxNodeSize)) * 9 / 10, maxSize * 9 / 10
}

// entrySize is what Badger charges a transaction for one entry: key and
// value, or key and value pointer for values that go to the value log,
// plus metadata.
func entrySize(opts badger.Options, key, val int) int64 {
	if int64(val) < opts.ValueThreshold {
		return int64(key+val) + 12
	}
	return int64(key) + 24
}
