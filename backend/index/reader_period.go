package index

import (
	"context"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// periodReader reads one tenant's index of one period inside a read-only
// Badger transaction. It is used by one goroutine.
type periodReader struct {
	ctx    context.Context
	txn    *badger.Txn
	tenant string
	p      Period
	ticks  int
	key    []byte // scratch for keys built per call
	cur    []byte // scratch: the key prefix being skipped
}

// checkEvery is how many keys a scan visits between context checks.
const checkEvery = 4096

func (r *periodReader) tick() error {
	r.ticks++
	if r.ticks%checkEvery == 0 {
		return r.ctx.Err()
	}
	return nil
}

func keysOnly(prefix []byte) badger.IteratorOptions {
	return badger.IteratorOptions{PrefetchValues: false, Prefix: prefix}
}

// skipPrefix moves it past every key starting with prefix. A few Next
// calls are cheaper than a Seek when the prefix holds only a few keys.
func skipPrefix(it *badger.Iterator, prefix []byte) {
	for range 4 {
		it.Next()
		if !it.ValidForPrefix(prefix) {
			return
		}
	}
	next := prefixSuccessor(prefix)
	if next == nil {
		for it.ValidForPrefix(prefix) {
			it.Next()
		}
		return
	}
	it.Seek(next)
}

// postings returns the sorted fingerprints of the streams whose label
// m.Name has a value matched by m (m must not match "").
func (r *periodReader) postings(m *labels.Matcher) ([]model.Fingerprint, error) {
	if m.Type == labels.MatchEqual {
		return r.valuePostings(m.Name, m.Value, nil)
	}
	if set := setMatches(m); set != nil {
		var fps []model.Fingerprint
		var err error
		for _, v := range set {
			if fps, err = r.valuePostings(m.Name, v, fps); err != nil {
				return nil, err
			}
		}
		return normalize(fps), nil
	}
	var fps []model.Fingerprint
	err := r.walkValues(m.Name, lookupPrefix(m), func(value string) bool {
		return m.Matches(value)
	}, func(fp model.Fingerprint) { fps = append(fps, fp) })
	return normalize(fps), err
}

// valuePostings appends the fingerprints under (name, value) to dst.
func (r *periodReader) valuePostings(name, value string, dst []model.Fingerprint) ([]model.Fingerprint, error) {
	r.key = appendString(appendString(kindPrefix(r.key[:0], r.tenant, r.p, kindPostings), name), value)
	prefix := r.key
	it := r.txn.NewIterator(keysOnly(prefix))
	defer it.Close()
	for it.Seek(prefix); it.Valid(); it.Next() {
		if err := r.tick(); err != nil {
			return nil, err
		}
		k := it.Item().Key()
		if len(k) != len(prefix)+fpLen {
			return nil, fmt.Errorf("posting key of %d bytes: %w", len(k), ErrCorrupt)
		}
		dst = append(dst, decodeFingerprint(k[len(prefix):]))
	}
	return dst, nil
}

// walkValues visits the distinct values of label name that start with
// valuePrefix, in byte order. For each value accepted by match it calls
// onFP for the fingerprints under it; other values are skipped. The value
// string passed to match is only valid during the call.
func (r *periodReader) walkValues(name, valuePrefix string, match func(string) bool, onFP func(model.Fingerprint)) error {
	r.key = appendString(kindPrefix(r.key[:0], r.tenant, r.p, kindPostings), name)
	base := len(r.key)
	r.key = appendStringPrefix(r.key, valuePrefix)
	it := r.txn.NewIterator(keysOnly(r.key))
	defer it.Close()
	it.Seek(r.key)
	for it.Valid() {
		if err := r.tick(); err != nil {
			return err
		}
		k := it.Item().Key()
		n, escaped, err := splitString(k[base:])
		if err != nil {
			return err
		}
		if len(k) != base+n+fpLen {
			return fmt.Errorf("posting key of %d bytes: %w", len(k), ErrCorrupt)
		}
		r.cur = append(r.cur[:0], k[:base+n]...)
		if !match(valueView(k[base:base+n], escaped)) {
			skipPrefix(it, r.cur)
			continue
		}
		for ; it.ValidForPrefix(r.cur); it.Next() {
			if err := r.tick(); err != nil {
				return err
			}
			onFP(decodeFingerprint(it.Item().Key()[len(r.cur):]))
		}
	}
	return nil
}

// valueView returns the string an escaped, terminated key field encodes,
// without copying when it holds no escapes.
func valueView(field []byte, escaped bool) string {
	if !escaped {
		return yoloString(field[:len(field)-2])
	}
	s, _, _ := decodeString(field)
	return s
}

// names calls fn for each distinct label name of the period.
func (r *periodReader) names(fn func(name string)) error {
	r.key = kindPrefix(r.key[:0], r.tenant, r.p, kindPostings)
	base := len(r.key)
	it := r.txn.NewIterator(keysOnly(r.key))
	defer it.Close()
	for it.Seek(r.key); it.Valid(); {
		if err := r.tick(); err != nil {
			return err
		}
		k := it.Item().Key()
		name, _, err := decodeString(k[base:])
		if err != nil {
			return err
		}
		fn(name)
		r.cur = appendString(append(r.cur[:0], k[:base]...), name)
		skipPrefix(it, r.cur)
	}
	return nil
}

// values calls fn for each distinct value of label name in the period.
func (r *periodReader) values(name string, fn func(value string)) error {
	return r.walkValues(name, "", func(v string) bool {
		fn(strings.Clone(v))
		return false
	}, nil)
}

// chunks appends the refs of stream fp stored in the period that overlap
// [from, through].
func (r *periodReader) chunks(fp model.Fingerprint, from, through int64, dst []ChunkRef) ([]ChunkRef, error) {
	r.key = chunkKeyPrefix(r.key[:0], r.tenant, r.p, fp)
	prefix := r.key
	it := r.txn.NewIterator(keysOnly(prefix))
	defer it.Close()
	for it.Seek(prefix); it.Valid(); it.Next() {
		if err := r.tick(); err != nil {
			return nil, err
		}
		item := it.Item()
		ref := ChunkRef{Tenant: r.tenant, Fingerprint: fp}
		err := item.Value(func(v []byte) error {
			return decodeChunk(item.Key()[len(prefix):], v, &ref)
		})
		if err != nil {
			return nil, fmt.Errorf("read chunk ref: %w", err)
		}
		if ref.From > through {
			break // keys are sorted by From
		}
		if ref.Through >= from {
			dst = append(dst, ref)
		}
	}
	return dst, nil
}
