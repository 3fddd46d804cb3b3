package index

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lode-logs/lode/backend/model"
)

// openTestDB opens a database with the memtable and table settings of the
// cluster FSM (uncompressed tables, no block cache).
func openTestDB(tb testing.TB) *badger.DB {
	tb.Helper()
	opts := badger.DefaultOptions(tb.TempDir()).
		WithLogger(nil).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithDetectConflicts(false).
		WithCompression(options.None).
		WithBlockCacheSize(0)
	db, err := badger.Open(opts)
	if err != nil {
		tb.Fatalf("open badger: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// txnKV is a KV over one Badger transaction that commits and starts a new
// one when the transaction grows too big. failAfter > 0 makes the Set with
// that ordinal fail (to simulate a crash in the middle of an apply).
type txnKV struct {
	db        *badger.DB
	txn       *badger.Txn
	sets      int
	commits   int // early commits
	failAfter int
}

var errInjected = errors.New("injected failure")

func newTxnKV(db *badger.DB) *txnKV { return &txnKV{db: db, txn: db.NewTransaction(true)} }

func (k *txnKV) Has(key []byte) (bool, error) {
	_, err := k.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (k *txnKV) Set(key, value []byte) error {
	k.sets++
	if k.failAfter > 0 && k.sets >= k.failAfter {
		return errInjected
	}
	err := k.txn.Set(key, value)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err := k.txn.Commit(); err != nil {
			return err
		}
		k.commits++
		k.txn = k.db.NewTransaction(true)
		err = k.txn.Set(key, value)
	}
	return err
}

func (k *txnKV) commit() error { return k.txn.Commit() }

func (k *txnKV) Delete(key []byte) error {
	err := k.txn.Delete(key)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err := k.txn.Commit(); err != nil {
			return err
		}
		k.commits++
		k.txn = k.db.NewTransaction(true)
		err = k.txn.Delete(key)
	}
	return err
}

func (k *txnKV) Scan(prefix []byte, limit int, fn func(key, value []byte) error) error {
	return ScanTxn(k.txn, prefix, limit, fn)
}

func addChunks(tb testing.TB, db *badger.DB, entries ...ChunkEntry) {
	tb.Helper()
	kv := newTxnKV(db)
	if err := AddChunks(kv, entries); err != nil {
		tb.Fatalf("AddChunks: %v", err)
	}
	if err := kv.commit(); err != nil {
		tb.Fatalf("commit: %v", err)
	}
}

// entry builds a valid chunk entry for tenant and labels (name, value, ...).
func entry(tenant, key string, from, through int64, lbls ...string) ChunkEntry {
	ls := labels.FromStrings(lbls...)
	return ChunkEntry{
		Ref: ChunkRef{
			Tenant: tenant, Fingerprint: model.StreamFingerprint(tenant, ls), Key: key,
			From: from, Through: through, Size: uint32(len(key)), Entries: 7,
		},
		Labels: ls,
	}
}

// dumpKeys returns every key and value of the database, for comparisons.
func dumpKeys(tb testing.TB, db *badger.DB) []string {
	tb.Helper()
	var out []string
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%x=%x", it.Item().Key(), v))
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("dump: %v", err)
	}
	return out
}

// selector parses a PromQL-style selector such as {app="api", env!=""}.
func selector(tb testing.TB, sel string) []*labels.Matcher {
	tb.Helper()
	ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector(sel)
	if err != nil {
		tb.Fatalf("parse %s: %v", sel, err)
	}
	return ms
}

func itoa(i int) string { return fmt.Sprint(i) }
