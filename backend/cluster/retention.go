package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/lode-logs/lode/backend/index"
)

// Retention: the leader proposes dropPeriod for a tenant's index period
// that is past its retention; applying it deletes the period's index keys
// and records the objects of the chunks that ended in it under 'x' keys
// with the FSM time. Once nothing may still read them, the leader deletes
// those objects from the bucket and proposes forget to remove their
// records. The records live in the FSM, so a new leader finishes what a
// failed one started.

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
		return txn.Set(deletedKey(object), encodeTime(unixMs))
	})
}

func (f *fsm) applyForget(txn *splitTxn, body []byte) (rejected, err error) {
	objects, err := decodeIDs(body)
	if err != nil {
		return err, nil
	}
	for _, o := range objects {
		if err := txn.Delete(deletedKey(o)); err != nil {
			return nil, err
		}
	}
	return nil, nil
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
// period was dropped at or before unixMs (FSM time), from the local
// replica.
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
			if len(v) != 8 {
				return fmt.Errorf("dropped object record of %d bytes: %w", len(v), index.ErrCorrupt)
			}
			if int64(binary.BigEndian.Uint64(v)^sign64) <= unixMs {
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

// ForgetObjects commits the removal of the records of dropped objects
// (once they are deleted from the bucket).
func (n *Node) ForgetObjects(ctx context.Context, objects []string) error {
	if len(objects) == 0 {
		return nil
	}
	if err := n.propose(ctx, cmdForget, encodeIDs(objects)); err != nil {
		return fmt.Errorf("forget %d dropped objects: %w", len(objects), err)
	}
	return nil
}
