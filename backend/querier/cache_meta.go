package querier

import (
	"bytes"
	"container/list"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
)

// chunkMeta is what the querier keeps of a chunk object once it has read
// it: its labels and block index (with the token filters), enough to pick
// the blocks a query needs and fetch only those with ranged reads.
type chunkMeta struct {
	labels labels.Labels
	blocks []chunk.BlockMeta // filters owned (copied out of the object)
	size   int64             // bytes this entry accounts for in the cache
}

func newChunkMeta(c *chunk.Chunk) *chunkMeta {
	h := c.Header()
	m := &chunkMeta{labels: h.Labels, blocks: append([]chunk.BlockMeta(nil), c.Blocks()...), size: 256}
	for i := range m.blocks {
		m.blocks[i].Filter = bytes.Clone(m.blocks[i].Filter)
		m.size += int64(len(m.blocks[i].Filter)) + 128
	}
	return m
}

// metaCache is a bounded LRU of chunkMeta by object key. Chunk objects
// are immutable, so entries never go stale. Safe for concurrent use.
type metaCache struct {
	max  int64
	mu   sync.Mutex // guards used, lru and byKey
	used int64
	lru  *list.List // of *metaEntry, most recent first
	keys map[string]*list.Element
}

type metaEntry struct {
	key  string
	meta *chunkMeta
}

func newMetaCache(maxBytes int64) *metaCache {
	return &metaCache{max: maxBytes, lru: list.New(), keys: map[string]*list.Element{}}
}

func (c *metaCache) get(key string) (*chunkMeta, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.keys[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*metaEntry).meta, true
}

func (c *metaCache) put(key string, m *chunkMeta) {
	if c.max <= 0 || m.size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.keys[key]; ok {
		return
	}
	c.keys[key] = c.lru.PushFront(&metaEntry{key: key, meta: m})
	c.used += m.size
	for c.used > c.max {
		el := c.lru.Back()
		e := el.Value.(*metaEntry)
		c.lru.Remove(el)
		delete(c.keys, e.key)
		c.used -= e.meta.size
	}
}
