package index

import (
	"bytes"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// deferLimit is the candidate count below which a matcher that needs a
// value scan is checked against the candidates' labels instead.
const deferLimit = 4096

// streams appends to out the streams of the period matching pl. seen holds
// the fingerprints already decided in other periods (a stream's labels are
// the same in every period, so the answer is too).
func (r *periodReader) streams(pl *matchPlan, seen map[model.Fingerprint]struct{}, out []Stream) ([]Stream, error) {
	cands, deferred, err := r.candidates(pl)
	if err != nil || len(cands) == 0 {
		return out, err
	}
	filters := pl.filters
	if len(deferred) > 0 {
		filters = append(append([]*labels.Matcher(nil), filters...), deferred...)
	}
	return r.loadStreams(cands, filters, seen, out)
}

// candidates intersects the postings of pl's non-empty matchers. Once the
// intersection is small, the remaining scanning matchers are returned as
// deferred, to be checked on labels.
func (r *periodReader) candidates(pl *matchPlan) (set []model.Fingerprint, deferred []*labels.Matcher, err error) {
	for i, m := range pl.postings {
		if i > 0 && len(set) <= deferLimit && matcherCost(m) > 1 {
			deferred = append(deferred, m)
			continue
		}
		fps, err := r.postings(m)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			set = fps
		} else {
			set = intersect(set, fps)
		}
		if len(set) == 0 {
			return nil, nil, nil
		}
	}
	return set, deferred, nil
}

// loadStreams reads the labels of the candidate streams (sorted) and
// appends those accepted by filters. Candidates without a labels key (a
// partly applied stream) are skipped.
func (r *periodReader) loadStreams(cands []model.Fingerprint, filters []*labels.Matcher, seen map[model.Fingerprint]struct{}, out []Stream) ([]Stream, error) {
	prefix := kindPrefix(nil, r.tenant, r.p, kindStream)
	target := bytes.Clone(prefix)
	it := r.txn.NewIterator(keysOnly(prefix))
	defer it.Close()
	sb := labels.NewScratchBuilder(16)
	var adv advancer
	it.Seek(prefix)
	for _, fp := range cands {
		if err := r.tick(); err != nil {
			return nil, err
		}
		if _, ok := seen[fp]; ok {
			continue
		}
		target = appendFingerprint(target[:len(prefix)], fp)
		if !adv.advanceTo(it, target) {
			break
		}
		item := it.Item()
		if !bytes.Equal(item.Key(), target) {
			continue
		}
		var ls labels.Labels
		err := item.Value(func(v []byte) (err error) {
			ls, err = decodeLabels(v, &sb)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read labels of stream %016x: %w", uint64(fp), err)
		}
		seen[fp] = struct{}{}
		if matchesAll(ls, filters) {
			out = append(out, Stream{Fingerprint: fp, Labels: ls})
		}
	}
	return out, nil
}

// advancer moves an iterator forward to targets in increasing order. A
// Seek costs about as much as dozens of Next calls, so it steps with Next
// while targets are dense and adapts its step budget: doubled when a target
// is reached by stepping, halved when it had to seek.
type advancer struct{ budget int }

const maxStepBudget = 64

// advanceTo positions it at the first key >= target; false when exhausted.
func (a *advancer) advanceTo(it *badger.Iterator, target []byte) bool {
	if a.budget == 0 {
		a.budget = 8
	}
	for range a.budget {
		if !it.Valid() {
			return false
		}
		if bytes.Compare(it.Item().Key(), target) >= 0 {
			a.budget = min(2*a.budget, maxStepBudget)
			return true
		}
		it.Next()
	}
	a.budget = max(a.budget/2, 1)
	it.Seek(target)
	return it.Valid()
}
