package frontend

import (
	"container/list"
	"sync"
)

// entryOverhead approximates the bookkeeping bytes of one cache entry (list
// element, map slot, headers of the key and value).
const entryOverhead = 128

// resultCache is an LRU of part answers (raw 200 bodies) bounded in bytes.
// Values are immutable once stored: get returns the stored slice, which
// callers only read. Safe for concurrent use.
type resultCache struct {
	max int64
	m   *metrics

	mu   sync.Mutex // guards used, lru and keys
	used int64
	lru  *list.List // of *cacheEntry, most recently used first
	keys map[string]*list.Element
}

type cacheEntry struct {
	key  string
	body []byte
}

func (e *cacheEntry) size() int64 { return int64(len(e.key)+len(e.body)) + entryOverhead }

func newResultCache(maxBytes int64, m *metrics) *resultCache {
	return &resultCache{max: maxBytes, m: m, lru: list.New(), keys: map[string]*list.Element{}}
}

// get returns the body stored under key and marks it recently used.
func (c *resultCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.keys[key]
	if !ok {
		c.m.cacheMisses.Inc()
		return nil, false
	}
	c.lru.MoveToFront(el)
	c.m.cacheHits.Inc()
	return el.Value.(*cacheEntry).body, true
}

// put stores body under key (replacing an older value), evicting the least
// recently used entries beyond the bound. An entry larger than the whole
// cache is not stored. put takes ownership of body.
func (c *resultCache) put(key string, body []byte) bool {
	e := &cacheEntry{key: key, body: body}
	if e.size() > c.max {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.keys[key]; ok {
		c.remove(el)
	}
	c.keys[key] = c.lru.PushFront(e)
	c.used += e.size()
	for c.used > c.max {
		c.remove(c.lru.Back())
		c.m.cacheEvictions.Inc()
	}
	c.updateGauges()
	return true
}

// remove drops el; c.mu must be held.
func (c *resultCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.keys, e.key)
	c.used -= e.size()
}

// updateGauges publishes the size; c.mu must be held.
func (c *resultCache) updateGauges() {
	c.m.cacheBytes.Set(float64(c.used))
	c.m.cacheEntries.Set(float64(c.lru.Len()))
}
