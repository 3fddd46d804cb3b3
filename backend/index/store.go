package index

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// Store is the index read from a Badger database holding keys written by
// AddChunks. It is safe for concurrent use; each call reads one consistent
// snapshot of the database.
type Store struct {
	db *badger.DB
}

// NewStore returns a Store reading db. The caller keeps ownership of db.
func NewStore(db *badger.DB) *Store { return &Store{db: db} }

// view runs fn for every period of tenant overlapping [from, through] that
// holds index keys.
func (s *Store) view(ctx context.Context, tenant string, from, through int64, fn func(r *periodReader) error) error {
	if from > through {
		return nil
	}
	err := s.db.View(func(txn *badger.Txn) error {
		return walkPeriods(ctx, txn, tenant, PeriodOf(from), PeriodOf(through), func(p Period) error {
			return fn(&periodReader{ctx: ctx, txn: txn, tenant: tenant, p: p})
		})
	})
	if err != nil {
		return fmt.Errorf("read index of tenant %q: %w", tenant, err)
	}
	return nil
}

// walkPeriods calls fn for each period in [first, last] holding keys of
// tenant, jumping over empty periods with one seek each.
func walkPeriods(ctx context.Context, txn *badger.Txn, tenant string, first, last Period, fn func(Period) error) error {
	tp := tenantPrefix(nil, tenant)
	it := txn.NewIterator(keysOnly(tp))
	defer it.Close()
	seek := make([]byte, 0, len(tp)+periodLn)
	for p := first; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		it.Seek(appendPeriod(append(seek[:0], tp...), p))
		if !it.Valid() {
			return nil
		}
		k := it.Item().Key()
		if len(k) < len(tp)+periodLn {
			return fmt.Errorf("index key of %d bytes: %w", len(k), ErrCorrupt)
		}
		if p = decodePeriod(k[len(tp):]); p > last {
			return nil
		}
		if err := fn(p); err != nil {
			return err
		}
		if p == last {
			return nil
		}
		p++
	}
}

// Streams implements Reader.
func (s *Store) Streams(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]Stream, error) {
	pl, err := planMatchers(ms)
	if err != nil {
		return nil, err
	}
	var out []Stream
	seen := make(map[model.Fingerprint]struct{})
	err = s.view(ctx, tenant, from, through, func(r *periodReader) (err error) {
		out, err = r.streams(&pl, seen, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Stream) int { return cmp.Compare(a.Fingerprint, b.Fingerprint) })
	return out, nil
}

// Chunks implements Reader.
func (s *Store) Chunks(ctx context.Context, tenant string, fp model.Fingerprint, from, through int64) ([]ChunkRef, error) {
	var out []ChunkRef
	err := s.view(ctx, tenant, from, through, func(r *periodReader) (err error) {
		out, err = r.chunks(fp, from, through, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	// A ref covering several periods is stored (and found) in each.
	slices.SortFunc(out, func(a, b ChunkRef) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.Key, b.Key))
	})
	return slices.CompactFunc(out, func(a, b ChunkRef) bool { return a.Key == b.Key && a.From == b.From }), nil
}

// LabelNames implements Reader.
func (s *Store) LabelNames(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	set := make(map[string]struct{})
	if len(ms) == 0 {
		err := s.view(ctx, tenant, from, through, func(r *periodReader) error {
			return r.names(func(name string) { set[name] = struct{}{} })
		})
		if err != nil {
			return nil, err
		}
		return sortedKeys(set), nil
	}
	streams, err := s.Streams(ctx, tenant, from, through, ms)
	if err != nil {
		return nil, err
	}
	for _, st := range streams {
		st.Labels.Range(func(l labels.Label) { set[l.Name] = struct{}{} })
	}
	return sortedKeys(set), nil
}

// LabelValues implements Reader.
func (s *Store) LabelValues(ctx context.Context, tenant, name string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	set := make(map[string]struct{})
	if len(ms) == 0 {
		err := s.view(ctx, tenant, from, through, func(r *periodReader) error {
			return r.values(name, func(v string) { set[v] = struct{}{} })
		})
		if err != nil {
			return nil, err
		}
		return sortedKeys(set), nil
	}
	// Only streams carrying the label have a value for it; saying so also
	// makes matchers that all match "" acceptable here.
	has, err := labels.NewMatcher(labels.MatchNotEqual, name, "")
	if err != nil {
		return nil, fmt.Errorf("label values of %q: %w", name, err)
	}
	streams, err := s.Streams(ctx, tenant, from, through, append(slices.Clip(ms), has))
	if err != nil {
		return nil, err
	}
	for _, st := range streams {
		set[st.Labels.Get(name)] = struct{}{}
	}
	return sortedKeys(set), nil
}

func sortedKeys(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
