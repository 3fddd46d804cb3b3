package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

// Options are a node's dependencies.
type Options struct {
	// DataDir is the process data directory; the node keeps its state in
	// DataDir/raft.
	DataDir string
	// Registerer receives the node's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger receives raft's, Badger's and the node's logs; nil discards.
	Logger *slog.Logger
	// Self describes the node to the ring.
	Self Self
	// Transport reaches other members; nil: a node that can only lead
	// itself (no joining, no forwarding).
	Transport Transport
	// Permanent reports transport errors that retrying cannot cure (a
	// rejected request); nil: none.
	Permanent func(error) bool
	// TLSServer and TLSClient, from Config.TLS.Load, run the Raft
	// transport over mutual TLS; nil: plaintext TCP.
	TLSServer, TLSClient *tls.Config
}

// Node is a Raft member holding the FSM replica (see doc.go).
type Node struct {
	cfg       Config
	self      Self
	transport Transport
	permanent func(error) bool
	id        string
	log       *slog.Logger
	db        *badger.DB
	fsm       *fsm
	wal       *wal.WAL
	walMeta   *metadb.BoltMetaDB
	trans     *raft.NetworkTransport
	raft      *raft.Raft
	batch     *batcher
	metrics   *metrics
	reg       prometheus.Registerer

	want     atomic.Uint32 // ring.State this node keeps in the ring; 0: none
	kick     chan struct{} // wakes the membership loop
	quit     chan struct{} // closed by Close
	loopDone chan struct{} // closed when the membership loop returns

	hbMu         sync.Mutex
	pending      map[string]heartbeat // leader: heartbeats to commit next
	seen         map[string]int64     // leader: last heartbeat received per member, Unix ms
	leaderSince  time.Time            // membership loop only
	joinFailures int                  // membership loop only
	noLeader     time.Time            // membership loop only: since when no leader is known

	closeOnce sync.Once
	closeErr  error
}

var _ index.Reader = (*Node)(nil)

// Layout of DataDir/raft.
const (
	dirRaft       = "raft"
	dirFSM        = "fsm"
	dirWAL        = "wal"
	restoreMarker = "fsm-restoring"
	snapsRetained = 2
)

// New opens (or creates) the node's state under opts.DataDir/raft and
// starts Raft. With no existing state and no join addresses it bootstraps
// a single-voter cluster.
func New(cfg Config, opts Options) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir := filepath.Join(opts.DataDir, dirRaft)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create raft directory: %w", err)
	}
	n := &Node{
		cfg: cfg, self: opts.Self, transport: opts.Transport, permanent: opts.Permanent,
		log: opts.Logger, metrics: newMetrics(), reg: opts.Registerer,
		kick: make(chan struct{}, 1), quit: make(chan struct{}), loopDone: make(chan struct{}),
		pending: map[string]heartbeat{}, seen: map[string]int64{},
	}
	defer func() {
		if err != nil {
			_ = n.closeResources()
		}
	}()
	if n.id, err = resolveNodeID(dir, cfg.NodeID, cfg.RaftAddress); err != nil {
		return nil, err
	}
	if err := n.openStores(dir); err != nil {
		return nil, err
	}
	if err := n.startRaft(&cfg, dir, opts.TLSServer, opts.TLSClient); err != nil {
		return nil, err
	}
	n.batch = newBatcher(func(cmd []byte) error { return n.sendCommand(context.Background(), cmd) }, &cfg, n.metrics)
	go n.batch.run()
	go n.run()
	n.metrics.addRaftGauges(n.raft, n.fsm)
	n.metrics.collectors = append(n.metrics.collectors, newMemberCollector(n))
	if n.reg != nil {
		if err := n.metrics.register(n.reg); err != nil {
			n.reg = nil
			return nil, fmt.Errorf("register cluster metrics: %w", err)
		}
	}
	return n, nil
}

// openStores opens the FSM database and the Raft log.
func (n *Node) openStores(dir string) error {
	db, err := badger.Open(fsmBadgerOptions(filepath.Join(dir, dirFSM), n.log))
	if err != nil {
		return fmt.Errorf("open state machine database: %w", err)
	}
	n.db = db
	if n.fsm, err = openFSM(db, filepath.Join(dir, restoreMarker), n.metrics, n.log, n.cfg.RingHeartbeatTimeout); err != nil {
		return err
	}
	walDir := filepath.Join(dir, dirWAL)
	if err := os.MkdirAll(walDir, 0o755); err != nil {
		return fmt.Errorf("create raft log directory: %w", err)
	}
	// WAL.Close leaves the meta store open: the node keeps it to close it.
	n.walMeta = &metadb.BoltMetaDB{}
	n.wal, err = wal.Open(walDir, wal.WithMetaStore(n.walMeta), wal.WithLogger(newRaftLogger(n.log).Named("wal")))
	if err != nil {
		return fmt.Errorf("open raft log: %w", err)
	}
	return nil
}

// fsmBadgerOptions sizes Badger for a small node (the whole process aims
// at a few hundred MiB of RSS): two 8 MiB memtables and small tables (an
// index commit larger than a transaction allows, 15% of a memtable, is
// split; 8 MiB is the least that keeps Badger's default 1 MiB value
// threshold under that limit). Blocks
// are not compressed, so they are read straight from the memory-mapped
// tables and need no block cache: measured on 200k refs of 50k streams, this
// halves the Go heap (59 vs 117 MiB after a load) and the query time
// against Snappy with a 16 MiB cache, for 1.6x the disk (44 vs 28 MB).
func fsmBadgerOptions(dir string, l *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{l: l}).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(2 << 20).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(8 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithNumGoroutines(2)
}

// startRaft creates the snapshot store and transport, checks that the FSM
// data belongs to the log, bootstraps if needed and starts Raft.
func (n *Node) startRaft(cfg *Config, dir string, tlsServer, tlsClient *tls.Config) error {
	hlog := newRaftLogger(n.log)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, snapsRetained, hlog)
	if err != nil {
		return fmt.Errorf("open snapshot store: %w", err)
	}
	rc, err := n.raftConfig(cfg, hlog, snaps)
	if err != nil {
		return err
	}
	n.trans, err = newRaftTransport(cfg.RaftAddress, tlsServer, tlsClient, hlog)
	if err != nil {
		return fmt.Errorf("start raft transport on %s: %w", cfg.RaftAddress, err)
	}
	has, err := raft.HasExistingState(n.wal, n.wal, snaps)
	if err != nil {
		return fmt.Errorf("inspect raft state: %w", err)
	}
	if !has && len(cfg.Join) == 0 {
		boot := raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: rc.LocalID, Address: n.trans.LocalAddr(),
		}}}
		if err := raft.BootstrapCluster(rc, n.wal, n.wal, snaps, n.trans, boot); err != nil {
			return fmt.Errorf("bootstrap raft cluster: %w", err)
		}
		n.log.Info("bootstrapped a single-node raft cluster", "id", n.id, "address", n.trans.LocalAddr())
	} else if !has {
		n.log.Info("waiting to be added to the raft cluster", "id", n.id, "join", cfg.Join)
	}
	if n.raft, err = raft.NewRaft(rc, n.fsm, n.wal, n.wal, snaps, n.trans); err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	return nil
}

// raftConfig builds raft's configuration. Raft restores the latest
// snapshot at start only when the FSM database is behind it (it lost
// writes, or an interrupted restore was emptied); otherwise the database
// already holds the state and replayed entries are skipped.
func (n *Node) raftConfig(cfg *Config, hlog hclog.Logger, snaps *raft.FileSnapshotStore) (*raft.Config, error) {
	var snapIndex uint64
	metas, err := snaps.List()
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	if len(metas) > 0 {
		snapIndex = metas[0].Index
	}
	lastLog, err := n.wal.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("read raft log: %w", err)
	}
	if applied := n.fsm.lastApplied(); applied > max(lastLog, snapIndex) {
		return nil, fmt.Errorf("%w: applied index %d, last log index %d, last snapshot index %d; remove %s to rebuild it from the cluster",
			ErrStateMismatch, applied, lastLog, snapIndex, dirFSM)
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.id)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256
	rc.NoLegacyTelemetry = true
	rc.Logger = hlog
	rc.NoSnapshotRestoreOnStart = n.fsm.lastApplied() >= snapIndex
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("raft config: %w", err)
	}
	return rc, nil
}

// ID returns the node's Raft id.
func (n *Node) ID() string { return n.id }

// Addr returns the address the Raft transport listens on and advertises.
func (n *Node) Addr() string { return string(n.trans.LocalAddr()) }

// IsLeader reports whether this node is the Raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the current leader's id and address (empty if unknown).
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// WaitReady blocks until the local replica is up to date, or ctx ends: on
// the leader, until every entry of earlier terms is applied (a barrier); on
// a follower, until a leader is known and every entry it has learned to be
// committed is applied.
func (n *Node) WaitReady(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if n.raft.State() == raft.Leader {
			if err := n.raft.Barrier(time.Second).Error(); err == nil {
				return nil
			}
		} else if _, id := n.raft.LeaderWithID(); id != "" {
			if c := n.raft.CommitIndex(); c > 0 && n.raft.AppliedIndex() >= c {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for raft: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// AddChunks commits entries to the index through Raft. Concurrent calls
// are gathered into shared commands; AddChunks returns once its entries
// are committed and applied on this node, or with the error. Entries are
// validated first (index.ErrInvalidEntry). On a node that is not the
// leader it returns ErrNotLeader. Adding refs already stored is harmless.
// When ctx ends first the entries may still be committed.
func (n *Node) AddChunks(ctx context.Context, entries []index.ChunkEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		if err := index.ValidateEntry(&entries[i]); err != nil {
			return fmt.Errorf("add chunks: %w", err)
		}
	}
	var reqs []*addRequest
	for start := 0; start < len(entries); start += n.batch.maxRefs {
		part := entries[start:min(start+n.batch.maxRefs, len(entries))]
		r := &addRequest{count: len(part), done: make(chan error, 1)}
		for i := range part {
			r.encoded = appendChunkEntry(r.encoded, &part[i])
		}
		if err := n.batch.submit(ctx, r); err != nil {
			return fmt.Errorf("add chunks: %w", err)
		}
		reqs = append(reqs, r)
	}
	var errs []error
	for _, r := range reqs {
		select {
		case err := <-r.done:
			errs = append(errs, err)
		case <-ctx.Done():
			return fmt.Errorf("add chunks: %w", ctx.Err())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("add chunks: %w", err)
	}
	return nil
}

// Streams implements index.Reader over the local replica.
func (n *Node) Streams(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return n.fsm.index.Streams(ctx, tenant, from, through, ms)
}

// Chunks implements index.Reader over the local replica.
func (n *Node) Chunks(ctx context.Context, tenant string, fp model.Fingerprint, from, through int64) ([]index.ChunkRef, error) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return n.fsm.index.Chunks(ctx, tenant, fp, from, through)
}

// LabelNames implements index.Reader over the local replica.
func (n *Node) LabelNames(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return n.fsm.index.LabelNames(ctx, tenant, from, through, ms)
}

// LabelValues implements index.Reader over the local replica.
func (n *Node) LabelValues(ctx context.Context, tenant, name string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return n.fsm.index.LabelValues(ctx, tenant, name, from, through, ms)
}

// Close stops accepting writes, shuts Raft down, and closes the log and
// the database. Writes still queued fail with ErrClosed.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.closeResources() })
	return n.closeErr
}

func (n *Node) closeResources() error {
	var errs []error
	close(n.quit)
	if n.raft != nil {
		<-n.loopDone
	}
	if n.batch != nil {
		n.batch.stop()
	}
	if n.raft != nil {
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("shut raft down: %w", err))
		}
	}
	if n.batch != nil {
		n.batch.wait()
	}
	if n.trans != nil {
		errs = append(errs, n.trans.Close())
	}
	if n.wal != nil {
		errs = append(errs, n.wal.Close())
	}
	if n.walMeta != nil {
		errs = append(errs, n.walMeta.Close())
	}
	if n.db != nil {
		if err := n.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close state machine database: %w", err))
		}
	}
	if n.reg != nil {
		n.metrics.unregister(n.reg)
	}
	return errors.Join(errs...)
}
