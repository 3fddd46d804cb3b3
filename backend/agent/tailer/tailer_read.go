package tailer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lode-logs/lode/backend/agent/ack"
	"github.com/lode-logs/lode/backend/agent/stages"
)

// readBudget bounds the bytes read from one file per poll, so that one
// busy file does not starve the others.
const readBudget = 16 << 20

// readFile reads what was appended to f since the last read and reports
// whether anything changed.
func (t *Tailer) readFile(f *file, now time.Time) bool {
	if f.fd == nil && !t.reopen(f, now) {
		return false
	}
	fi, err := f.fd.Stat()
	if err != nil {
		t.logger.Warn("stat file", "path", f.path, "err", err)
		return false
	}
	size := fi.Size()
	if size < f.offset || (size > f.offset && !f.checkContent(size)) {
		t.truncated(f)
	}
	if size == f.size && size == f.offset {
		return false
	}
	f.size = size
	f.lastChange = now
	read := 0
	for f.offset < size && read < readBudget {
		n, err := f.fd.ReadAt(t.buf, f.offset)
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				t.logger.Warn("read file", "path", f.path, "err", err)
			}
			break
		}
		read += n
		t.m.bytes.Add(float64(n))
		consumed := t.consume(f, t.buf[:n], now, n == len(t.buf))
		if consumed == 0 {
			break // a partial line at the end: wait for the rest
		}
		f.offset += int64(consumed)
	}
	t.reg.update(f)
	return true
}

// consume turns data (read at f.offset) into entries and returns how many
// bytes it used. full says data filled the read buffer, so a line without
// "\n" is longer than the limit.
func (t *Tailer) consume(f *file, data []byte, now time.Time, full bool) int {
	used := 0
	if f.discard {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			f.tracker.Skip(f.offset + int64(len(data)))
			return len(data)
		}
		f.discard = false
		used = i + 1
		f.tracker.Skip(f.offset + int64(used))
	}
	nowNS := now.UnixNano()
	used += lines(data[used:], f.offset+int64(used), func(line []byte, start, end int64) {
		t.emit(f, line, start, end, nowNS)
	})
	if used == 0 && full {
		// No newline in a whole buffer: the line is over the limit.
		limit := len(data) - 1
		if t.opts.MaxLineSize > 0 {
			limit = t.opts.MaxLineSize
		}
		piece := data[:limit:limit]
		t.emit(f, piece, f.offset, f.offset+int64(limit), nowNS)
		if t.opts.TruncateLongLines {
			t.m.longLines.WithLabelValues("truncated").Inc()
			f.discard = true
			f.tracker.Skip(f.offset + int64(len(data)))
			return len(data)
		}
		t.m.longLines.WithLabelValues("split").Inc()
		return limit
	}
	return used
}

// emit runs one line through f's pipeline.
func (t *Tailer) emit(f *file, line []byte, start, end, nowNS int64) {
	t.m.lines.Inc()
	if t.limiter != nil {
		if t.opts.ReadRateDrop {
			if !t.limiter.Allow() {
				f.tracker.Skip(end)
				t.m.rateDropped.Inc()
				return
			}
		} else {
			_ = t.limiter.WaitN(context.Background(), 1)
		}
	}
	ts := max(nowNS, f.lastTS+1)
	f.lastTS = ts
	e := &t.entry
	*e = stages.Entry{}
	e.Timestamp, e.Line, e.Labels = ts, line, f.labels
	e.Ack = f.tracker.Add(start, end)
	f.inst.Process(e, t.sink.Handle)
}

// truncated restarts f from its beginning after a copytruncate.
func (t *Tailer) truncated(f *file) {
	t.logger.Info("file truncated, reading it from the start", "path", f.path, "offset", f.offset)
	t.m.truncations.Inc()
	f.offset, f.size, f.fp, f.fpLen, f.discard = 0, 0, 0, 0, false
	f.tracker = ack.NewTracker(0)
	t.reg.add(f)
}

// reopen opens a file whose descriptor was closed while idle; when its path
// now names another file, the rotated file is looked for beside it.
func (t *Tailer) reopen(f *file, now time.Time) bool {
	fi, err := os.Stat(f.path)
	if err == nil && f.state == stateActive {
		if id, ok := idOf(fi); ok && id == f.id && fi.Size() == f.size && fi.Size() == f.offset {
			return false // unchanged: keep it closed
		}
	}
	err = f.open()
	if err == nil {
		return true
	}
	if p, ok := findRenamed(filepath.Dir(f.path), f.id); ok {
		if t.byPath[f.path] == f {
			delete(t.byPath, f.path)
		}
		f.path = p
		if f.open() == nil {
			t.markRotated(f, now)
			return true
		}
	}
	t.logger.Warn("file vanished while closed; lines written since its last read are lost", "path", f.path)
	t.m.lost.Inc()
	t.markRotated(f, now)
	t.release(f)
	return false
}

// markRotated starts draining f: it is read until unchanged for the grace
// period, then released.
func (t *Tailer) markRotated(f *file, now time.Time) {
	if f.state != stateActive {
		return
	}
	f.state = stateRotated
	f.lastChange = now
	f.nextPoll = now
	t.m.rotations.Inc()
	if t.byPath[f.path] == f {
		delete(t.byPath, f.path)
	}
}

// release closes a drained file: a partial last line is sent as a line,
// held pipeline entries are flushed, and the file is forgotten once its
// lines are acknowledged.
func (t *Tailer) release(f *file) {
	if f.state == stateReleased {
		return
	}
	if f.fd != nil {
		t.readFile(f, time.Now())
		if fi, err := f.fd.Stat(); err == nil && fi.Size() > f.offset {
			n, _ := f.fd.ReadAt(t.buf[:min(int64(len(t.buf)), fi.Size()-f.offset)], f.offset)
			if n > 0 && !f.discard {
				t.emit(f, t.buf[:n:n], f.offset, f.offset+int64(n), time.Now().UnixNano())
			}
			f.offset += int64(n)
		}
	}
	f.inst.Flush(time.Now(), true, t.sink.Handle)
	f.close()
	f.state = stateReleased
	t.reg.update(f)
}
