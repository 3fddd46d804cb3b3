package stats

import (
	"context"
	"sync/atomic"
	"time"
)

type ctxKey struct{}

// Context collects the counters of one running query. All methods are safe
// for concurrent use; a nil *Context ignores every call, so code paths that
// run without statistics need no checks.
type Context struct {
	querier  StoreCounters
	ingester StoreCounters

	ingesterReached       atomic.Int32
	ingesterChunksMatched atomic.Int64
	ingesterBatches       atomic.Int64
	ingesterLinesSent     atomic.Int64

	subqueries      atomic.Int64
	splits          atomic.Int64
	shards          atomic.Int64
	entriesReturned atomic.Int64
	queueTime       atomic.Int64 // ns

	caches [numCaches]CacheCounters

	indexTotalChunks      atomic.Int64
	indexPostFilterChunks atomic.Int64
	indexShardsDuration   atomic.Int64
	indexUsedBloomFilters atomic.Bool
}

// CacheKind names one of the caches reported in Result.Caches.
type CacheKind int

// The caches Loki reports.
const (
	CacheChunk CacheKind = iota
	CacheIndex
	CacheResult
	CacheStatsResult
	CacheVolumeResult
	CacheSeriesResult
	CacheLabelResult
	CacheInstantMetricResult
	numCaches
)

// StoreCounters are the counters of one data source (object-store chunks
// read by queriers, or ingesters' data).
type StoreCounters struct {
	chunksRef, chunksDownloaded, chunksDownloadTime        atomic.Int64
	headChunkBytes, headChunkLines                         atomic.Int64
	decompressedBytes, decompressedLines, compressedBytes  atomic.Int64
	duplicates, postFilterLines                            atomic.Int64
	headChunkMetadataBytes, decompressedMetadataBytes      atomic.Int64
	chunkRefsFetchTime, congestionLatency, wrapperFiltered atomic.Int64
	referencedStructuredMetadata                           atomic.Bool
}

// CacheCounters are the counters of one cache.
type CacheCounters struct {
	found, requested, stored, requests atomic.Int32
	bytesReceived, bytesSent           atomic.Int64
	downloadTime, queryLengthServed    atomic.Int64
}

// NewContext returns a fresh Context and ctx carrying it.
func NewContext(ctx context.Context) (*Context, context.Context) {
	c := &Context{}
	return c, context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the Context carried by ctx, or nil (which ignores
// every call) when there is none.
func FromContext(ctx context.Context) *Context {
	c, _ := ctx.Value(ctxKey{}).(*Context)
	return c
}

// Require returns the Context carried by ctx or ErrNoContext.
func Require(ctx context.Context) (*Context, error) {
	if c := FromContext(ctx); c != nil {
		return c, nil
	}
	return nil, ErrNoContext
}

// Querier returns the counters of chunks read from object storage.
func (c *Context) Querier() *StoreCounters {
	if c == nil {
		return nil
	}
	return &c.querier
}

// Ingester returns the counters of data read from ingesters.
func (c *Context) Ingester() *StoreCounters {
	if c == nil {
		return nil
	}
	return &c.ingester
}

// Cache returns the counters of cache k.
func (c *Context) Cache(k CacheKind) *CacheCounters {
	if c == nil || k < 0 || k >= numCaches {
		return nil
	}
	return &c.caches[k]
}

// AddIngesterReached counts ingesters that answered.
func (c *Context) AddIngesterReached(n int) {
	if c != nil {
		c.ingesterReached.Add(int32(n))
	}
}

// AddIngesterBatch counts one batch of lines and chunks sent by an ingester.
func (c *Context) AddIngesterBatch(lines, chunksMatched int) {
	if c != nil {
		c.ingesterBatches.Add(1)
		c.ingesterLinesSent.Add(int64(lines))
		c.ingesterChunksMatched.Add(int64(chunksMatched))
	}
}

// AddSubqueries, AddSplits and AddShards count how a query was divided.
func (c *Context) AddSubqueries(n int) {
	if c != nil {
		c.subqueries.Add(int64(n))
	}
}

// AddSplits counts time splits of the query.
func (c *Context) AddSplits(n int) {
	if c != nil {
		c.splits.Add(int64(n))
	}
}

// AddShards counts shards of the query.
func (c *Context) AddShards(n int) {
	if c != nil {
		c.shards.Add(int64(n))
	}
}

// AddEntriesReturned counts log entries or samples returned.
func (c *Context) AddEntriesReturned(n int) {
	if c != nil {
		c.entriesReturned.Add(int64(n))
	}
}

// AddQueueTime adds time the query waited before running.
func (c *Context) AddQueueTime(d time.Duration) {
	if c != nil {
		c.queueTime.Add(int64(d))
	}
}

// AddIndex adds index lookup figures: chunk refs found and those left after
// filtering, and the time spent computing shards.
func (c *Context) AddIndex(totalChunks, postFilterChunks int, shardsDuration time.Duration) {
	if c != nil {
		c.indexTotalChunks.Add(int64(totalChunks))
		c.indexPostFilterChunks.Add(int64(postFilterChunks))
		c.indexShardsDuration.Add(int64(shardsDuration))
	}
}

// SetUsedBloomFilters records that block filters were used to skip data.
func (c *Context) SetUsedBloomFilters() {
	if c != nil {
		c.indexUsedBloomFilters.Store(true)
	}
}

// AddChunks counts chunk references resolved and chunks downloaded, with
// the time spent downloading.
func (s *StoreCounters) AddChunks(refs, downloaded int, downloadTime time.Duration) {
	if s != nil {
		s.chunksRef.Add(int64(refs))
		s.chunksDownloaded.Add(int64(downloaded))
		s.chunksDownloadTime.Add(int64(downloadTime))
	}
}

// AddChunkRefsFetchTime adds time spent resolving chunk references.
func (s *StoreCounters) AddChunkRefsFetchTime(d time.Duration) {
	if s != nil {
		s.chunkRefsFetchTime.Add(int64(d))
	}
}

// AddDecompressed counts lines and bytes decompressed from chunk blocks, the
// compressed bytes they came from and their structured metadata bytes.
func (s *StoreCounters) AddDecompressed(lines, bytes, compressedBytes, metadataBytes int64) {
	if s != nil {
		s.decompressedLines.Add(lines)
		s.decompressedBytes.Add(bytes)
		s.compressedBytes.Add(compressedBytes)
		s.decompressedMetadataBytes.Add(metadataBytes)
	}
}

// AddHeadChunk counts lines and bytes read from uncompressed head blocks.
func (s *StoreCounters) AddHeadChunk(lines, bytes, metadataBytes int64) {
	if s != nil {
		s.headChunkLines.Add(lines)
		s.headChunkBytes.Add(bytes)
		s.headChunkMetadataBytes.Add(metadataBytes)
	}
}

// AddDuplicates counts entries dropped as replicas' duplicates.
func (s *StoreCounters) AddDuplicates(n int64) {
	if s != nil {
		s.duplicates.Add(n)
	}
}

// AddPostFilterLines counts lines that passed the query's pipeline.
func (s *StoreCounters) AddPostFilterLines(n int64) {
	if s != nil {
		s.postFilterLines.Add(n)
	}
}

// AddPipelineWrapperFilteredLines counts lines dropped by a pipeline wrapper.
func (s *StoreCounters) AddPipelineWrapperFilteredLines(n int64) {
	if s != nil {
		s.wrapperFiltered.Add(n)
	}
}

// AddCongestionLatency adds time spent waiting in congestion control.
func (s *StoreCounters) AddCongestionLatency(d time.Duration) {
	if s != nil {
		s.congestionLatency.Add(int64(d))
	}
}

// SetReferencedStructuredMetadata records that the query read structured
// metadata.
func (s *StoreCounters) SetReferencedStructuredMetadata() {
	if s != nil {
		s.referencedStructuredMetadata.Store(true)
	}
}

// AddRequest counts one cache request: entries requested and found, bytes
// received, and the time it took.
func (cc *CacheCounters) AddRequest(requested, found int, bytesReceived int64, d time.Duration) {
	if cc != nil {
		cc.requests.Add(1)
		cc.requested.Add(int32(requested))
		cc.found.Add(int32(found))
		cc.bytesReceived.Add(bytesReceived)
		cc.downloadTime.Add(int64(d))
	}
}

// AddStored counts entries and bytes written to the cache.
func (cc *CacheCounters) AddStored(entries int, bytesSent int64) {
	if cc != nil {
		cc.stored.Add(int32(entries))
		cc.bytesSent.Add(bytesSent)
	}
}

// AddQueryLengthServed adds the query time range served from the cache.
func (cc *CacheCounters) AddQueryLengthServed(d time.Duration) {
	if cc != nil {
		cc.queryLengthServed.Add(int64(d))
	}
}

func (s *StoreCounters) snapshot() Store {
	return Store{
		TotalChunksRef:                    s.chunksRef.Load(),
		TotalChunksDownloaded:             s.chunksDownloaded.Load(),
		ChunksDownloadTime:                s.chunksDownloadTime.Load(),
		QueryReferencedStructuredMetadata: s.referencedStructuredMetadata.Load(),
		Chunk: Chunk{
			HeadChunkBytes:                      s.headChunkBytes.Load(),
			HeadChunkLines:                      s.headChunkLines.Load(),
			DecompressedBytes:                   s.decompressedBytes.Load(),
			DecompressedLines:                   s.decompressedLines.Load(),
			CompressedBytes:                     s.compressedBytes.Load(),
			TotalDuplicates:                     s.duplicates.Load(),
			PostFilterLines:                     s.postFilterLines.Load(),
			HeadChunkStructuredMetadataBytes:    s.headChunkMetadataBytes.Load(),
			DecompressedStructuredMetadataBytes: s.decompressedMetadataBytes.Load(),
		},
		ChunkRefsFetchTime:           s.chunkRefsFetchTime.Load(),
		CongestionControlLatency:     s.congestionLatency.Load(),
		PipelineWrapperFilteredLines: s.wrapperFiltered.Load(),
	}
}

func (cc *CacheCounters) snapshot() Cache {
	return Cache{
		EntriesFound:      cc.found.Load(),
		EntriesRequested:  cc.requested.Load(),
		EntriesStored:     cc.stored.Load(),
		BytesReceived:     cc.bytesReceived.Load(),
		BytesSent:         cc.bytesSent.Load(),
		Requests:          cc.requests.Load(),
		DownloadTime:      cc.downloadTime.Load(),
		QueryLengthServed: cc.queryLengthServed.Load(),
	}
}

// Result snapshots the counters into a Result whose summary is computed
// with execTime (queue time comes from AddQueueTime). Entries returned are
// those counted with AddEntriesReturned. A nil Context gives a Result with
// only the times set.
func (c *Context) Result(execTime time.Duration) Result {
	var r Result
	if c == nil {
		r.ComputeSummary(execTime, 0, 0)
		return r
	}
	r.Querier.Store = c.querier.snapshot()
	r.Ingester = Ingester{
		TotalReached:       c.ingesterReached.Load(),
		TotalChunksMatched: c.ingesterChunksMatched.Load(),
		TotalBatches:       c.ingesterBatches.Load(),
		TotalLinesSent:     c.ingesterLinesSent.Load(),
		Store:              c.ingester.snapshot(),
	}
	caches := [numCaches]*Cache{&r.Caches.Chunk, &r.Caches.Index, &r.Caches.Result, &r.Caches.StatsResult,
		&r.Caches.VolumeResult, &r.Caches.SeriesResult, &r.Caches.LabelResult, &r.Caches.InstantMetricResult}
	for i, dst := range caches {
		*dst = c.caches[i].snapshot()
	}
	r.Index = Index{
		TotalChunks:      c.indexTotalChunks.Load(),
		PostFilterChunks: c.indexPostFilterChunks.Load(),
		ShardsDuration:   c.indexShardsDuration.Load(),
		UsedBloomFilters: c.indexUsedBloomFilters.Load(),
	}
	r.Summary.Subqueries = c.subqueries.Load()
	r.Summary.Splits = c.splits.Load()
	r.Summary.Shards = c.shards.Load()
	r.ComputeSummary(execTime, time.Duration(c.queueTime.Load()), int(c.entriesReturned.Load()))
	return r
}
