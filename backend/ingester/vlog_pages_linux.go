//go:build linux

package ingester

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// vlogPages releases the resident pages of Badger's value log files.
//
// Badger maps every value log file into memory and writes values through
// the mapping, so each written page stays in the process's resident set
// until its file is deleted, unless the kernel runs short of memory: with
// blocks of open chunks kept in the value log until they are flushed, the
// value log was about half of the peak RSS while ingesting 1 GiB (177 of
// 473 MiB). Only the newest file is still written; older ones are read only
// when a block is (queries, flushes). Each round, for every older file of
// the buffer's directory, dirty pages are written back (as the kernel
// would within 30 s; with -ingester.sync-writes they are clean already; once
// per file, as Badger never writes a file again once a newer one exists) and
// the pages are released with MADV_PAGEOUT, which keeps the data (a later
// read faults it in from the disk). MADV_PAGEOUT changes no
// data on any mapping, so a file Badger unmaps or replaces between the
// reading of /proc/self/maps and the call cannot be harmed.
type vlogPages struct {
	dir      string
	disabled bool         // the kernel lacks MADV_PAGEOUT (Linux < 5.4)
	clean    map[int]bool // older files written back: Badger never writes them again
}

func newVlogPages(dir string) *vlogPages {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return &vlogPages{disabled: true}
	}
	return &vlogPages{dir: filepath.Clean(abs), clean: map[int]bool{}}
}

// vlogMapping is one mapping of a value log file.
type vlogMapping struct {
	start, end uintptr
	fid        int
	path       string
}

// release runs one round.
func (v *vlogPages) release() error {
	if v.disabled {
		return nil
	}
	ms, err := v.mappings()
	if err != nil {
		return err
	}
	newest := -1
	for _, m := range ms {
		newest = max(newest, m.fid)
	}
	mapped := make(map[int]bool, len(ms))
	for _, m := range ms {
		mapped[m.fid] = true
		if m.fid == newest {
			continue
		}
		if !v.clean[m.fid] {
			v.clean[m.fid] = true
			writeback(m.path)
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_PAGEOUT)
		if errno == unix.EINVAL {
			v.disabled = true
			return errors.New("MADV_PAGEOUT not supported by this kernel")
		}
	}
	for fid := range v.clean {
		if !mapped[fid] {
			delete(v.clean, fid) // deleted by Badger
		}
	}
	return nil
}

// writeback writes back the dirty pages of path and waits for them. A file
// deleted meanwhile is skipped.
func writeback(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0,
		unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	_ = f.Close()
}

// mappings returns the process's mappings of value log files of v.dir.
func (v *vlogPages) mappings() ([]vlogMapping, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []vlogMapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		line := sc.Bytes()
		if !bytes.HasSuffix(line, []byte(".vlog")) {
			continue
		}
		fields := strings.Fields(string(line))
		if len(fields) < 6 {
			continue
		}
		path := strings.Join(fields[5:], " ")
		if filepath.Dir(path) != v.dir {
			continue
		}
		fid, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(path), ".vlog"))
		if err != nil {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		out = append(out, vlogMapping{start: uintptr(start), end: uintptr(end), fid: fid, path: path})
	}
	return out, sc.Err()
}
