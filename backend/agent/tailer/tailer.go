package tailer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"golang.org/x/time/rate"

	"github.com/lode-logs/lode/backend/agent/positions"
	"github.com/lode-logs/lode/backend/agent/stages"
)

// Options configure a Tailer (a plain option struct: the agent's config
// package holds the user-facing settings and their defaults).
type Options struct {
	PositionsFile     string
	SyncPeriod        time.Duration // positions file writes
	IgnoreInvalidYAML bool
	RescanPeriod      time.Duration // glob expansion
	MinPoll, MaxPoll  time.Duration
	IdleClose         time.Duration
	RotatedGrace      time.Duration
	InitialAtEnd      bool // files present at the first start are read from their end
	MaxLineSize       int  // 0: no limit (buffer of 1 MiB)
	TruncateLongLines bool // else split
	ReadRate          float64
	ReadBurst         int
	ReadRateDrop      bool
	DisableWatch      bool // no fsnotify: polling and periodic rescans only
}

// Sink receives the entries leaving the pipelines. Handle may block:
// that is how the agent stops reading when it cannot send (backpressure).
// The entry is valid only during the call.
type Sink interface {
	Handle(e *stages.Entry)
}

// Target is a set of files to read, as discovery and relabelling made it.
type Target struct {
	Key      string        // stable identity (job and labels)
	Job      string        //
	Include  string        // __path__ glob
	Exclude  string        // __path_exclude__ glob, may be empty
	Labels   labels.Labels // labels of every line (without __ labels)
	Pipeline *stages.Pipeline
}

type target struct {
	Target
	files int
}

// Tailer follows the files of its targets. Run is its loop.
type Tailer struct {
	opts    Options
	sink    Sink
	logger  *slog.Logger
	m       *metrics
	limiter *rate.Limiter

	targetsCh chan []Target
	wakeCh    chan struct{} // fsnotify events waiting in pending

	pendMu       sync.Mutex // guards pending and rescanNeeded
	pending      map[string]bool
	rescanNeeded bool

	// Owned by the loop.
	targets    map[string]*target
	files      map[fileID]*file
	byPath     map[string]*file
	watched    map[string]bool
	watcher    *fsnotify.Watcher
	buf        []byte
	entry      stages.Entry
	firstStart bool
	scanned    bool
	savedMu    sync.Mutex // guards saved (read by the positions writer)
	saved      map[fileID]positions.Entry
	savedPath  map[string]positions.Entry
	legacy     map[string]int64

	reg registry // what the positions writer and the status page read

	lastMu      sync.Mutex // serialises positions writes; guards lastWritten
	lastWritten []positions.Entry
}

// New reads the positions file and prepares a tailer.
func New(o Options, sink Sink, reg prometheus.Registerer, logger *slog.Logger) (*Tailer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pf, exists, err := positions.Read(o.PositionsFile, o.IgnoreInvalidYAML)
	if err != nil {
		return nil, err
	}
	bufSize := 1 << 20
	if o.MaxLineSize > 0 {
		bufSize = max(o.MaxLineSize+1, 64<<10)
	}
	t := &Tailer{
		opts: o, sink: sink, logger: logger, m: newMetrics(reg),
		targetsCh: make(chan []Target, 1), wakeCh: make(chan struct{}, 1),
		pending: map[string]bool{}, targets: map[string]*target{},
		files: map[fileID]*file{}, byPath: map[string]*file{}, watched: map[string]bool{},
		buf: make([]byte, bufSize), firstStart: !exists,
		saved: map[fileID]positions.Entry{}, savedPath: map[string]positions.Entry{}, legacy: pf.Legacy,
		reg: registry{entries: map[fileID]*regEntry{}},
	}
	for _, e := range pf.Files {
		id := fileID{dev: e.Dev, ino: e.Inode}
		t.saved[id] = e
		t.savedPath[e.Path] = e
	}
	if o.ReadRate > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(o.ReadRate), max(o.ReadBurst, 1))
	}
	return t, nil
}

// SetTargets replaces the set of targets (the latest call wins).
func (t *Tailer) SetTargets(ts []Target) {
	for {
		select {
		case t.targetsCh <- ts:
			return
		default:
		}
		select {
		case <-t.targetsCh:
		default:
		}
	}
}

// Run follows files until ctx is done, then writes the positions file a
// last time. It returns the error of that write.
func (t *Tailer) Run(ctx context.Context) error {
	if !t.opts.DisableWatch {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			t.logger.Warn("fsnotify unavailable, polling only", "err", err)
		} else {
			t.watcher = w
			defer w.Close()
			go t.watchLoop(ctx, w)
		}
	}
	posDone := make(chan error, 1)
	posCtx, stopPos := context.WithCancel(context.Background())
	go func() { posDone <- t.positionsLoop(posCtx) }()
	defer func() {
		for _, f := range t.files {
			f.close()
		}
	}()

	poll := time.NewTicker(t.opts.MinPoll)
	defer poll.Stop()
	rescan := time.NewTicker(t.opts.RescanPeriod)
	defer rescan.Stop()
	for {
		select {
		case <-ctx.Done():
			stopPos()
			return <-posDone
		case ts := <-t.targetsCh:
			t.applyTargets(ts)
			t.rescan(time.Now())
		case <-rescan.C:
			t.rescan(time.Now())
		case <-t.wakeCh:
			t.handleEvents(time.Now())
		case now := <-poll.C:
			t.pollFiles(ctx, now)
		}
	}
}

// watchLoop moves fsnotify events into pending without ever blocking on
// the main loop.
func (t *Tailer) watchLoop(ctx context.Context, w *fsnotify.Watcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			t.pendMu.Lock()
			if ev.Op&(fsnotify.Create|fsnotify.Remove|fsnotify.Rename) != 0 {
				t.rescanNeeded = true
			}
			if len(t.pending) < 100000 {
				t.pending[ev.Name] = true
			} else {
				t.rescanNeeded = true
			}
			t.pendMu.Unlock()
			select {
			case t.wakeCh <- struct{}{}:
			default:
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			t.logger.Debug("fsnotify", "err", err)
			t.pendMu.Lock()
			t.rescanNeeded = true
			t.pendMu.Unlock()
		}
	}
}

// handleEvents reads files that changed and rescans when files came or
// went.
func (t *Tailer) handleEvents(now time.Time) {
	t.pendMu.Lock()
	names, rescan := t.pending, t.rescanNeeded
	t.pending, t.rescanNeeded = map[string]bool{}, false
	t.pendMu.Unlock()
	if rescan {
		t.rescan(now)
	}
	for name := range names {
		if f := t.byPath[name]; f != nil && f.state != stateReleased {
			f.nextPoll = now // read at the next poll tick
			f.interval = t.opts.MinPoll
		}
	}
}

// pollFiles reads every file whose poll time came, flushes pipelines
// holding entries, and releases drained rotated files.
func (t *Tailer) pollFiles(ctx context.Context, now time.Time) {
	for id, f := range t.files {
		if ctx.Err() != nil {
			return
		}
		switch f.state {
		case stateReleased:
			if f.tracker.Held() == 0 {
				// Remember where it ended, in case it is found again.
				t.savedMu.Lock()
				t.saved[id] = t.positionOf(f)
				t.savedMu.Unlock()
				delete(t.files, id)
				if t.byPath[f.path] == f {
					delete(t.byPath, f.path)
				}
				t.reg.remove(id)
			}
			continue
		}
		if !now.Before(f.nextPoll) {
			changed := t.readFile(f, now)
			t.schedule(f, now, changed)
		}
		if f.inst.Pending() {
			f.inst.Flush(now, false, t.sink.Handle)
		}
		if f.state == stateRotated && now.Sub(f.lastChange) >= t.opts.RotatedGrace {
			t.release(f)
		} else if f.state == stateActive && f.fd != nil && now.Sub(f.lastChange) >= t.opts.IdleClose {
			f.close()
		}
	}
	t.m.files.Set(float64(len(t.files)))
}

// schedule sets when f is polled next: at MinPoll after a change,
// doubling up to MaxPoll while it stays unchanged.
func (t *Tailer) schedule(f *file, now time.Time, changed bool) {
	if changed || f.interval == 0 {
		f.interval = t.opts.MinPoll
	} else {
		f.interval = min(2*f.interval, t.opts.MaxPoll)
	}
	f.nextPoll = now.Add(f.interval)
}

func (t *Tailer) positionOf(f *file) positions.Entry {
	e := positions.Entry{Path: f.path, Dev: f.id.dev, Inode: f.id.ino, Offset: f.tracker.Committed()}
	if f.fpLen > 0 {
		e.Fingerprint, e.FingerprintLen = fpString(f.fp), f.fpLen
	}
	return e
}

func (t *Tailer) String() string { return fmt.Sprintf("tailer(%d files)", len(t.files)) }
