package querier

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
	"github.com/lode-logs/lode/backend/stats"
)

// Config holds the querier settings.
type Config struct {
	FetchConcurrency  int   `yaml:"fetch_concurrency"`
	ChunkMetaCacheMB  int64 `yaml:"chunk_meta_cache_mb"`
	TimestampsCacheMB int64 `yaml:"timestamps_cache_mb"`
}

// RegisterFlags registers the querier flags.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.IntVar(&c.FetchConcurrency, "querier.fetch-concurrency", 16, "Chunk objects fetched from object storage at once per query.")
	f.Int64Var(&c.ChunkMetaCacheMB, "querier.chunk-meta-cache-mb", 32, "Memory for the block indexes of chunks read before (MiB; 0: none). With it, queries fetch only the blocks they need, with ranged reads.")
	f.Int64Var(&c.TimestampsCacheMB, "querier.timestamps-cache-mb", 64, "Memory for the timestamps of blocks counted before (MiB; 0: none), about 5 bytes per entry (7 with line lengths for bytes_over_time). With it and the block index cache, count_over_time, rate, bytes_over_time and absent_over_time over data counted before read no chunk again.")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.FetchConcurrency < 1 {
		return fmt.Errorf("querier.fetch-concurrency must be at least 1, got %d", c.FetchConcurrency)
	}
	if c.ChunkMetaCacheMB < 0 {
		return fmt.Errorf("querier.chunk-meta-cache-mb must not be negative, got %d", c.ChunkMetaCacheMB)
	}
	if c.TimestampsCacheMB < 0 {
		return fmt.Errorf("querier.timestamps-cache-mb must not be negative, got %d", c.TimestampsCacheMB)
	}
	return nil
}

// Recent is what the querier needs from the ingesters: their data not yet
// flushed to object storage. Query returns the entries of the selection
// like SelectLogs (ordered, identical entries once) with lines, whatever
// sel.TimestampsOnly says.
type Recent interface {
	Query(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error)
	Series(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error)
}

// RecentStreams is an optional ability of a Recent source: Query split by
// stream, so that each stream merges with its own chunks. QueryStreams
// returns an iterator over one entry iterator per stream (each valid until
// the next Next, ordered like Query's, identical entries once, streams
// never repeated); closing it closes them all.
type RecentStreams interface {
	QueryStreams(ctx context.Context, sel model.LogSelect) (iter.Iterator[iter.EntryIterator], error)
}

// Querier combines the index, object storage and the ingesters.
type Querier struct {
	cfg        Config
	index      index.Reader
	bucket     objstore.Bucket
	recent     Recent
	metas      *metaCache
	timestamps *timestampsCache
	// recentBuffer bounds the ingester data split by stream in memory
	// (recentBufferBytes; tests lower it).
	recentBuffer int
	// scanners holds the *chunk.BlockScanner of counting workers between
	// queries: their buffers grow to the sections of a block once, not
	// once per query and worker.
	scanners sync.Pool
	// lookback (SetLookback) bounds how far back a tenant's reads go.
	lookback func(tenant string) time.Duration
}

// SetLookback makes every read of a tenant start no earlier than now minus
// lookback(tenant) (0: no bound). With the tenant's retention period as
// lookback, data past retention stays out of answers from the moment it
// expires, not only once its day is dropped. Call it before any read.
func (q *Querier) SetLookback(lookback func(tenant string) time.Duration) { q.lookback = lookback }

// minTime is the earliest timestamp tenant's reads may see.
func (q *Querier) minTime(tenant string) int64 {
	if q.lookback == nil {
		return math.MinInt64
	}
	d := q.lookback(tenant)
	if d <= 0 {
		return math.MinInt64
	}
	return time.Now().Add(-d).UnixNano()
}

// New returns a Querier. recent may be nil (a querier without ingesters).
func New(cfg Config, idx index.Reader, bucket objstore.Bucket, recent Recent) *Querier {
	return &Querier{cfg: cfg, index: idx, bucket: bucket, recent: recent,
		metas: newMetaCache(cfg.ChunkMetaCacheMB << 20), timestamps: newTimestampsCache(cfg.TimestampsCacheMB << 20),
		recentBuffer: recentBufferBytes}
}

// SelectLogs returns the entries of the selection, ordered by sel.Direction
// and de-duplicated. sel.TimestampsOnly is honoured only without a recent
// source: ingesters' entries may repeat flushed ones, and only lines tell
// repeats apart in one merge across streams (window aggregations use
// SelectStreams and CountEntries, which keep it).
func (q *Querier) SelectLogs(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	sel.Start = max(sel.Start, q.minTime(sel.Tenant))
	if sel.End <= sel.Start {
		return iter.Empty[model.StreamEntry](), nil
	}
	if q.recent != nil {
		sel.TimestampsOnly = false
	}
	recent, err := q.openRecent(ctx, sel, false)
	if err != nil {
		return nil, err
	}
	srcs, err := q.sources(ctx, sel)
	if err != nil {
		recent.close()
		return nil, err
	}
	its := make([]iter.EntryIterator, 0, len(srcs)+1)
	all := make([]*streamChunks, 0, len(srcs))
	for _, src := range srcs {
		sc := newStreamChunks(q, src.stream, src.refs, sel)
		all = append(all, sc)
		its = append(its, sc)
	}
	q.prefetch(ctx, all)
	if recent != nil {
		its = append(its, recent.merged)
	}
	if len(its) == 1 {
		return its[0], nil // a chunk repeats no entry of its own
	}
	return merge(sel, its...), nil
}

// streamSource is one stream of a selection with its chunk refs.
type streamSource struct {
	stream index.Stream
	refs   []index.ChunkRef
}

// sources resolves the streams of sel and their chunk refs in the index;
// streams without chunks in range are left out.
func (q *Querier) sources(ctx context.Context, sel model.LogSelect) ([]streamSource, error) {
	st := stats.FromContext(ctx)
	begin := time.Now()
	streams, err := q.index.Streams(ctx, sel.Tenant, sel.Start, sel.End-1, sel.Matchers)
	if err != nil {
		return nil, fmt.Errorf("select streams: %w", err)
	}
	out := make([]streamSource, 0, len(streams))
	totalRefs := 0
	for _, s := range streams {
		refs, err := q.index.Chunks(ctx, sel.Tenant, s.Fingerprint, sel.Start, sel.End-1)
		if err != nil {
			return nil, fmt.Errorf("select chunks of stream %s: %w", s.Labels, err)
		}
		if len(refs) == 0 {
			continue
		}
		totalRefs += len(refs)
		out = append(out, streamSource{stream: s, refs: refs})
	}
	if st != nil {
		st.Querier().AddChunkRefsFetchTime(time.Since(begin))
		st.AddIndex(totalRefs, totalRefs, 0)
	}
	return out, nil
}

// recentSnap is the ingesters' data of a selection, merged or split by
// stream (one of the two is set).
//
// Every read takes it before reading the index: a chunk that a flush
// commits to the index and drops from the ingesters in between is then in
// the index read too (and its entries, in both, count once), whereas a
// snapshot taken after the index read could miss a chunk committed and
// dropped between the two.
type recentSnap struct {
	merged  iter.EntryIterator
	streams iter.Iterator[iter.EntryIterator]
}

// openRecent snapshots the ingesters' data of sel, with lines: split by
// stream if split is set and the source can, else merged. It returns nil
// without a recent source.
func (q *Querier) openRecent(ctx context.Context, sel model.LogSelect, split bool) (*recentSnap, error) {
	if q.recent == nil {
		return nil, nil
	}
	sel.TimestampsOnly = false
	if rs, ok := q.recent.(RecentStreams); ok && split {
		streams, err := q.queryRecentStreams(ctx, rs, sel)
		if err != nil {
			return nil, err
		}
		return &recentSnap{streams: streams}, nil
	}
	it, err := q.queryRecent(ctx, sel)
	if err != nil {
		return nil, err
	}
	return &recentSnap{merged: it}, nil
}

// close releases a snapshot that is not read.
func (r *recentSnap) close() {
	switch {
	case r == nil:
	case r.merged != nil:
		_ = r.merged.Close()
	case r.streams != nil:
		_ = r.streams.Close()
	}
}

// queryRecent asks the ingesters for the selection, with lines.
func (q *Querier) queryRecent(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	sel.TimestampsOnly = false
	it, err := q.recent.Query(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("query ingesters: %w", err)
	}
	if st := stats.FromContext(ctx); st != nil {
		st.AddIngesterReached(1)
		it = &countRecent{EntryIterator: it, st: st}
	}
	return it, nil
}

// merge merges ordered iterators, dropping identical entries unless the
// entries were read without lines.
func merge(sel model.LogSelect, its ...iter.EntryIterator) iter.EntryIterator {
	if sel.TimestampsOnly {
		return iter.MergeAll(sel.Direction, its...)
	}
	return iter.MergeEntries(sel.Direction, its...)
}

// prefetch loads the first chunk of every stream concurrently, so that the
// merge does not wait for them one by one.
func (q *Querier) prefetch(ctx context.Context, all []*streamChunks) {
	sem := make(chan struct{}, q.cfg.FetchConcurrency)
	var wg sync.WaitGroup
	for _, sc := range all {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			sc.load(ctx)
		}()
	}
	wg.Wait()
}

// Series returns the streams matching ms in [from, through], from the
// ingesters and then (see recentSnap) the index, sorted by labels.
func (q *Querier) Series(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	if from = max(from, q.minTime(tenant)); from > through {
		return nil, nil
	}
	recent, err := q.recentStreams(ctx, tenant, from, through, ms)
	if err != nil {
		return nil, err
	}
	streams, err := q.index.Streams(ctx, tenant, from, through, ms)
	if err != nil {
		return nil, fmt.Errorf("select streams: %w", err)
	}
	streams = append(streams, recent...)
	sort.Slice(streams, func(i, j int) bool { return labels.Compare(streams[i].Labels, streams[j].Labels) < 0 })
	return slices.CompactFunc(streams, func(a, b index.Stream) bool { return a.Fingerprint == b.Fingerprint }), nil
}

// LabelNames returns the label names of the streams matching ms (all
// streams when ms is empty) in [from, through].
func (q *Querier) LabelNames(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	if from = max(from, q.minTime(tenant)); from > through {
		return nil, nil
	}
	recent, err := q.recentStreams(ctx, tenant, from, through, ms)
	if err != nil {
		return nil, err
	}
	names, err := q.index.LabelNames(ctx, tenant, from, through, ms)
	if err != nil {
		return nil, fmt.Errorf("label names: %w", err)
	}
	for _, s := range recent {
		s.Labels.Range(func(l labels.Label) { names = append(names, l.Name) })
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// LabelValues returns the values of label name among the streams matching
// ms in [from, through].
func (q *Querier) LabelValues(ctx context.Context, tenant, name string, from, through int64, ms []*labels.Matcher) ([]string, error) {
	if from = max(from, q.minTime(tenant)); from > through {
		return nil, nil
	}
	recent, err := q.recentStreams(ctx, tenant, from, through, ms)
	if err != nil {
		return nil, err
	}
	values, err := q.index.LabelValues(ctx, tenant, name, from, through, ms)
	if err != nil {
		return nil, fmt.Errorf("label values: %w", err)
	}
	for _, s := range recent {
		if v := s.Labels.Get(name); v != "" {
			values = append(values, v)
		}
	}
	slices.Sort(values)
	return slices.Compact(values), nil
}

// recentStreams asks the ingesters for the streams matching ms (all of the
// tenant's streams when ms is empty); none without a recent source.
func (q *Querier) recentStreams(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	if q.recent == nil {
		return nil, nil
	}
	streams, err := q.recent.Series(ctx, tenant, from, through, ms)
	if err != nil {
		return nil, fmt.Errorf("select recent streams: %w", err)
	}
	return streams, nil
}

// streamChunks iterates the chunks of one stream in the selection's
// direction. Chunks that overlap in time are read together and merged;
// chunks that do not are read one after the other, each fetched only when
// the previous one is exhausted.
type streamChunks struct {
	q      *Querier
	stream index.Stream
	sel    model.LogSelect
	groups [][]index.ChunkRef // in direction order; refs inside a group overlap
	cur    iter.Iterator[model.Entry]
	loaded bool // cur holds groups[0]
	err    error
	at     model.StreamEntry
}

// chunkGroups sorts refs by time and groups those that overlap in time:
// groups are disjoint and in ascending time order.
func chunkGroups(refs []index.ChunkRef) [][]index.ChunkRef {
	sort.Slice(refs, func(i, j int) bool { return refs[i].From < refs[j].From })
	var groups [][]index.ChunkRef
	var maxThrough int64
	for i, r := range refs {
		if i > 0 && r.From <= maxThrough {
			groups[len(groups)-1] = append(groups[len(groups)-1], r)
		} else {
			groups = append(groups, []index.ChunkRef{r})
		}
		maxThrough = max(maxThrough, r.Through)
	}
	return groups
}

// groupSpan returns the time range [from, through] of a chunk group.
func groupSpan(g []index.ChunkRef) (from, through int64) {
	from, through = g[0].From, g[0].Through
	for _, r := range g[1:] {
		from, through = min(from, r.From), max(through, r.Through)
	}
	return from, through
}

func newStreamChunks(q *Querier, s index.Stream, refs []index.ChunkRef, sel model.LogSelect) *streamChunks {
	groups := chunkGroups(refs)
	if sel.Direction == model.Backward {
		slices.Reverse(groups)
	}
	return &streamChunks{q: q, stream: s, sel: sel, groups: groups,
		at: model.StreamEntry{Labels: s.Labels, Fingerprint: s.Fingerprint}}
}

// load opens the first remaining group into cur.
func (s *streamChunks) load(ctx context.Context) {
	if s.loaded || s.err != nil || len(s.groups) == 0 {
		return
	}
	s.loaded = true
	it, err := s.q.openGroup(ctx, s.groups[0], s.sel)
	if err != nil {
		s.err = err
		return
	}
	s.cur = &unwrapEntries{it}
}

// openGroup opens a group of time-overlapping chunks of one stream as one
// iterator. Chunks of a group may repeat each other's entries (replicas
// that cut differently, retried flushes), so a group of several is read
// with lines and de-duplicated even for timestamps-only selections.
func (q *Querier) openGroup(ctx context.Context, group []index.ChunkRef, sel model.LogSelect) (iter.EntryIterator, error) {
	if len(group) > 1 {
		sel.TimestampsOnly = false
	}
	its := make([]iter.EntryIterator, 0, len(group))
	for _, ref := range group {
		it, err := q.openChunk(ctx, ref, sel)
		if err != nil {
			for _, i := range its {
				_ = i.Close()
			}
			return nil, err
		}
		its = append(its, it)
	}
	if len(its) == 1 {
		return its[0], nil // a chunk repeats no entry of its own
	}
	return merge(sel, its...), nil
}

func (s *streamChunks) Next() bool {
	for s.err == nil {
		if s.cur == nil {
			if len(s.groups) == 0 {
				return false
			}
			s.load(context.Background())
			if s.err != nil {
				return false
			}
		}
		if s.cur.Next() {
			s.at.Entry = s.cur.At()
			return true
		}
		if err := s.cur.Err(); err != nil {
			s.err = err
		}
		_ = s.cur.Close()
		s.cur, s.loaded = nil, false
		s.groups = s.groups[1:]
	}
	return false
}

func (s *streamChunks) At() model.StreamEntry { return s.at }
func (s *streamChunks) Err() error            { return s.err }
func (s *streamChunks) Close() error {
	if s.cur != nil {
		return s.cur.Close()
	}
	return nil
}

// openChunk fetches and decodes one chunk object.
func (q *Querier) openChunk(ctx context.Context, ref index.ChunkRef, sel model.LogSelect) (iter.EntryIterator, error) {
	if m, ok := q.metas.get(ref.Key); ok {
		if it, ok, err := q.openBlocks(ctx, ref, m, sel); ok || err != nil {
			return it, err
		}
	}
	c, err := q.fetchChunk(ctx, ref)
	if err != nil {
		return nil, err
	}
	var rs chunk.ReadStats
	it := c.Entries(sel.Start, sel.End, sel.Direction, readOptions(sel, &rs))
	h := c.Header()
	return &chunkEntries{it: it, st: stats.FromContext(ctx), rs: &rs, at: model.StreamEntry{Labels: h.Labels, Fingerprint: ref.Fingerprint}}, nil
}

// chunkEntries adapts a chunk's entry iterator to stream entries and
// reports its read statistics when closed.
type chunkEntries struct {
	it iter.Iterator[model.Entry]
	st *stats.Context
	rs *chunk.ReadStats
	at model.StreamEntry
}

func (c *chunkEntries) Next() bool {
	if !c.it.Next() {
		return false
	}
	c.at.Entry = c.it.At()
	return true
}
func (c *chunkEntries) At() model.StreamEntry { return c.at }
func (c *chunkEntries) Err() error            { return c.it.Err() }
func (c *chunkEntries) Close() error {
	if c.st != nil {
		s := c.st.Querier()
		s.AddDecompressed(c.rs.Entries, c.rs.DecompressedBytes, c.rs.CompressedBytes, 0)
	}
	return c.it.Close()
}

// unwrapEntries turns a stream-entry iterator back into plain entries (the
// stream is known to the caller).
type unwrapEntries struct{ iter.EntryIterator }

func (u *unwrapEntries) At() model.Entry { return u.EntryIterator.At().Entry }

// readOptions are the chunk read options of a selection: blocks are
// skipped by needles, and lines that lack one are dropped.
func readOptions(sel model.LogSelect, rs *chunk.ReadStats) chunk.ReadOptions {
	return chunk.ReadOptions{Needles: sel.Needles, TimestampsOnly: sel.TimestampsOnly, FilterLines: len(sel.Needles) > 0, Stats: rs}
}

// countRecent reports the lines and bytes read from the ingesters as
// Loki's ingester head-chunk statistics when closed.
type countRecent struct {
	iter.EntryIterator
	st           *stats.Context
	lines, bytes int64
}

func (c *countRecent) Next() bool {
	if !c.EntryIterator.Next() {
		return false
	}
	c.lines++
	c.bytes += int64(len(c.EntryIterator.At().Line))
	return true
}

func (c *countRecent) Close() error {
	c.st.Ingester().AddHeadChunk(c.lines, c.bytes, 0)
	c.lines, c.bytes = 0, 0
	return c.EntryIterator.Close()
}
