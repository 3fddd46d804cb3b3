package stats

import (
	"encoding/json"
	"time"
)

// Result is the statistics of one query, encoded as Loki's "stats" object.
type Result struct {
	Summary  Summary  `json:"summary"`
	Querier  Querier  `json:"querier"`
	Ingester Ingester `json:"ingester"`
	Caches   Caches   `json:"cache"`
	Index    Index    `json:"index"`
}

// Summary is the query-wide summary. Times are in seconds.
type Summary struct {
	BytesProcessedPerSecond               int64   `json:"bytesProcessedPerSecond"`
	LinesProcessedPerSecond               int64   `json:"linesProcessedPerSecond"`
	TotalBytesProcessed                   int64   `json:"totalBytesProcessed"`
	TotalLinesProcessed                   int64   `json:"totalLinesProcessed"`
	ExecTime                              float64 `json:"execTime"`
	QueueTime                             float64 `json:"queueTime"`
	Subqueries                            int64   `json:"subqueries"`
	TotalEntriesReturned                  int64   `json:"totalEntriesReturned"`
	Splits                                int64   `json:"splits"`
	Shards                                int64   `json:"shards"`
	TotalPostFilterLines                  int64   `json:"totalPostFilterLines"`
	TotalStructuredMetadataBytesProcessed int64   `json:"totalStructuredMetadataBytesProcessed"`
}

// Querier holds what queriers read from object storage.
type Querier struct {
	Store Store `json:"store"`
}

// Ingester holds what ingesters contributed to the query.
type Ingester struct {
	TotalReached       int32 `json:"totalReached"`
	TotalChunksMatched int64 `json:"totalChunksMatched"`
	TotalBatches       int64 `json:"totalBatches"`
	TotalLinesSent     int64 `json:"totalLinesSent"`
	Store              Store `json:"store"`
}

// Store holds chunk statistics of one source. Times are in nanoseconds.
type Store struct {
	TotalChunksRef                    int64 `json:"totalChunksRef"`
	TotalChunksDownloaded             int64 `json:"totalChunksDownloaded"`
	ChunksDownloadTime                int64 `json:"chunksDownloadTime"`
	QueryReferencedStructuredMetadata bool  `json:"queryReferencedStructuredMetadata"`
	Chunk                             Chunk `json:"chunk"`
	ChunkRefsFetchTime                int64 `json:"chunkRefsFetchTime"`
	CongestionControlLatency          int64 `json:"congestionControlLatency"`
	PipelineWrapperFilteredLines      int64 `json:"pipelineWrapperFilteredLines"`
}

// Chunk holds byte and line counts of chunk data read.
type Chunk struct {
	HeadChunkBytes                      int64 `json:"headChunkBytes"`
	HeadChunkLines                      int64 `json:"headChunkLines"`
	DecompressedBytes                   int64 `json:"decompressedBytes"`
	DecompressedLines                   int64 `json:"decompressedLines"`
	CompressedBytes                     int64 `json:"compressedBytes"`
	TotalDuplicates                     int64 `json:"totalDuplicates"`
	PostFilterLines                     int64 `json:"postFilterLines"`
	HeadChunkStructuredMetadataBytes    int64 `json:"headChunkStructuredMetadataBytes"`
	DecompressedStructuredMetadataBytes int64 `json:"decompressedStructuredMetadataBytes"`
}

// Caches holds the statistics of each cache.
type Caches struct {
	Chunk               Cache `json:"chunk"`
	Index               Cache `json:"index"`
	Result              Cache `json:"result"`
	StatsResult         Cache `json:"statsResult"`
	VolumeResult        Cache `json:"volumeResult"`
	SeriesResult        Cache `json:"seriesResult"`
	LabelResult         Cache `json:"labelResult"`
	InstantMetricResult Cache `json:"instantMetricResult"`
}

// Cache holds the statistics of one cache. Times are in nanoseconds.
type Cache struct {
	EntriesFound      int32 `json:"entriesFound"`
	EntriesRequested  int32 `json:"entriesRequested"`
	EntriesStored     int32 `json:"entriesStored"`
	BytesReceived     int64 `json:"bytesReceived"`
	BytesSent         int64 `json:"bytesSent"`
	Requests          int32 `json:"requests"`
	DownloadTime      int64 `json:"downloadTime"`
	QueryLengthServed int64 `json:"queryLengthServed"`
}

// Index holds index lookup statistics.
type Index struct {
	TotalChunks      int64 `json:"totalChunks"`
	PostFilterChunks int64 `json:"postFilterChunks"`
	ShardsDuration   int64 `json:"shardsDuration"`
	UsedBloomFilters bool  `json:"usedBloomFilters"`
}

// AppendJSON appends r encoded as Loki's "stats" object to dst.
func (r *Result) AppendJSON(dst []byte) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("BUG: stats result not encodable: " + err.Error())
	}
	return append(dst, b...)
}

// ComputeSummary fills the summary totals from the store counters, and the
// per-second rates from execTime, as Loki does.
func (r *Result) ComputeSummary(execTime, queueTime time.Duration, entriesReturned int) {
	q, i := &r.Querier.Store.Chunk, &r.Ingester.Store.Chunk
	r.Summary.TotalBytesProcessed = q.DecompressedBytes + q.HeadChunkBytes + i.DecompressedBytes + i.HeadChunkBytes +
		q.DecompressedStructuredMetadataBytes + q.HeadChunkStructuredMetadataBytes +
		i.DecompressedStructuredMetadataBytes + i.HeadChunkStructuredMetadataBytes
	r.Summary.TotalStructuredMetadataBytesProcessed = q.DecompressedStructuredMetadataBytes + q.HeadChunkStructuredMetadataBytes +
		i.DecompressedStructuredMetadataBytes + i.HeadChunkStructuredMetadataBytes
	r.Summary.TotalLinesProcessed = q.DecompressedLines + q.HeadChunkLines + i.DecompressedLines + i.HeadChunkLines
	r.Summary.TotalPostFilterLines = q.PostFilterLines + i.PostFilterLines
	r.Summary.ExecTime = execTime.Seconds()
	r.Summary.QueueTime = queueTime.Seconds()
	r.Summary.TotalEntriesReturned = int64(entriesReturned)
	if execTime > 0 {
		r.Summary.BytesProcessedPerSecond = int64(float64(r.Summary.TotalBytesProcessed) / execTime.Seconds())
		r.Summary.LinesProcessedPerSecond = int64(float64(r.Summary.TotalLinesProcessed) / execTime.Seconds())
	}
}

// Merge adds the statistics of another (sub-)query to r. Summary totals are
// recomputed by the caller with ComputeSummary; Merge adds execution and
// queue times, splits, shards, subqueries and returned entries.
func (r *Result) Merge(o Result) {
	r.Summary.ExecTime += o.Summary.ExecTime
	r.Summary.QueueTime += o.Summary.QueueTime
	r.Summary.Subqueries += o.Summary.Subqueries
	r.Summary.TotalEntriesReturned += o.Summary.TotalEntriesReturned
	r.Summary.Splits += o.Summary.Splits
	r.Summary.Shards += o.Summary.Shards
	r.Querier.Store.merge(o.Querier.Store)
	r.Ingester.TotalReached += o.Ingester.TotalReached
	r.Ingester.TotalChunksMatched += o.Ingester.TotalChunksMatched
	r.Ingester.TotalBatches += o.Ingester.TotalBatches
	r.Ingester.TotalLinesSent += o.Ingester.TotalLinesSent
	r.Ingester.Store.merge(o.Ingester.Store)
	r.Caches.merge(o.Caches)
	r.Index.TotalChunks += o.Index.TotalChunks
	r.Index.PostFilterChunks += o.Index.PostFilterChunks
	r.Index.ShardsDuration += o.Index.ShardsDuration
	r.Index.UsedBloomFilters = r.Index.UsedBloomFilters || o.Index.UsedBloomFilters
}

func (s *Store) merge(o Store) {
	s.TotalChunksRef += o.TotalChunksRef
	s.TotalChunksDownloaded += o.TotalChunksDownloaded
	s.ChunksDownloadTime += o.ChunksDownloadTime
	s.QueryReferencedStructuredMetadata = s.QueryReferencedStructuredMetadata || o.QueryReferencedStructuredMetadata
	s.ChunkRefsFetchTime += o.ChunkRefsFetchTime
	s.CongestionControlLatency += o.CongestionControlLatency
	s.PipelineWrapperFilteredLines += o.PipelineWrapperFilteredLines
	c := &s.Chunk
	c.HeadChunkBytes += o.Chunk.HeadChunkBytes
	c.HeadChunkLines += o.Chunk.HeadChunkLines
	c.DecompressedBytes += o.Chunk.DecompressedBytes
	c.DecompressedLines += o.Chunk.DecompressedLines
	c.CompressedBytes += o.Chunk.CompressedBytes
	c.TotalDuplicates += o.Chunk.TotalDuplicates
	c.PostFilterLines += o.Chunk.PostFilterLines
	c.HeadChunkStructuredMetadataBytes += o.Chunk.HeadChunkStructuredMetadataBytes
	c.DecompressedStructuredMetadataBytes += o.Chunk.DecompressedStructuredMetadataBytes
}

func (c *Caches) merge(o Caches) {
	c.Chunk.merge(o.Chunk)
	c.Index.merge(o.Index)
	c.Result.merge(o.Result)
	c.StatsResult.merge(o.StatsResult)
	c.VolumeResult.merge(o.VolumeResult)
	c.SeriesResult.merge(o.SeriesResult)
	c.LabelResult.merge(o.LabelResult)
	c.InstantMetricResult.merge(o.InstantMetricResult)
}

func (c *Cache) merge(o Cache) {
	c.EntriesFound += o.EntriesFound
	c.EntriesRequested += o.EntriesRequested
	c.EntriesStored += o.EntriesStored
	c.BytesReceived += o.BytesReceived
	c.BytesSent += o.BytesSent
	c.Requests += o.Requests
	c.DownloadTime += o.DownloadTime
	c.QueryLengthServed += o.QueryLengthServed
}
