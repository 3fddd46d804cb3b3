package index

import (
	"context"
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
)

// TenantPeriod is a tenant's index period holding keys.
type TenantPeriod struct {
	Tenant string
	Period Period
}

// End returns the first nanosecond after the period.
func (p Period) End() int64 { return p.Start() + PeriodNanos }

// TenantPeriods lists every tenant's periods that hold index keys, in key
// order (by tenant, then period), with one seek per period.
func (s *Store) TenantPeriods(ctx context.Context) ([]TenantPeriod, error) {
	var out []TenantPeriod
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(keysOnly([]byte{keyNamespace}))
		defer it.Close()
		for it.Seek([]byte{keyNamespace}); it.Valid(); {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := it.Item().Key()
			tenant, rest, err := decodeString(k[1:])
			if err != nil {
				return fmt.Errorf("index key: %w", err)
			}
			if len(rest) < periodLn {
				return fmt.Errorf("index key of %d bytes: %w", len(k), ErrCorrupt)
			}
			p := decodePeriod(rest)
			out = append(out, TenantPeriod{Tenant: tenant, Period: p})
			next := tenantPrefix(nil, tenant)
			if p == math.MaxInt32 {
				next = prefixSuccessor(next)
			} else {
				next = appendPeriod(next, p+1)
			}
			it.Seek(next)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list index periods: %w", err)
	}
	return out, nil
}

// ScanKV is the store DropPeriod works on: a KV that also deletes and
// lists keys, seeing its own earlier writes.
type ScanKV interface {
	KV
	Delete(key []byte) error
	// Scan calls fn with up to limit keys starting with prefix, in order,
	// and their values. The slices are valid during the call only.
	Scan(prefix []byte, limit int, fn func(key, value []byte) error) error
}

// dropPage is how many keys DropPeriod lists before deleting them.
const dropPage = 4096

// DropPeriod deletes every index key of tenant's period p. It calls
// release with the object key of each chunk whose time span ends in p (or
// before): those no later period refers to, whose objects can go. A chunk
// that also lies in a later period keeps its object until that period is
// dropped. Keys go page by page, each page's releases written before its
// deletions, so that whatever prefix of the writes a crash lets through
// records every object whose ref is gone. Deleting is idempotent: an apply
// cut short runs again.
func DropPeriod(kv ScanKV, tenant string, p Period, release func(object string) error) error {
	prefix := appendPeriod(tenantPrefix(nil, tenant), p)
	chunkPrefix := append(append([]byte(nil), prefix...), kindChunk)
	for {
		var keys [][]byte
		var objects []string
		err := kv.Scan(prefix, dropPage, func(k, v []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			if len(k) <= len(chunkPrefix) || string(k[:len(chunkPrefix)]) != string(chunkPrefix) {
				return nil
			}
			if len(k) < len(chunkPrefix)+fpLen {
				return fmt.Errorf("chunk key of %d bytes: %w", len(k), ErrCorrupt)
			}
			var ref ChunkRef
			if err := decodeChunk(k[len(chunkPrefix)+fpLen:], v, &ref); err != nil {
				return err
			}
			if PeriodOf(ref.Through) <= p {
				objects = append(objects, ref.Key)
			}
			return nil
		})
		if err == nil {
			for _, o := range objects {
				if err = release(o); err != nil {
					break
				}
			}
		}
		for _, k := range keys {
			if err != nil {
				break
			}
			err = kv.Delete(k)
		}
		if err != nil {
			return fmt.Errorf("drop period %d of tenant %q: %w", p, tenant, err)
		}
		if len(keys) == 0 {
			return nil
		}
	}
}

// ScanTxn implements ScanKV.Scan over a Badger transaction (which sees
// its own pending writes).
func ScanTxn(txn *badger.Txn, prefix []byte, limit int, fn func(key, value []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: prefix})
	defer it.Close()
	n := 0
	for it.Seek(prefix); it.Valid() && n < limit; it.Next() {
		item := it.Item()
		if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
			return err
		}
		n++
	}
	return nil
}
