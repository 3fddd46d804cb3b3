package querier

import (
	"container/list"
	"sync"
)

// lru is a map bounded by the bytes its entries account for, dropping the
// least recently used entries first. Values are immutable once put, so they
// are shared with callers. Safe for concurrent use; with max <= 0 it keeps
// nothing.
type lru[K comparable, V any] struct {
	max   int64
	mu    sync.Mutex // guards used, order and items
	used  int64
	order *list.List // of *lruEntry, most recent first
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key  K
	val  V
	size int64
}

func newLRU[K comparable, V any](maxBytes int64) *lru[K, V] {
	return &lru[K, V]{max: maxBytes, order: list.New(), items: map[K]*list.Element{}}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	var zero V
	if c.max <= 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[K, V]).val, true
}

// put adds v under k unless k is present or v alone exceeds the bound.
func (c *lru[K, V]) put(k K, v V, size int64) {
	if c.max <= 0 || size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v, size: size})
	c.used += size
	for c.used > c.max {
		el := c.order.Back()
		e := el.Value.(*lruEntry[K, V])
		c.order.Remove(el)
		delete(c.items, e.key)
		c.used -= e.size
	}
}
