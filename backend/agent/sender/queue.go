package sender

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// queue holds sealed batches in order: in memory up to memLimit bytes,
// then on disk up to diskLimit bytes; past both, put blocks (backpressure).
// One batch is always admitted when the queue is empty, whatever its size.
type queue struct {
	mu        sync.Mutex // guards the fields below
	cond      *sync.Cond
	items     []*sealed
	memBytes  int64
	memLimit  int64
	diskLimit int64
	spool     *spool
	closed    bool
	blocked   time.Duration // total time put waited
	onChange  func(memBytes, diskBytes int64, n int)
}

func newQueue(dir string, memLimit, diskLimit int64, onChange func(int64, int64, int)) (*queue, error) {
	q := &queue{memLimit: memLimit, diskLimit: diskLimit, onChange: onChange}
	q.cond = sync.NewCond(&q.mu)
	if diskLimit > 0 {
		sp, err := openSpool(dir)
		if err != nil {
			return nil, err
		}
		q.spool = sp
	}
	return q, nil
}

// put appends s, spilling it to disk when memory is full; while both are
// full it waits (wait) or gives up. It returns false when s was not queued
// (no room, or the queue was closed).
func (q *queue) put(s *sealed, wait bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	start := time.Now()
	for !q.closed && len(q.items) > 0 && !q.fitsMem(s) && !q.fitsDisk(s) {
		if !wait {
			return false
		}
		q.cond.Wait()
	}
	q.blocked += time.Since(start)
	if q.closed {
		return false
	}
	if !q.fitsMem(s) && len(q.items) > 0 && q.spool != nil {
		ref, err := q.spool.write(s.body)
		if err == nil {
			s.spoolRef, s.onDisk, s.body = ref, true, nil
		}
	}
	if !s.onDisk {
		q.memBytes += int64(s.size)
	}
	s.enqueued = time.Now()
	q.items = append(q.items, s)
	q.changed()
	q.cond.Broadcast()
	return true
}

func (q *queue) fitsMem(s *sealed) bool { return q.memBytes+int64(s.size) <= q.memLimit }

func (q *queue) fitsDisk(s *sealed) bool {
	return q.spool != nil && q.spool.bytes+int64(s.size) <= q.diskLimit
}

// front waits for the oldest batch and loads its body. It returns nil
// when the queue is closed and empty.
func (q *queue) front() (*sealed, []byte, error) {
	q.mu.Lock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		q.mu.Unlock()
		return nil, nil, nil
	}
	s := q.items[0]
	defer q.mu.Unlock()
	if !s.onDisk {
		return s, s.body, nil
	}
	body, err := q.spool.read(s.spoolRef)
	return s, body, err
}

// pop removes the oldest batch (the one front returned).
func (q *queue) pop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	if s.onDisk {
		q.spool.free(s.spoolRef)
	} else {
		q.memBytes -= int64(s.size)
	}
	s.body = nil
	q.changed()
	q.cond.Broadcast()
}

// close wakes every waiter; put then fails and front drains what is left.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// len returns the number of batches waiting.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func (q *queue) changed() {
	if q.onChange == nil {
		return
	}
	var disk int64
	if q.spool != nil {
		disk = q.spool.bytes
	}
	q.onChange(q.memBytes, disk, len(q.items))
}

// spool stores batch bodies in segment files. It is volatile: its
// directory is emptied when opened, because lines not acknowledged before
// a restart are read again from their files.
type spool struct {
	dir   string
	bytes int64 // live bytes
	cur   *segment
	segs  map[int]*segment
	next  int
}

type segment struct {
	n     int
	f     *os.File
	size  int64
	live  int
	total int
}

type spoolRef struct {
	seg    int
	off    int64
	length int
}

const segmentSize = 64 << 20

func openSpool(dir string) (*spool, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("clear buffer directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create buffer directory: %w", err)
	}
	return &spool{dir: dir, segs: map[int]*segment{}}, nil
}

func (sp *spool) write(body []byte) (spoolRef, error) {
	if sp.cur == nil || sp.cur.size+int64(len(body)) > segmentSize {
		f, err := os.Create(filepath.Join(sp.dir, fmt.Sprintf("segment-%08d", sp.next)))
		if err != nil {
			return spoolRef{}, fmt.Errorf("create buffer segment: %w", err)
		}
		if sp.cur != nil && sp.cur.live == 0 {
			sp.removeSegment(sp.cur)
		}
		sp.cur = &segment{n: sp.next, f: f}
		sp.segs[sp.next] = sp.cur
		sp.next++
	}
	ref := spoolRef{seg: sp.cur.n, off: sp.cur.size, length: len(body)}
	if _, err := sp.cur.f.WriteAt(body, ref.off); err != nil {
		return spoolRef{}, fmt.Errorf("write buffer segment: %w", err)
	}
	sp.cur.size += int64(len(body))
	sp.cur.live++
	sp.cur.total++
	sp.bytes += int64(len(body))
	return ref, nil
}

func (sp *spool) read(ref spoolRef) ([]byte, error) {
	seg := sp.segs[ref.seg]
	if seg == nil {
		panic("BUG: sender: read of a freed buffer segment")
	}
	body := make([]byte, ref.length)
	if _, err := seg.f.ReadAt(body, ref.off); err != nil {
		return nil, fmt.Errorf("read buffer segment: %w", err)
	}
	return body, nil
}

func (sp *spool) free(ref spoolRef) {
	seg := sp.segs[ref.seg]
	seg.live--
	sp.bytes -= int64(ref.length)
	if seg.live == 0 && seg != sp.cur {
		sp.removeSegment(seg)
	}
}

func (sp *spool) removeSegment(seg *segment) {
	seg.f.Close()
	os.Remove(seg.f.Name())
	delete(sp.segs, seg.n)
}
