package cluster

import (
	"bytes"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// seenRequestID reports whether id was applied within requestIDTTL of now
// (FSM time). The decision depends only on the log, never on when expired
// ids are pruned.
func seenRequestID(txn *splitTxn, id RequestID, now int64) (bool, error) {
	v, ok, err := txn.Get(requestKey(id))
	if err != nil || !ok {
		return false, err
	}
	at, err := decodeTime(v)
	if err != nil {
		return false, fmt.Errorf("request id record: %w", err)
	}
	return at >= now-requestIDTTL.Milliseconds(), nil
}

// recordRequestID remembers that id was applied at now.
func recordRequestID(txn *splitTxn, id RequestID, now int64) error {
	if err := txn.Set(requestKey(id), encodeTime(now)); err != nil {
		return err
	}
	return txn.Set(expiryKey(now, id), nil)
}

// pruneLimit bounds the expired ids deleted per apply.
const pruneLimit = 1024

// pruneRequestIDs deletes up to pruneLimit ids that expired before now,
// scanning the committed expiry keys (which are ordered by time).
func pruneRequestIDs(db *badger.DB, txn *splitTxn, now int64) error {
	cutoff := expiryKey(now-requestIDTTL.Milliseconds(), RequestID{})
	var expired [][]byte
	err := db.View(func(rt *badger.Txn) error {
		it := rt.NewIterator(badger.IteratorOptions{Prefix: []byte{nsExpiry}})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(expired) < pruneLimit; it.Next() {
			k := it.Item().Key()
			if bytes.Compare(k, cutoff) >= 0 {
				break
			}
			expired = append(expired, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan expired request ids: %w", err)
	}
	for _, k := range expired {
		if err := txn.Delete(k); err != nil {
			return err
		}
		var id RequestID
		copy(id[:], k[9:])
		// The id may have been applied again since (after expiring): keep
		// its newer record.
		seen, err := seenRequestID(txn, id, now)
		if err != nil {
			return err
		}
		if seen {
			continue
		}
		if err := txn.Delete(requestKey(id)); err != nil {
			return err
		}
	}
	return nil
}
