package tailer

import (
	"bytes"
	"errors"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/agent/ack"
	"github.com/lode-logs/lode/backend/agent/stages"
)

// fileID is a file's identity on this host.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, true
}

type fileState uint8

const (
	stateActive   fileState = iota // the path points to it and a target wants it
	stateRotated                   // renamed away, deleted or no longer wanted: drained, then released
	stateReleased                  // closed; kept until its lines are acknowledged
)

// fingerprintLen is how many leading bytes identify a file's content.
const fingerprintLen = 1024

// file is the reading state of one file. It is owned by the tailer's loop.
type file struct {
	id      fileID
	path    string
	target  *target
	labels  labels.Labels
	inst    *stages.Instance
	fd      *os.File
	offset  int64 // next byte to read (the start of a partial line, if any)
	tracker *ack.Tracker
	fp      uint64 // FNV-1a of the first fpLen bytes
	fpLen   int
	state   fileState
	discard bool // skipping the rest of a truncated long line

	size       int64 // last size seen
	lastChange time.Time
	lastRead   time.Time
	nextPoll   time.Time
	interval   time.Duration
	lastTS     int64
}

// open opens f.path and checks that it is still the file f names.
func (f *file) open() error {
	fd, err := os.Open(f.path)
	if err != nil {
		return err
	}
	fi, err := fd.Stat()
	if err != nil {
		fd.Close()
		return err
	}
	if id, ok := idOf(fi); !ok || id != f.id {
		fd.Close()
		return errReplaced
	}
	f.fd = fd
	return nil
}

var errReplaced = errors.New("path now names another file")

func (f *file) close() {
	if f.fd != nil {
		f.fd.Close()
		f.fd = nil
	}
}

// fingerprint hashes the first n bytes of r; ok is false when fewer bytes
// could be read.
func fingerprint(r io.ReaderAt, n int) (uint64, bool) {
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, 0)
	if got < n {
		return 0, false
	}
	_ = err
	h := fnv.New64a()
	h.Write(buf)
	return h.Sum64(), true
}

func fpString(fp uint64) string { return strconv.FormatUint(fp, 16) }

func parseFP(s string) uint64 {
	v, _ := strconv.ParseUint(s, 16, 64)
	return v
}

// checkContent detects a file truncated and rewritten since the last read
// (its first bytes changed) and extends the fingerprint while the file is
// shorter than fingerprintLen. It reports whether the content is the one
// read so far.
func (f *file) checkContent(size int64) bool {
	if f.fpLen > 0 {
		if fp, ok := fingerprint(f.fd, f.fpLen); !ok || fp != f.fp {
			return false
		}
	}
	if f.fpLen < fingerprintLen && size > int64(f.fpLen) {
		n := int(min(size, fingerprintLen))
		if fp, ok := fingerprint(f.fd, n); ok {
			f.fp, f.fpLen = fp, n
		}
	}
	return true
}

// findRenamed looks in dir for the file with identity id (a rotated file
// renamed next to its old path) and returns its path.
func findRenamed(dir string, id fileID) (string, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if got, ok := idOf(fi); ok && got == id {
			return filepath.Join(dir, e.Name()), true
		}
	}
	return "", false
}

// lines splits data into lines, calling emit with each complete line
// (without "\n" and a "\r" before it) and the offsets of its first byte
// and of the byte after its "\n". It returns how many bytes it consumed.
func lines(data []byte, base int64, emit func(line []byte, start, end int64)) int {
	start := 0
	for {
		i := bytes.IndexByte(data[start:], '\n')
		if i < 0 {
			return start
		}
		end := start + i
		line := data[start:end]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		emit(line[:len(line):len(line)], base+int64(start), base+int64(end)+1)
		start = end + 1
	}
}
