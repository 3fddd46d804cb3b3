package tailer

import (
	"context"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/lode-logs/lode/backend/agent/ack"
	"github.com/lode-logs/lode/backend/agent/positions"
)

// registry is what other goroutines may know of the files: their identity
// and trackers for the positions file, and their progress for /targets.
type registry struct {
	mu      sync.Mutex // guards entries
	entries map[fileID]*regEntry
}

type regEntry struct {
	path    string
	job     string
	labels  string
	fp      uint64
	fpLen   int
	tracker *ack.Tracker
	offset  int64
	size    int64
	state   fileState
}

func (r *registry) add(f *file) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[f.id] = &regEntry{}
	r.setLocked(f)
}

func (r *registry) update(f *file) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.entries[f.id]; ok {
		r.setLocked(f)
	}
}

func (r *registry) setLocked(f *file) {
	e := r.entries[f.id]
	e.path, e.job, e.labels = f.path, f.target.Job, f.labels.String()
	e.fp, e.fpLen, e.tracker = f.fp, f.fpLen, f.tracker
	e.offset, e.size, e.state = f.offset, max(f.size, f.offset), f.state
}

func (r *registry) remove(id fileID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, id)
}

// snapshot returns the committed positions of the files followed.
func (r *registry) snapshot() []positions.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]positions.Entry, 0, len(r.entries))
	for id, e := range r.entries {
		pe := positions.Entry{Path: e.path, Dev: id.dev, Inode: id.ino, Offset: e.tracker.Committed()}
		if e.fpLen > 0 {
			pe.Fingerprint, pe.FingerprintLen = fpString(e.fp), e.fpLen
		}
		out = append(out, pe)
	}
	return out
}

// FileStatus is the progress of one file, for the status page.
type FileStatus struct {
	Path      string
	Job       string
	Labels    string
	State     string // active, rotated, released
	Size      int64  // bytes seen
	Read      int64  // bytes read
	Committed int64  // bytes acknowledged by the server
}

// Status returns the progress of every file followed, by path.
func (t *Tailer) Status() []FileStatus {
	t.reg.mu.Lock()
	out := make([]FileStatus, 0, len(t.reg.entries))
	for _, e := range t.reg.entries {
		out = append(out, FileStatus{Path: e.path, Job: e.job, Labels: e.labels,
			State: [...]string{"active", "rotated", "released"}[e.state],
			Size:  e.size, Read: e.offset, Committed: e.tracker.Committed()})
	}
	t.reg.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// positionsLoop writes the positions file every sync period and once more
// when ctx is done.
func (t *Tailer) positionsLoop(ctx context.Context) error {
	tick := time.NewTicker(t.opts.SyncPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return t.SyncPositions()
		case <-tick.C:
			if err := t.SyncPositions(); err != nil {
				t.logger.Error("write positions", "err", err)
			}
		}
	}
}

// SyncPositions writes the positions file now. Saved positions of files
// not found yet (their target may not be discovered yet) are kept while
// the file still exists.
func (t *Tailer) SyncPositions() error {
	entries := t.reg.snapshot()
	t.reg.mu.Lock()
	known := make(map[fileID]bool, len(t.reg.entries))
	for id := range t.reg.entries {
		known[id] = true
	}
	t.reg.mu.Unlock()
	for _, e := range t.savedSnapshot() {
		id := fileID{dev: e.Dev, ino: e.Inode}
		if known[id] {
			continue
		}
		if fi, err := os.Stat(e.Path); err == nil {
			if got, ok := idOf(fi); ok && got == id {
				entries = append(entries, e)
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Dev != entries[j].Dev {
			return entries[i].Dev < entries[j].Dev
		}
		return entries[i].Inode < entries[j].Inode
	})
	t.lastMu.Lock()
	defer t.lastMu.Unlock()
	if t.lastWritten != nil && slices.Equal(t.lastWritten, entries) {
		return nil // nothing moved since the last write
	}
	err := positions.Write(t.opts.PositionsFile, entries)
	if err == nil {
		t.lastWritten = entries
		t.m.positionsWrites.Inc()
	}
	return err
}

// savedSnapshot copies the saved positions not yet claimed.
func (t *Tailer) savedSnapshot() []positions.Entry {
	t.savedMu.Lock()
	defer t.savedMu.Unlock()
	out := make([]positions.Entry, 0, len(t.saved))
	for _, e := range t.saved {
		out = append(out, e)
	}
	return out
}
