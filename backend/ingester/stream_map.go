package ingester

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// numStripes is the number of independently locked parts of the stream
// map (a power of two).
const numStripes = 1024

// streamMap holds the streams by fingerprint, split into stripes so that
// pushes to different streams rarely contend. Lock order: a stripe lock,
// then a stream's mu; never the reverse.
type streamMap struct {
	stripes [numStripes]streamStripe
	n       atomic.Int64 // number of streams
}

type streamStripe struct {
	mu sync.RWMutex // guards m and the next chains of its streams
	m  map[model.Fingerprint]*stream
}

func (m *streamMap) stripe(fp model.Fingerprint) *streamStripe {
	return &m.stripes[uint64(fp)&(numStripes-1)]
}

// find returns the stream of tenant with labels ls, or nil. The caller
// holds st.mu.
func (st *streamStripe) find(tenant string, fp model.Fingerprint, ls labels.Labels) *stream {
	for s := st.m[fp]; s != nil; s = s.next {
		if s.tenant == tenant && labels.Equal(s.labels, ls) {
			return s
		}
	}
	return nil
}

// getOrCreate returns the stream of tenant with labels ls, creating it with
// a new id from newSID if it does not exist.
func (m *streamMap) getOrCreate(tenant string, fp model.Fingerprint, ls labels.Labels, newSID func() uint64) *stream {
	st := m.stripe(fp)
	st.mu.RLock()
	s := st.find(tenant, fp, ls)
	st.mu.RUnlock()
	if s != nil {
		return s
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.find(tenant, fp, ls); s != nil {
		return s
	}
	s = newStream(tenant, fp, ls, newSID())
	m.insertLocked(st, s)
	return s
}

func newStream(tenant string, fp model.Fingerprint, ls labels.Labels, sid uint64) *stream {
	s := &stream{tenant: tenant, labels: ls, fp: fp, sid: sid}
	s.head.release(nil)
	s.dedup.release()
	return s
}

// insert adds s, which must not be in the map (replay).
func (m *streamMap) insert(s *stream) {
	st := m.stripe(s.fp)
	st.mu.Lock()
	m.insertLocked(st, s)
	st.mu.Unlock()
}

func (m *streamMap) insertLocked(st *streamStripe, s *stream) {
	if st.m == nil {
		st.m = make(map[model.Fingerprint]*stream)
	}
	s.next = st.m[s.fp]
	st.m[s.fp] = s
	m.n.Add(1)
}

// removeIf removes s from the map and sets s.removed if ok, which is
// called with the stripe lock and s.mu held, returns true. It reports
// whether s was removed.
func (m *streamMap) removeIf(s *stream, ok func() bool) bool {
	st := m.stripe(s.fp)
	st.mu.Lock()
	defer st.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed || !ok() {
		return false
	}
	s.removed = true
	p := st.m[s.fp]
	if p == s {
		if s.next == nil {
			delete(st.m, s.fp)
		} else {
			st.m[s.fp] = s.next
		}
	} else {
		for p != nil && p.next != s {
			p = p.next
		}
		if p == nil {
			panic("BUG: stream not in its stripe")
		}
		p.next = s.next
	}
	s.next = nil
	m.n.Add(-1)
	return true
}

// all returns a snapshot of the streams, of one tenant if tenant != "".
func (m *streamMap) all(tenant string) []*stream {
	out := make([]*stream, 0, m.n.Load())
	for i := range m.stripes {
		st := &m.stripes[i]
		st.mu.RLock()
		for _, s := range st.m {
			for ; s != nil; s = s.next {
				if tenant == "" || s.tenant == tenant {
					out = append(out, s)
				}
			}
		}
		st.mu.RUnlock()
	}
	return out
}

func (m *streamMap) len() int { return int(m.n.Load()) }
