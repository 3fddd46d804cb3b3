package cluster

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/lode-logs/lode/backend/index"
)

// splitTxn is the write side of one FSM apply: a Badger read-write
// transaction that, when it grows too big, commits what it holds and goes
// on in a new one. Reads see all earlier writes. Used by the FSM goroutine.
// It implements index.KV.
type splitTxn struct {
	db      *badger.DB
	txn     *badger.Txn
	commits int // early commits, for metrics
}

var _ index.KV = (*splitTxn)(nil)

func newSplitTxn(db *badger.DB) *splitTxn {
	return &splitTxn{db: db, txn: db.NewTransaction(true)}
}

// Has implements index.KV.
func (t *splitTxn) Has(key []byte) (bool, error) {
	_, err := t.txn.Get(key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("badger get: %w", err)
	}
}

// Get returns a copy of the value under key, or nil and false.
func (t *splitTxn) Get(key []byte) ([]byte, bool, error) {
	item, err := t.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("badger get: %w", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, false, fmt.Errorf("badger read value: %w", err)
	}
	return v, true, nil
}

// Set implements index.KV.
func (t *splitTxn) Set(key, value []byte) error {
	return t.write(func(txn *badger.Txn) error { return txn.Set(key, value) })
}

// Delete removes key.
func (t *splitTxn) Delete(key []byte) error {
	return t.write(func(txn *badger.Txn) error { return txn.Delete(key) })
}

func (t *splitTxn) write(op func(*badger.Txn) error) error {
	err := op(t.txn)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err := t.txn.Commit(); err != nil {
			return fmt.Errorf("badger commit: %w", err)
		}
		t.commits++
		t.txn = t.db.NewTransaction(true)
		err = op(t.txn)
	}
	if err != nil {
		return fmt.Errorf("badger write: %w", err)
	}
	return nil
}

// Commit commits the remaining writes.
func (t *splitTxn) Commit() error {
	if err := t.txn.Commit(); err != nil {
		return fmt.Errorf("badger commit: %w", err)
	}
	return nil
}

// Discard drops uncommitted writes; a no-op after Commit.
func (t *splitTxn) Discard() { t.txn.Discard() }
