package ingester

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/internal/loop"
	"github.com/lode-logs/lode/backend/objstore"
)

// IndexWriter commits chunk refs to the index. AddChunks must be
// idempotent (adding a ref that is already there stores it once): a flush
// interrupted after AddChunks and before the chunk left the buffer calls it
// again. It is called by one goroutine at a time and does not retain the
// slice.
type IndexWriter interface {
	AddChunks(ctx context.Context, chunks []index.ChunkEntry) error
}

// Deps are the ingester's collaborators.
type Deps struct {
	// Dir is the Badger directory, opened with the Config's Badger options.
	// Ignored when DB is set.
	Dir string
	// DB is an already opened Badger database to use instead of Dir; the
	// ingester does not close it.
	DB *badger.DB
	// Bucket receives the chunk objects.
	Bucket objstore.Bucket
	// Index receives the chunk refs after their objects are stored.
	Index IndexWriter
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the wall clock (idle periods, backoff); defaults to time.Now.
	Now func() time.Time
}

// Ingester buffers pushed entries durably per stream, cuts them into
// chunks and flushes the chunks to the object store and the index. See the
// package doc.
type Ingester struct {
	cfg    Config
	codec  chunk.Codec
	db     *badger.DB
	ownDB  bool
	bucket objstore.Bucket
	index  IndexWriter
	logger *slog.Logger
	now    func() time.Time
	m      *metrics
	disk   *diskGuard

	streams  streamMap
	nextSID  atomic.Uint64 // last stream id handed out
	nextWSeq atomic.Uint64 // last WAL record sequence number handed out

	builders sync.Pool // *chunk.BlockBuilder
	scratch  sync.Pool // *pushScratch
	bufs     sync.Pool // *[]byte, block encoding buffers
	pages    pagePool  // pages of heads

	// afterSeal, if set (tests), runs after cutBlocks sealed heads, before
	// it encodes them.
	afterSeal func()
	// dropFault, if set (tests), runs before each batch of deletions of
	// dropFlushed; an error fails that batch.
	dropFault func() error

	queue flushQueue
	// retained holds flushed chunks kept for the retain period, oldest
	// first; guarded by flushMu.
	retained []*cutChunk

	// deleteMu orders the removal of flushed chunks from Badger and memory
	// (writers) against queries snapshotting streams and opening their
	// Badger transaction (readers); see query.go.
	deleteMu sync.RWMutex
	// flushMu serializes flush rounds (the loop and Flush).
	flushMu sync.Mutex

	// closeMu guards closed; Push, Query and Flush hold it shared for their
	// duration (Query only while building its iterator).
	closeMu sync.RWMutex
	closed  bool
	// dbMu guards dbClosed; query iterators hold it shared around each
	// Badger read so that Close never unmaps files under them.
	dbMu     sync.RWMutex
	dbClosed bool

	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines
}

// New opens (or takes) the Badger buffer, replays it into memory and starts
// the flush loop and the value log garbage collector.
func New(cfg Config, deps Deps) (*Ingester, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingester config: %w", err)
	}
	codec, _ := parseCodec(cfg.ChunkEncoding)
	if deps.Bucket == nil || deps.Index == nil {
		return nil, errors.New("new ingester: Bucket and Index are required")
	}
	if deps.DB == nil && deps.Dir == "" {
		return nil, errors.New("new ingester: Dir or DB is required")
	}
	i := &Ingester{
		cfg: cfg, codec: codec, bucket: deps.Bucket, index: deps.Index,
		logger: deps.Logger, now: deps.Now, db: deps.DB,
	}
	if i.logger == nil {
		i.logger = slog.Default()
	}
	i.logger = i.logger.With("component", "ingester")
	if i.now == nil {
		i.now = time.Now
	}
	i.builders.New = func() any { return chunk.NewBlockBuilder(codec) }
	i.scratch.New = func() any { return new(pushScratch) }
	i.bufs.New = func() any { return new([]byte) }
	if i.db == nil {
		db, err := badger.Open(badgerOptions(deps.Dir, &cfg, i.logger))
		if err != nil {
			return nil, fmt.Errorf("open ingester buffer %s: %w: %w", deps.Dir, ErrStorage, err)
		}
		i.db, i.ownDB = db, true
	}
	i.disk = newDiskGuard(i.db.Opts().Dir, cfg.MinFreeDiskSpace, i.now)
	m, err := newMetrics(deps.Registerer, func() float64 { return float64(i.streams.len()) }, i.lsmSize, i.vlogSize)
	if err != nil {
		i.closeDB()
		return nil, fmt.Errorf("register ingester metrics: %w", err)
	}
	i.m = m
	i.queue.m = m
	i.queue.kick = make(chan struct{}, 1)
	start := time.Now()
	if err := i.replay(); err != nil {
		i.closeDB()
		return nil, fmt.Errorf("replay ingester buffer: %w", err)
	}
	m.replaySeconds.Set(time.Since(start).Seconds())
	i.logger.Info("replayed buffer", "streams", i.streams.len(), "chunks_waiting", i.queue.len(),
		"duration", time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithCancel(context.Background())
	i.cancel = cancel
	i.wg.Add(2)
	go i.flushLoop(ctx)
	go i.gcLoop(ctx)
	if cfg.Badger.ReleaseValueLogPages {
		i.wg.Add(1)
		go i.pagesLoop(ctx)
	}
	return i, nil
}

// Close stops the background loops, waits for running pushes and flushes,
// and closes Badger (unless it was passed in Deps.DB). Buffered data stays
// in Badger and is replayed by the next New; nothing is flushed. Query
// iterators still open afterwards fail with ErrClosed.
func (i *Ingester) Close() error {
	i.closeMu.Lock()
	if i.closed {
		i.closeMu.Unlock()
		return nil
	}
	i.closed = true
	i.closeMu.Unlock()
	i.cancel()
	i.wg.Wait()
	return i.closeDB()
}

func (i *Ingester) closeDB() error {
	i.dbMu.Lock()
	defer i.dbMu.Unlock()
	if i.dbClosed {
		return nil
	}
	i.dbClosed = true
	if !i.ownDB {
		return nil
	}
	if err := i.db.Close(); err != nil {
		return fmt.Errorf("close ingester buffer: %w", err)
	}
	return nil
}

// enter marks the start of a public operation; it fails once Close began.
// The caller must call i.closeMu.RUnlock when done.
func (i *Ingester) enter() error {
	i.closeMu.RLock()
	if i.closed {
		i.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (i *Ingester) lsmSize() float64 {
	i.dbMu.RLock()
	defer i.dbMu.RUnlock()
	if i.dbClosed {
		return 0
	}
	lsm, _ := i.db.Size()
	return float64(lsm)
}

func (i *Ingester) vlogSize() float64 {
	i.dbMu.RLock()
	defer i.dbMu.RUnlock()
	if i.dbClosed {
		return 0
	}
	_, vlog := i.db.Size()
	return float64(vlog)
}

// gcLoop garbage-collects Badger's value log: each round rewrites files
// that are mostly garbage (flushed blocks, WAL records already in blocks)
// until none is left.
func (i *Ingester) gcLoop(ctx context.Context) {
	defer i.wg.Done()
	loop.Every(ctx, i.cfg.Badger.GCInterval, func() bool {
		for ctx.Err() == nil {
			err := i.db.RunValueLogGC(i.cfg.Badger.GCDiscardRatio)
			if err != nil {
				if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
					i.logger.Warn("value log garbage collection failed", "err", err)
				}
				break
			}
			i.m.badgerGCRewrites.Inc()
		}
		return true
	})
}

// vlogPagesPeriod is how often pagesLoop releases value log pages: at
// 60 MiB/s of pushes Badger writes about 30 MiB/s to its value log.
const vlogPagesPeriod = 250 * time.Millisecond

// pagesLoop releases the resident pages of value log files that Badger no
// longer writes (see vlogPages).
func (i *Ingester) pagesLoop(ctx context.Context) {
	defer i.wg.Done()
	pages := newVlogPages(i.db.Opts().ValueDir)
	loop.Every(ctx, vlogPagesPeriod, func() bool {
		if err := pages.release(); err != nil {
			i.logger.Warn("release value log pages; they stay resident", "err", err)
			return false
		}
		return true
	})
}
