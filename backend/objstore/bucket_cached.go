package objstore

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// cacheEntryOverhead approximates the memory of one cache entry beyond its
// key and data (list element, map slot, entry struct).
const cacheEntryOverhead = 128

// cachedBucket keeps recently read whole objects in memory, in LRU order,
// up to maxBytes. Objects are immutable, so a cached copy stays valid until
// the object is deleted through this bucket.
type cachedBucket struct {
	inner     Bucket
	maxBytes  int64
	maxObject int64 // larger objects are not cached

	mu    sync.Mutex               // guards the fields below
	lru   *list.List               // of *cacheEntry, most recently used first
	items map[string]*list.Element // key -> element of lru
	size  int64                    // sum of entry sizes in lru
	epoch uint64                   // bumped by Delete; fills begun earlier are not stored
	fills map[string]*cacheFill    // in-flight Gets from inner, by key

	hits, misses, coalesced, evictions prometheus.Counter
	bytes, objects                     prometheus.Gauge
}

type cacheEntry struct {
	key  string
	data []byte // never handed out; callers get copies
}

// cacheFill is one in-flight Get from the inner bucket that concurrent
// Gets of the same key wait for. data and err are set before done closes.
type cacheFill struct {
	done chan struct{}
	data []byte
	err  error
}

// NewCached returns b behind a bounded LRU cache of whole objects read
// with Get (maxBytes <= 0: b itself). GetRange and Exists are answered from
// the cache when the whole object is there, and passed through otherwise
// without filling it; Put and Iter pass through; Delete evicts. Objects
// larger than maxBytes/4 are not cached. Concurrent Gets of the same
// missing key share one read of the inner bucket. Returned slices are
// copies that belong to the caller.
//
// Metrics registered with reg (nil: not registered):
// lode_objstore_cache_hits_total (Get, GetRange and Exists answered from
// memory), lode_objstore_cache_misses_total (Gets that read the inner
// bucket), lode_objstore_cache_coalesced_total (Gets that waited for
// another Get's read), lode_objstore_cache_evictions_total,
// lode_objstore_cache_bytes and lode_objstore_cache_objects.
func NewCached(b Bucket, maxBytes int64, reg prometheus.Registerer) Bucket {
	if maxBytes <= 0 {
		return b
	}
	f := promauto.With(reg)
	counter := func(name, help string) prometheus.Counter {
		return f.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return f.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	return &cachedBucket{
		inner:     b,
		maxBytes:  maxBytes,
		maxObject: maxBytes / 4,
		lru:       list.New(),
		items:     make(map[string]*list.Element),
		fills:     make(map[string]*cacheFill),
		hits:      counter("lode_objstore_cache_hits_total", "Object reads answered from the cache."),
		misses:    counter("lode_objstore_cache_misses_total", "Object Gets that read the underlying store."),
		coalesced: counter("lode_objstore_cache_coalesced_total", "Object Gets that waited for a concurrent read of the same object."),
		evictions: counter("lode_objstore_cache_evictions_total", "Objects evicted from the cache to make room."),
		bytes:     gauge("lode_objstore_cache_bytes", "Memory held by cached objects, including keys and overhead."),
		objects:   gauge("lode_objstore_cache_objects", "Objects in the cache."),
	}
}

func entrySize(key string, data []byte) int64 {
	return int64(len(key) + len(data) + cacheEntryOverhead)
}

// lookupLocked returns the cached data of key (not a copy) and marks it used.
func (c *cachedBucket) lookupLocked(key string) ([]byte, bool) {
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cacheEntry).data, true
}

func (c *cachedBucket) addLocked(key string, data []byte) {
	if _, ok := c.items[key]; ok || int64(len(data)) > c.maxObject {
		return
	}
	c.items[key] = c.lru.PushFront(&cacheEntry{key: key, data: data})
	c.size += entrySize(key, data)
	for c.size > c.maxBytes {
		c.removeLocked(c.lru.Back())
		c.evictions.Inc()
	}
	c.updateGaugesLocked()
}

func (c *cachedBucket) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.items, e.key)
	c.size -= entrySize(e.key, e.data)
}

func (c *cachedBucket) updateGaugesLocked() {
	c.bytes.Set(float64(c.size))
	c.objects.Set(float64(len(c.items)))
}

// Get returns a copy of the cached object, or reads it once from the inner
// bucket for all concurrent callers and caches it.
func (c *cachedBucket) Get(ctx context.Context, key string) ([]byte, error) {
	for {
		c.mu.Lock()
		if data, ok := c.lookupLocked(key); ok {
			c.mu.Unlock()
			c.hits.Inc()
			return bytes.Clone(data), nil
		}
		if fill, ok := c.fills[key]; ok {
			c.mu.Unlock()
			c.coalesced.Inc()
			data, retry, err := c.wait(ctx, key, fill)
			if retry {
				continue
			}
			return data, err
		}
		fill := &cacheFill{done: make(chan struct{})}
		c.fills[key] = fill
		epoch := c.epoch
		c.mu.Unlock()
		return c.fill(ctx, key, fill, epoch)
	}
}

// wait waits for another caller's fill of key. retry is true when that
// caller gave up because of its own context while ctx is still live.
func (c *cachedBucket) wait(ctx context.Context, key string, fill *cacheFill) (data []byte, retry bool, err error) {
	select {
	case <-fill.done:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("get %s: %w", key, ctx.Err())
	}
	if fill.err != nil {
		if isContextError(fill.err) && ctx.Err() == nil {
			return nil, true, nil
		}
		return nil, false, fill.err
	}
	return bytes.Clone(fill.data), false, nil
}

// fill reads key from the inner bucket on behalf of every waiter and
// caches it unless a Delete ran meanwhile.
func (c *cachedBucket) fill(ctx context.Context, key string, fill *cacheFill, epoch uint64) ([]byte, error) {
	c.misses.Inc()
	data, err := c.inner.Get(ctx, key)
	fill.data, fill.err = data, err
	c.mu.Lock()
	delete(c.fills, key)
	if err == nil && c.epoch == epoch {
		c.addLocked(key, data)
	}
	c.mu.Unlock()
	close(fill.done)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(data), nil
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// GetRange answers from a cached whole object, else reads the range from
// the inner bucket without caching.
func (c *cachedBucket) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	c.mu.Lock()
	data, ok := c.lookupLocked(key)
	if ok {
		end, err := checkRange(int64(len(data)), off, length)
		if err == nil {
			data = bytes.Clone(data[off:end])
		}
		c.mu.Unlock()
		c.hits.Inc()
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", key, err)
		}
		return data, nil
	}
	c.mu.Unlock()
	return c.inner.GetRange(ctx, key, off, length)
}

// Exists is true without a request when the object is cached.
func (c *cachedBucket) Exists(ctx context.Context, key string) (bool, error) {
	c.mu.Lock()
	_, ok := c.items[key]
	c.mu.Unlock()
	if ok {
		c.hits.Inc()
		return true, nil
	}
	return c.inner.Exists(ctx, key)
}

// Delete evicts key and deletes it from the inner bucket. Evicting before
// and after the inner delete, and bumping the epoch each time, keeps a Get
// that runs concurrently from caching the deleted object.
func (c *cachedBucket) Delete(ctx context.Context, key string) error {
	c.forget(key)
	err := c.inner.Delete(ctx, key)
	c.forget(key)
	return err
}

func (c *cachedBucket) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if el, ok := c.items[key]; ok {
		c.removeLocked(el)
		c.updateGaugesLocked()
	}
}

func (c *cachedBucket) Put(ctx context.Context, key string, data []byte) error {
	return c.inner.Put(ctx, key, data)
}

func (c *cachedBucket) Iter(ctx context.Context, prefix string, fn func(key string) error) error {
	return c.inner.Iter(ctx, prefix, fn)
}
