package ingester

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// badgerOptions returns the Badger options for the buffer in dir.
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
		WithNumLevelZeroTables(min(b.NumMemtables+2, 5)).
		WithNumLevelZeroTablesStall(10).
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
