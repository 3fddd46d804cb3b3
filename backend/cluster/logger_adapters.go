package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// newRaftLogger returns an hclog.Logger (what raft and raft-wal take) that
// forwards Info and above to l.
func newRaftLogger(l *slog.Logger) hclog.Logger {
	il := hclog.NewInterceptLogger(&hclog.LoggerOptions{
		Name:   "raft",
		Level:  hclog.Info,
		Output: io.Discard,
	})
	il.RegisterSink(hclogSink{l: l})
	return il
}

type hclogSink struct{ l *slog.Logger }

func (s hclogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	var lv slog.Level
	switch {
	case level >= hclog.Error:
		lv = slog.LevelError
	case level == hclog.Warn:
		lv = slog.LevelWarn
	case level == hclog.Info:
		lv = slog.LevelInfo
	default:
		return
	}
	if !s.l.Enabled(context.Background(), lv) {
		return
	}
	attrs := make([]any, 0, len(args)+2)
	attrs = append(attrs, "component", name)
	for i := 0; i+1 < len(args); i += 2 {
		attrs = append(attrs, fmt.Sprint(args[i]), args[i+1])
	}
	s.l.Log(context.Background(), lv, msg, attrs...)
}

// badgerLogger adapts slog to badger.Logger. Badger's Info messages
// (compactions, flushes) are logged at Debug.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a) }
func (b badgerLogger) Debugf(f string, a ...any)   {}

func (b badgerLogger) log(lv slog.Level, f string, a []any) {
	if b.l.Enabled(context.Background(), lv) {
		b.l.Log(context.Background(), lv, trimNewline(fmt.Sprintf(f, a...)), "component", "badger")
	}
}

func trimNewline(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
