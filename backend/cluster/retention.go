package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/lode-logs/lode/backend/index"
)

// Retention: the leader proposes dropPeriod for a tenant's index period
// that is past its retention; applying it deletes the period's index keys
// and records the objects of the chunks that ended in it under 'x' keys
// with the command's time. Once nothing may still read them, the leader
// deletes those objects from the bucket and proposes forget, which marks
// their records deleted (with its time, and an expiry key by that time);
// records deleted more than forgetAfter ago are purged by later forgets,
// oldest first, through the expiry keys. The records live in the
// FSM, so a new leader finishes what a failed one started. While a record
// exists, addChunks skips refs to its object: a replica flushing the same
// chunk late does not bring back a dropped day, nor a ref to a deleted
// object; and since it may have stored the object again, a record marked
// deleted becomes pending again, so that the leader deletes it once more.

// forgetAfter is how long the record of a deleted object is kept (FSM
// time). Fixed: replicas must take the same decisions.
const forgetAfter = time.Hour

// purgeLimit bounds the records one forget purges.
const purgeLimit = 4096

// encodeDropPeriod: tenant str, period (varint).
func encodeDropPeriod(tenant string, p index.Period) []byte {
	return binary.AppendVarint(appendBytes(nil, tenant), int64(p))
}

func decodeDropPeriod(b []byte) (string, index.Period, error) {
	d := decoder{b: b}
	tenant := d.str()
	p := d.varint()
	if d.err == nil && (p < -1<<31 || p > 1<<31-1) {
		d.fail("period")
	}
	return tenant, index.Period(p), d.finish()
}

func deletedKey(object string) []byte { return append([]byte{nsDeleted}, object...) }

// Scan implements index.ScanKV.
func (t *splitTxn) Scan(prefix []byte, limit int, fn func(key, value []byte) error) error {
	return index.ScanTxn(t.txn, prefix, limit, fn)
}

func (f *fsm) applyDropPeriod(txn *splitTxn, unixMs int64, body []byte) (rejected, err error) {
	tenant, p, err := decodeDropPeriod(body)
	if err != nil {
		return err, nil
	}
	return nil, index.DropPeriod(txn, tenant, p, func(object string) error {
		if ok, err := txn.Has(deletedKey(object)); err != nil || ok {
			return err // recorded already (a ref added again while deleted)
		}
		return txn.Set(deletedKey(object), encodeTime(unixMs))
	})
}

// applyForget marks the records of deleted objects, then purges records
// deleted more than forgetAfter before unixMs.
func (f *fsm) applyForget(txn *splitTxn, unixMs int64, body []byte) (rejected, err error) {
	objects, err := decodeIDs(body)
	if err != nil {
		return err, nil
	}
	for _, o := range objects {
		v, ok, err := txn.Get(deletedKey(o))
		if err != nil {
			return nil, err
		}
		if ok && len(v) == 8 {
			// The expiry key first: a crash between the two writes leaves
			// at worst an expiry key whose record is not marked, which the
			// purge skips.
			if err := txn.Set(forgetKey(unixMs, o), nil); err != nil {
				return nil, err
			}
			if err := txn.Set(deletedKey(o), append(v, encodeTime(unixMs)...)); err != nil {
				return nil, err
			}
		}
	}
	// Purge, oldest first through the expiry keys: a record goes if it is
	// still marked deleted at that time (a record made pending again and
	// deleted later has a later expiry key).
	type expired struct{ key, object []byte }
	var purge []expired
	cutoff := unixMs - forgetAfter.Milliseconds()
	err = txn.Scan([]byte{nsForget}, purgeLimit, func(k, _ []byte) error {
		if len(k) < 9 || timeAt(k[1:]) > cutoff {
			return errEnough
		}
		purge = append(purge, expired{key: bytes.Clone(k), object: bytes.Clone(k[9:])})
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	for _, e := range purge {
		v, ok, err := txn.Get(deletedKey(string(e.object)))
		if err != nil {
			return nil, err
		}
		if ok && len(v) == 16 && string(v[8:]) == string(e.key[1:9]) {
			if err := txn.Delete(deletedKey(string(e.object))); err != nil {
				return nil, err
			}
		}
		if err := txn.Delete(e.key); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// forgetKey is the expiry key of an object's record marked deleted at
// unixMs: 'y' | time (8, BE, sign-flipped) | object key.
func forgetKey(unixMs int64, object string) []byte {
	return append(append([]byte{nsForget}, encodeTime(unixMs)...), object...)
}

// withoutDropped returns the entries whose object has no dropped-object
// record. A skipped entry's record, if marked deleted, is made pending
// again: the replica that sent it may have stored its object anew, and the
// leader then deletes it again.
func withoutDropped(txn *splitTxn, entries []index.ChunkEntry) ([]index.ChunkEntry, error) {
	out := entries[:0]
	for _, e := range entries {
		v, ok, err := txn.Get(deletedKey(e.Ref.Key))
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, e)
			continue
		}
		if len(v) == 16 {
			if err := txn.Set(deletedKey(e.Ref.Key), v[:8]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// TenantPeriods lists the index periods of every tenant in the local
// replica.
func (n *Node) TenantPeriods(ctx context.Context) ([]index.TenantPeriod, error) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return n.fsm.index.TenantPeriods(ctx)
}

// DropPeriod commits the removal of tenant's index period p: its chunk
// refs, streams and postings. The objects of the chunks that ended in p
// are listed by DroppedObjects from then on.
func (n *Node) DropPeriod(ctx context.Context, tenant string, p index.Period) error {
	if err := n.propose(ctx, cmdDropPeriod, encodeDropPeriod(tenant, p)); err != nil {
		return fmt.Errorf("drop period %d of tenant %q: %w", p, tenant, err)
	}
	return nil
}

// DroppedObjects returns up to limit object keys of dropped chunks whose
// period was dropped at or before unixMs and that are not yet deleted,
// from the local replica.
func (n *Node) DroppedObjects(ctx context.Context, unixMs int64, limit int) ([]string, error) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	var out []string
	err := n.fsm.db.View(func(txn *badger.Txn) error {
		return index.ScanTxn(txn, []byte{nsDeleted}, 1<<62, func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(out) == limit {
				return errEnough
			}
			if len(v) != 8 && len(v) != 16 {
				return fmt.Errorf("dropped object record of %d bytes: %w", len(v), index.ErrCorrupt)
			}
			if len(v) == 8 && timeAt(v) <= unixMs {
				out = append(out, string(k[1:]))
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("list dropped objects: %w", err)
	}
	return out, nil
}

var errEnough = errors.New("enough")

// timeAt decodes the 8-byte time at the start of b.
func timeAt(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ sign64) }

// ForgetObjects commits that dropped objects are deleted from the bucket.
// Their records stay for forgetAfter, so that a late ref to them is still
// refused.
func (n *Node) ForgetObjects(ctx context.Context, objects []string) error {
	if len(objects) == 0 {
		return nil
	}
	if err := n.propose(ctx, cmdForget, encodeIDs(objects)); err != nil {
		return fmt.Errorf("forget %d dropped objects: %w", len(objects), err)
	}
	return nil
}
