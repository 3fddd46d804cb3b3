package tailer

import (
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/agent/ack"
)

// applyTargets replaces the targets; files of targets that went away are
// drained and released.
func (t *Tailer) applyTargets(ts []Target) {
	next := make(map[string]*target, len(ts))
	for _, tg := range ts {
		if old, ok := t.targets[tg.Key]; ok {
			old.Target = tg
			next[tg.Key] = old
			continue
		}
		next[tg.Key] = &target{Target: tg}
	}
	t.targets = next
	now := time.Now()
	for _, f := range t.files {
		if f.state == stateActive && t.targets[f.target.Key] != f.target {
			t.markRotated(f, now)
		}
	}
}

// rescan expands every target's glob: new files are added, files whose
// path now names another file (or nothing) are drained as rotated.
func (t *Tailer) rescan(now time.Time) {
	keys := make([]string, 0, len(t.targets))
	for k := range t.targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]fileID{}
	for _, k := range keys {
		tg := t.targets[k]
		files, dirs := glob(tg.Include)
		t.watch(dirs)
		for _, p := range files {
			if _, dup := seen[p]; dup {
				continue // first target (by key) wins
			}
			if tg.Exclude != "" && matchGlob(tg.Exclude, p) {
				continue
			}
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			id, ok := idOf(fi)
			if !ok {
				continue
			}
			seen[p] = id
			t.track(tg, p, id, fi, now)
		}
	}
	for p, f := range t.byPath {
		if id, ok := seen[p]; !ok || id != f.id {
			t.markRotated(f, now)
		}
	}
	t.scanned = true
}

// track makes sure the file id found at path p is followed.
func (t *Tailer) track(tg *target, p string, id fileID, fi os.FileInfo, now time.Time) {
	if f, ok := t.files[id]; ok {
		if f.state != stateReleased && f.path == p {
			return
		}
		if f.state == stateReleased && f.fd == nil && t.sameContent(f, p) {
			// A target came back for a file we let go: continue it.
			f.state, f.target, f.path = stateActive, tg, p
			t.byPath[p] = f
			return
		}
		if f.state != stateReleased && t.sameContent(f, p) {
			if f.path != p && t.byPath[f.path] == f {
				delete(t.byPath, f.path) // renamed within the glob
			}
			f.path = p
			if f.state == stateActive {
				t.byPath[p] = f
			}
			return
		}
		// The inode was reused by a new file.
		t.release(f)
		delete(t.files, id)
		t.reg.remove(id)
	}
	if old := t.byPath[p]; old != nil && old.id != id {
		t.markRotated(old, now)
	}
	f := &file{id: id, path: p, target: tg, labels: fileLabels(tg, p), inst: tg.Pipeline.Instance(),
		lastChange: now, nextPoll: now}
	f.offset = t.startOffset(f, fi)
	f.size = -1
	f.tracker = ack.NewTracker(f.offset)
	t.files[id] = f
	t.byPath[p] = f
	t.reg.add(f)
	t.recoverRotated(tg, p, id, now)
}

// sameContent reports whether the file at p still starts with the bytes
// fingerprinted for f.
func (t *Tailer) sameContent(f *file, p string) bool {
	if f.fpLen == 0 {
		return true
	}
	fd, err := os.Open(p)
	if err != nil {
		return false
	}
	defer fd.Close()
	fp, ok := fingerprint(fd, f.fpLen)
	return ok && fp == f.fp
}

// startOffset is where a newly found file is read from: its saved
// position, or its start, or (files present at the very first start, when
// configured) its end.
func (t *Tailer) startOffset(f *file, fi os.FileInfo) int64 {
	size := fi.Size()
	t.savedMu.Lock()
	e, ok := t.saved[f.id]
	delete(t.saved, f.id)
	t.savedMu.Unlock()
	if ok {
		fd, err := os.Open(f.path)
		if err == nil {
			defer fd.Close()
			fp, fok := fingerprint(fd, e.FingerprintLen)
			if e.FingerprintLen == 0 || (fok && fpString(fp) == e.Fingerprint) {
				f.fp, f.fpLen = parseFP(e.Fingerprint), e.FingerprintLen
				if e.Offset <= size {
					return e.Offset
				}
				return 0 // truncated while the agent was down
			}
		}
	}
	if off, ok := t.legacy[f.path]; ok {
		delete(t.legacy, f.path)
		if off <= size {
			return off
		}
		return 0
	}
	if t.firstStart && !t.scanned && t.opts.InitialAtEnd {
		return size
	}
	return 0
}

// recoverRotated handles a path whose saved position belongs to another
// file: the file was rotated while the agent was down. If the old file is
// still beside its old path, the rest of it is read.
func (t *Tailer) recoverRotated(tg *target, p string, id fileID, now time.Time) {
	e, ok := t.savedPath[p]
	if !ok {
		return
	}
	delete(t.savedPath, p)
	oldID := fileID{dev: e.Dev, ino: e.Inode}
	if oldID == id || t.files[oldID] != nil {
		return
	}
	t.savedMu.Lock()
	_, pending := t.saved[oldID]
	t.savedMu.Unlock()
	if !pending {
		return
	}
	op, found := findRenamed(filepath.Dir(p), oldID)
	if !found {
		return
	}
	fi, err := os.Stat(op)
	if err != nil {
		return
	}
	f := &file{id: oldID, path: op, target: tg, labels: fileLabels(tg, p), inst: tg.Pipeline.Instance(),
		lastChange: now, nextPoll: now, size: -1}
	f.offset = t.startOffset(f, fi)
	f.tracker = ack.NewTracker(f.offset)
	f.state = stateRotated
	t.files[oldID] = f
	t.reg.add(f)
	t.logger.Info("reading the rest of a file rotated while the agent was down", "path", op, "offset", f.offset)
}

// fileLabels are the target's labels plus filename.
func fileLabels(tg *target, p string) labels.Labels {
	if tg.Labels.Has("filename") {
		return tg.Labels
	}
	b := labels.NewBuilder(tg.Labels)
	b.Set("filename", p)
	return b.Labels()
}

// maxWatches bounds the directories watched with fsnotify; beyond it,
// polling and periodic rescans still find everything.
const maxWatches = 8192

func (t *Tailer) watch(dirs []string) {
	if t.watcher == nil {
		return
	}
	for _, d := range dirs {
		if t.watched[d] || len(t.watched) >= maxWatches {
			continue
		}
		if err := t.watcher.Add(d); err != nil {
			t.logger.Debug("watch directory", "dir", d, "err", err)
			continue
		}
		t.watched[d] = true
	}
}
