package tail

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// Pusher makes pushes durable (the ingester).
type Pusher interface {
	Push(ctx context.Context, tenant string, streams []model.Stream) error
}

// Hub fans acknowledged pushes out to subscriptions.
type Hub struct {
	next  Pusher
	count atomic.Int64 // number of live subscriptions
	mu    sync.RWMutex // guards subs
	subs  map[*Subscription]struct{}
}

// NewHub returns a Hub in front of next.
func NewHub(next Pusher) *Hub {
	return &Hub{next: next, subs: map[*Subscription]struct{}{}}
}

// Push forwards to the wrapped Pusher and, once it succeeded, offers the
// streams to the subscriptions.
func (h *Hub) Push(ctx context.Context, tenant string, streams []model.Stream) error {
	if err := h.next.Push(ctx, tenant, streams); err != nil {
		return err
	}
	if h.count.Load() == 0 {
		return nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if s.tenant == tenant {
			s.offer(streams)
		}
	}
	return nil
}

// Subscription receives the entries of one tail request.
type Subscription struct {
	hub      *Hub
	tenant   string
	matchers []*labels.Matcher
	queue    chan model.StreamEntry
	dropped  atomic.Int64
	once     sync.Once
}

// Subscribe starts a subscription to the streams of tenant matching ms,
// queueing at most queueLen entries. Close it when done.
func (h *Hub) Subscribe(tenant string, ms []*labels.Matcher, queueLen int) *Subscription {
	s := &Subscription{hub: h, tenant: tenant, matchers: ms, queue: make(chan model.StreamEntry, queueLen)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	h.count.Add(1)
	return s
}

// Entries is the queue of entries, in push order.
func (s *Subscription) Entries() <-chan model.StreamEntry { return s.queue }

// Dropped returns and resets the number of entries dropped because the
// queue was full.
func (s *Subscription) Dropped() int64 { return s.dropped.Swap(0) }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.hub.mu.Lock()
		delete(s.hub.subs, s)
		s.hub.mu.Unlock()
		s.hub.count.Add(-1)
	})
}

func (s *Subscription) offer(streams []model.Stream) {
	for i := range streams {
		st := &streams[i]
		if !matches(s.matchers, st.Labels) {
			continue
		}
		for _, e := range st.Entries {
			se := model.StreamEntry{Labels: st.Labels, Fingerprint: st.Fingerprint, Entry: e.Clone()}
			select {
			case s.queue <- se:
			default:
				s.dropped.Add(1)
			}
		}
	}
}

func matches(ms []*labels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}
