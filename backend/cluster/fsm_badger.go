package cluster

import (
	"bufio"
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
	"github.com/hashicorp/raft"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/ring"
)

// fsm is the Raft state machine over a Badger database. Apply, ApplyBatch
// and Restore run on raft's FSM goroutine; readers (queries, snapshot
// persistence) run concurrently and hold mu for reading so that Restore,
// which empties and reloads the database, excludes them.
type fsm struct {
	db      *badger.DB
	index   *index.Store
	marker  string // file present while a Restore is under way
	metrics *metrics
	log     *slog.Logger

	// members is the ring as committed (FSM goroutine only); ring is the
	// view built from it for readers; pendingMembers is the copy an apply
	// batch changes (see ringWork).
	members          map[string]ring.Instance
	pendingMembers   map[string]ring.Instance
	ring             atomic.Pointer[ring.Ring]
	heartbeatTimeout time.Duration

	mu      sync.RWMutex  // held for writing by Restore only
	state   fsmState      // FSM goroutine only
	applied atomic.Uint64 // state.applied, for other goroutines
	failed  atomic.Pointer[error]
}

// applyResponse is what a command's ApplyFuture.Response holds on success.
type applyResponse struct {
	duplicate bool // the request id was applied before: nothing was done
}

var _ raft.BatchingFSM = (*fsm)(nil)

// openFSM loads the state of db. A Restore that was interrupted (marker
// present) leaves a partial database: it is emptied, and the caller lets
// raft restore the latest snapshot and replay the log.
func openFSM(db *badger.DB, marker string, m *metrics, log *slog.Logger, heartbeatTimeout time.Duration) (*fsm, error) {
	f := &fsm{db: db, index: index.NewStore(db), marker: marker, metrics: m, log: log, heartbeatTimeout: heartbeatTimeout}
	if _, err := os.Stat(marker); err == nil {
		log.Warn("state machine restore was interrupted; emptying it to restore again")
		if err := db.DropAll(); err != nil {
			return nil, fmt.Errorf("empty state machine after interrupted restore: %w", err)
		}
		if err := os.Remove(marker); err != nil {
			return nil, fmt.Errorf("remove restore marker: %w", err)
		}
	}
	if err := f.loadState(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fsm) loadState() error {
	st := fsmState{}
	err := f.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyApplied)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) (err error) {
			st, err = decodeFSMState(v)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("load state machine state: %w", err)
	}
	f.state = st
	f.applied.Store(st.applied)
	return f.loadRing()
}

func (f *fsm) lastApplied() uint64 { return f.applied.Load() }

func (f *fsm) failure() error {
	if p := f.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// fail stops the FSM after a storage error: the entries of this and later
// applies stay unrecorded and are applied again after a restart.
func (f *fsm) fail(err error) error {
	err = fmt.Errorf("%w: %w", ErrFSMFailed, err)
	if f.failed.CompareAndSwap(nil, &err) {
		f.metrics.fsmFailed.Set(1)
		f.log.Error("state machine stopped applying; restart the node", "err", err)
	}
	return f.failure()
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch implements raft.BatchingFSM. Entries at or below the recorded
// applied index are skipped (a replay after restart); the others are
// applied in one split transaction that ends with the new state.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	resp := make([]any, len(logs))
	if err := f.failure(); err != nil {
		return fillErr(resp, err)
	}
	txn := newSplitTxn(f.db)
	defer txn.Discard()
	defer func() { f.pendingMembers = nil }()
	st := f.state
	for i, l := range logs {
		if l.Index <= st.applied {
			f.metrics.fsmSkipped.Inc()
			resp[i] = &applyResponse{duplicate: true}
			continue
		}
		st.applied = l.Index
		if l.Type != raft.LogCommand {
			continue
		}
		r, err := f.applyCommand(txn, &st, l.Data)
		if err != nil {
			return fillErr(resp, f.fail(err))
		}
		resp[i] = r
	}
	if st == f.state {
		return resp
	}
	if err := f.commit(txn, st); err != nil {
		return fillErr(resp, f.fail(err))
	}
	return resp
}

func (f *fsm) commit(txn *splitTxn, st fsmState) error {
	if err := pruneRequestIDs(f.db, txn, st.now); err != nil {
		return err
	}
	if err := txn.Set(keyApplied, st.encode()); err != nil {
		return err
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	f.metrics.fsmEarlyCommit.Add(float64(txn.commits))
	f.state = st
	f.applied.Store(st.applied)
	if f.pendingMembers != nil {
		f.members = f.pendingMembers
		f.publishRing()
	}
	return nil
}

func fillErr(resp []any, err error) []any {
	for i := range resp {
		resp[i] = err
	}
	return resp
}

// applyCommand applies one command. A command that is malformed or
// invalid is answered with an ErrRejected response (every replica decides
// the same); the returned error is a storage failure.
func (f *fsm) applyCommand(txn *splitTxn, st *fsmState, data []byte) (any, error) {
	cmd, err := decodeCommand(data)
	if err != nil {
		f.metrics.fsmCommands.WithLabelValues("rejected").Inc()
		return err, nil
	}
	st.now = max(st.now, cmd.time)
	dup, err := seenRequestID(txn, cmd.id, st.now)
	if err != nil || dup {
		if dup {
			f.metrics.fsmCommands.WithLabelValues("duplicate").Inc()
		}
		return &applyResponse{duplicate: dup}, err
	}
	if rejected, err := f.dispatch(txn, cmd); err != nil || rejected != nil {
		if rejected != nil {
			f.metrics.fsmCommands.WithLabelValues("rejected").Inc()
			return rejected, nil
		}
		return nil, err
	}
	if err := recordRequestID(txn, cmd.id, st.now); err != nil {
		return nil, err
	}
	f.metrics.fsmCommands.WithLabelValues("applied").Inc()
	return &applyResponse{}, nil
}

// dispatch runs a command by type. It returns a rejection (an error
// wrapping ErrRejected, nothing written) or a storage error.
func (f *fsm) dispatch(txn *splitTxn, cmd command) (rejected, err error) {
	switch cmd.typ {
	case cmdAddChunks:
		entries, err := decodeAddChunks(cmd.body)
		if err != nil {
			return err, nil
		}
		for i := range entries {
			if err := index.ValidateEntry(&entries[i]); err != nil {
				return fmt.Errorf("%w: %w", ErrRejected, err), nil
			}
		}
		if entries, err = withoutDropped(txn, entries); err != nil {
			return nil, err
		}
		err = index.AddChunks(txn, entries)
		if errors.Is(err, index.ErrInvalidEntry) {
			return fmt.Errorf("%w: %w", ErrRejected, err), nil
		}
		return nil, err
	case cmdRegister:
		return f.applyRegister(txn, cmd.time, cmd.body)
	case cmdHeartbeats:
		return f.applyHeartbeats(txn, cmd.body)
	case cmdSetState:
		return f.applySetState(txn, cmd.body)
	case cmdRemove:
		return f.applyRemove(txn, cmd.body)
	case cmdDropPeriod:
		return f.applyDropPeriod(txn, cmd.time, cmd.body)
	case cmdForget:
		return f.applyForget(txn, cmd.time, cmd.body)
	default:
		return fmt.Errorf("%w: unknown command type 0x%02x", ErrRejected, cmd.typ), nil
	}
}

// Snapshot implements raft.FSM. The snapshot is a Badger backup taken when
// Persist runs; it may hold entries applied after this call, which is fine
// because it carries its own applied index and replayed entries at or
// below it are skipped.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.failure(); err != nil {
		return nil, err
	}
	return &fsmSnapshot{f: f}, nil
}

// snapshotMagic starts every snapshot (FORMAT.md).
var snapshotMagic = []byte("LODEFSM1")

type fsmSnapshot struct{ f *fsm }

// Persist implements raft.FSMSnapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	s.f.mu.RLock()
	defer s.f.mu.RUnlock()
	w := bufio.NewWriterSize(sink, 256<<10)
	_, err := w.Write(snapshotMagic)
	if err == nil {
		_, err = s.f.db.Backup(w, 0)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist state machine snapshot: %w", err)
	}
	return sink.Close()
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() {}

// Restore implements raft.FSM: it replaces the whole database with the
// snapshot. A marker file makes an interrupted restore visible at start.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.restore(rc); err != nil {
		return f.fail(fmt.Errorf("restore state machine snapshot: %w", err))
	}
	return nil
}

func (f *fsm) restore(rc io.Reader) error {
	br := bufio.NewReaderSize(rc, 256<<10)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != string(snapshotMagic) {
		return fmt.Errorf("not a state machine snapshot (magic %q, %v)", magic, err)
	}
	if err := writeMarker(f.marker); err != nil {
		return err
	}
	if err := f.db.DropAll(); err != nil {
		return fmt.Errorf("empty database: %w", err)
	}
	if err := f.db.Load(br, 256); err != nil {
		return fmt.Errorf("load backup: %w", err)
	}
	if err := f.db.Sync(); err != nil {
		return fmt.Errorf("sync database: %w", err)
	}
	if err := f.loadState(); err != nil {
		return err
	}
	if err := os.Remove(f.marker); err != nil {
		return fmt.Errorf("remove restore marker: %w", err)
	}
	f.failed.Store(nil)
	f.metrics.fsmFailed.Set(0)
	f.metrics.fsmRestores.Inc()
	return nil
}

// writeMarker creates path durably.
func writeMarker(path string) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create restore marker: %w", err)
	}
	err = fh.Sync()
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("write restore marker: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
