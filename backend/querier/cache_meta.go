package querier

import (
	"bytes"

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

// metaCache holds the chunkMeta of chunks read before, by object key.
// Chunk objects are immutable, so entries never go stale.
type metaCache struct{ lru *lru[string, *chunkMeta] }

func newMetaCache(maxBytes int64) *metaCache { return &metaCache{newLRU[string, *chunkMeta](maxBytes)} }

func (c *metaCache) get(key string) (*chunkMeta, bool) { return c.lru.get(key) }

func (c *metaCache) put(key string, m *chunkMeta) { c.lru.put(key, m, m.size) }

// blockKey names one block of a chunk object.
type blockKey struct {
	chunk string
	block int
}

// sectionKey names a column of a block: its timestamps or line lengths.
type sectionKey struct {
	blockKey
	lengths bool
}

// timestampsCache holds the timestamps (and line lengths) of blocks read
// before, packed by chunk.BlockScanner (no decompression to load them)
// after the block was verified against its checksum, so that counting
// entries (and bytes) per window reads and decompresses no object again:
// about 4-5 bytes per entry, 1-2 more with lengths.
type timestampsCache struct{ lru *lru[sectionKey, []byte] }

func newTimestampsCache(maxBytes int64) *timestampsCache {
	return &timestampsCache{newLRU[sectionKey, []byte](maxBytes)}
}

func (c *timestampsCache) get(k sectionKey) ([]byte, bool) { return c.lru.get(k) }

// put keeps packed, which the cache owns from then on.
func (c *timestampsCache) put(k sectionKey, packed []byte) {
	c.lru.put(k, packed, int64(cap(packed))+64)
}
