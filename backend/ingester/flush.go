package ingester

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
)

// flushCoalesce is the shortest time between two flush rounds started by
// newly cut chunks, so that one AddChunks call carries many refs.
const flushCoalesce = time.Second

// flushLoop runs on its own goroutine: every flush check period it cuts the
// chunks of idle streams, drops empty idle streams and flushes what is due;
// between periods it flushes newly cut chunks, at most once per
// flushCoalesce.
func (i *Ingester) flushLoop(ctx context.Context) {
	defer i.wg.Done()
	t := time.NewTicker(i.cfg.FlushCheckPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			i.sweep(ctx)
		case <-i.queue.kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(flushCoalesce):
			}
		}
		_ = i.flushDue(ctx, false)
	}
}

// Flush cuts every open chunk now and flushes every complete chunk,
// ignoring retry backoff. It returns an error wrapping ErrFlushIncomplete
// if some chunk could not be flushed (it stays buffered and is retried by
// the flush loop). Pushes may continue meanwhile; what they add after the
// cut waits for the next cut.
func (i *Ingester) Flush(ctx context.Context) error {
	if err := i.enter(); err != nil {
		return err
	}
	defer i.closeMu.RUnlock()
	var cutErr error
	for _, s := range i.streams.all("") {
		s.mu.Lock()
		if _, err := i.cutChunk(s, cutForced, nil); err != nil {
			cutErr = err
		}
		s.mu.Unlock()
	}
	if err := i.flushDue(ctx, true); err != nil {
		return err
	}
	if cutErr != nil {
		return fmt.Errorf("%w: cut chunks: %w", ErrFlushIncomplete, cutErr)
	}
	return nil
}

// sweep cuts the open chunks of streams idle for the chunk idle period,
// releases their head buffers, and removes streams that hold nothing.
func (i *Ingester) sweep(ctx context.Context) {
	now := i.now().UnixNano()
	idle := int64(i.cfg.ChunkIdlePeriod)
	for _, s := range i.streams.all("") {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		isIdle := now-s.lastAppend >= idle && s.inflight == 0
		if isIdle && s.open.active {
			_, _ = i.cutChunk(s, cutIdle, nil) // logged; retried next sweep
		}
		if isIdle && s.head.empty() {
			s.head.release(&i.pages)
			s.dedup.release()
		}
		remove := isIdle && s.empty()
		s.mu.Unlock()
		if remove {
			i.removeStream(s, now)
		}
	}
}

// removeStream drops an empty idle stream from memory and its stream record
// from Badger.
func (i *Ingester) removeStream(s *stream, now int64) {
	idle := int64(i.cfg.ChunkIdlePeriod)
	removed := i.streams.removeIf(s, func() bool {
		return s.empty() && s.inflight == 0 && now-s.lastAppend >= idle
	})
	if !removed || !s.persisted {
		return
	}
	if err := i.deleteKeys([][]byte{streamKey(s.sid)}); err != nil {
		// Harmless: replay recreates the empty stream and a sweep removes it.
		i.logger.Warn("delete stream record", "tenant", s.tenant, "stream", s.labels.String(), "err", err)
	}
}

// flushDue flushes the chunks that are due (all of them when force) in
// batches of the flush batch size. It returns an error wrapping
// ErrFlushIncomplete if any chunk failed.
func (i *Ingester) flushDue(ctx context.Context, force bool) error {
	i.flushMu.Lock()
	defer i.flushMu.Unlock()
	round := i.queue.newRound()
	var failed int
	lastErr := i.dropRetained(i.now().UnixNano())
	for ctx.Err() == nil {
		batch := i.queue.take(i.now().UnixNano(), i.cfg.FlushBatchSize, force, round)
		if len(batch) == 0 {
			break
		}
		n, err := i.flushBatch(ctx, batch)
		if err != nil {
			failed += n
			lastErr = err
		}
	}
	if err := ctx.Err(); err != nil && lastErr == nil {
		lastErr = err
	}
	if lastErr != nil {
		return fmt.Errorf("%w: %d chunks failed: %w", ErrFlushIncomplete, failed, lastErr)
	}
	return nil
}

// flushBatch writes the chunk objects of batch to the bucket (concurrently),
// commits the refs of those written in one AddChunks call, then drops them
// from Badger and memory, or keeps them for the retain period. A chunk whose ref is already in the index only
// retries the drop. Failed chunks are rescheduled with backoff. It returns
// the number of failed chunks and the last error.
func (i *Ingester) flushBatch(ctx context.Context, batch []*cutChunk) (int, error) {
	var toStore, indexed, failed []*cutChunk
	for _, c := range batch {
		if c.indexed {
			indexed = append(indexed, c)
		} else {
			toStore = append(toStore, c)
		}
	}
	stored, entries, lastErr := i.storeChunks(ctx, toStore)
	if len(stored) < len(toStore) {
		failed = append(failed, without(toStore, stored)...)
	}
	if len(stored) > 0 {
		if err := i.index.AddChunks(ctx, entries); err != nil {
			lastErr = fmt.Errorf("add %d chunk refs to the index: %w", len(entries), err)
			i.m.flushFailures.WithLabelValues("index").Add(float64(len(stored)))
			failed = append(failed, stored...)
		} else {
			for _, c := range stored {
				c.indexed = true
			}
			indexed = append(indexed, stored...)
		}
	}
	if len(indexed) > 0 && i.cfg.ChunkRetainPeriod > 0 {
		until := i.now().UnixNano() + int64(i.cfg.ChunkRetainPeriod)
		for _, c := range indexed {
			c.retainUntil = until
		}
		i.retained = append(i.retained, indexed...)
	} else if len(indexed) > 0 {
		if err := i.dropFlushed(indexed); err != nil {
			lastErr = err
			i.m.flushFailures.WithLabelValues("delete").Add(float64(len(indexed)))
			failed, indexed = append(failed, indexed...), nil
		}
	}
	i.m.chunksFlushed.Add(float64(len(indexed)))
	i.queue.done(indexed)
	if len(failed) > 0 {
		i.queue.failed(failed, i.now().UnixNano(), i.cfg.FlushMinBackoff, i.cfg.FlushMaxBackoff)
		i.logger.Warn("flush failed; will retry", "chunks", len(failed), "err", lastErr)
	}
	return len(failed), lastErr
}

// dropRetained drops the retained chunks whose retain period is over at
// now. Those it could not drop stay retained and are tried again by the
// next flush round. The caller holds flushMu.
func (i *Ingester) dropRetained(now int64) error {
	var due []*cutChunk
	for _, c := range i.retained {
		if c.retainUntil <= now {
			due = append(due, c)
		}
	}
	if len(due) == 0 {
		return nil
	}
	err := i.dropFlushed(due)
	i.retained = slices.DeleteFunc(i.retained, func(c *cutChunk) bool { return c.dropped })
	if err != nil {
		i.m.flushFailures.WithLabelValues("delete").Add(float64(len(due)))
	}
	return err
}

// storeChunks stores the objects of cs concurrently (at most the configured
// number at a time) and returns the chunks stored with their index entries,
// and the last error.
func (i *Ingester) storeChunks(ctx context.Context, cs []*cutChunk) ([]*cutChunk, []index.ChunkEntry, error) {
	entries := make([]index.ChunkEntry, len(cs))
	errs := make([]error, len(cs))
	sem := make(chan struct{}, i.cfg.ConcurrentFlushes)
	var wg sync.WaitGroup
	for k, c := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			entries[k], errs[k] = i.storeChunk(ctx, c)
		}()
	}
	wg.Wait()
	var stored []*cutChunk
	var out []index.ChunkEntry
	var lastErr error
	for k, c := range cs {
		if errs[k] != nil {
			lastErr = errs[k]
			continue
		}
		stored, out = append(stored, c), append(out, entries[k])
		i.m.flushedBytes.Add(float64(entries[k].Ref.Size))
	}
	return stored, out, lastErr
}

// without returns the chunks of all that are not in some.
func without(all, some []*cutChunk) []*cutChunk {
	var out []*cutChunk
	for _, c := range all {
		if !slices.Contains(some, c) {
			out = append(out, c)
		}
	}
	return out
}

// storeChunk reads the blocks of c from Badger, encodes the chunk object
// and puts it into the bucket unless an object of that content is there.
func (i *Ingester) storeChunk(ctx context.Context, c *cutChunk) (index.ChunkEntry, error) {
	blocks, err := i.readBlocks(c)
	if err != nil {
		i.m.flushFailures.WithLabelValues("read").Inc()
		return index.ChunkEntry{}, err
	}
	s := c.s
	h := chunk.Header{Tenant: s.tenant, Labels: s.labels, Fingerprint: s.fp, Codec: blocks[0].Meta.Codec}
	data, err := chunk.Encode(nil, h, blocks)
	if err != nil {
		i.m.flushFailures.WithLabelValues("encode").Inc()
		return index.ChunkEntry{}, fmt.Errorf("encode chunk of %s: %w", s.labels, err)
	}
	key := chunk.ObjectKey(s.tenant, s.fp, data)
	from, through, _ := blocksRange(c.blocks)
	var n uint32
	for _, b := range c.blocks {
		n += b.meta.Entries
	}
	e := index.ChunkEntry{
		Ref: index.ChunkRef{
			Tenant: s.tenant, Fingerprint: s.fp, Key: key,
			From: from, Through: through, Size: uint32(len(data)), Entries: n,
		},
		Labels: s.labels,
	}
	// A chunk the index refuses stays buffered (and retried with backoff)
	// on its own, without holding back the chunks flushed with it.
	if err := index.ValidateEntry(&e); err != nil {
		i.m.flushFailures.WithLabelValues("invalid").Inc()
		return index.ChunkEntry{}, fmt.Errorf("chunk of %s: %w", s.labels, err)
	}
	// The key is the content's hash: a replica that cut the same chunk may
	// have stored it already, and then there is nothing to upload.
	if ok, err := i.bucket.Exists(ctx, key); err == nil && ok {
		return e, nil
	}
	if err := i.bucket.Put(ctx, key, data); err != nil {
		i.m.flushFailures.WithLabelValues("put").Inc()
		return index.ChunkEntry{}, fmt.Errorf("put chunk %s: %w", key, err)
	}
	return e, nil
}

// readBlocks loads the encoded blocks of c, with their token filters.
func (i *Ingester) readBlocks(c *cutChunk) ([]chunk.EncodedBlock, error) {
	if len(c.blocks) == 0 {
		return nil, fmt.Errorf("read chunk %d of %s: no blocks: %w", c.cseq, c.s.labels, ErrCorrupt)
	}
	txn := i.db.NewTransaction(false)
	defer txn.Discard()
	out := make([]chunk.EncodedBlock, len(c.blocks))
	for k, b := range c.blocks {
		item, err := txn.Get(blockDataKey(c.s.sid, c.cseq, b.bseq))
		if err != nil {
			return nil, fmt.Errorf("read block %d of chunk %d: %w: %w", b.bseq, c.cseq, ErrStorage, err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return nil, fmt.Errorf("read block %d of chunk %d: %w: %w", b.bseq, c.cseq, ErrStorage, err)
		}
		filter, data, err := readBlockDataRecord(v)
		if err != nil {
			return nil, fmt.Errorf("read block %d of chunk %d: %w", b.bseq, c.cseq, err)
		}
		out[k] = chunk.EncodedBlock{Meta: b.meta, Data: data}
		out[k].Meta.Filter = filter
	}
	return out, nil
}

// dropFlushed deletes the Badger records of flushed chunks and removes the
// chunks from their streams (skipping chunks already dropped), under deleteMu so that no query is between
// snapshotting a stream and opening its Badger transaction.
func (i *Ingester) dropFlushed(cs []*cutChunk) error {
	i.deleteMu.Lock()
	defer i.deleteMu.Unlock()
	limit, _ := txnLimits(i.db.Opts())
	var keys [][]byte
	var pending []*cutChunk
	flushKeys := func() error {
		if i.dropFault != nil {
			if err := i.dropFault(); err != nil {
				return err
			}
		}
		if err := i.deleteKeys(keys); err != nil {
			return err
		}
		for _, c := range pending {
			c.s.mu.Lock()
			c.s.cut = removeChunk(c.s.cut, c)
			c.s.mu.Unlock()
			c.dropped = true
		}
		keys, pending = keys[:0], pending[:0]
		return nil
	}
	for _, c := range cs {
		if c.dropped { // by an earlier call that failed part way
			continue
		}
		n := 2*len(c.blocks) + 1
		if len(keys) > 0 && len(keys)+n > limit {
			if err := flushKeys(); err != nil {
				return err
			}
		}
		for _, b := range c.blocks {
			keys = append(keys, blockMetaKey(c.s.sid, c.cseq, b.bseq), blockDataKey(c.s.sid, c.cseq, b.bseq))
		}
		// The cut record goes last: if a crash splits the deletion, the
		// chunk is still marked cut and is flushed again (idempotently).
		keys = append(keys, cutKey(c.s.sid, c.cseq))
		pending = append(pending, c)
	}
	if err := flushKeys(); err != nil {
		return fmt.Errorf("drop flushed chunks: %w", err)
	}
	return nil
}

func removeChunk(cs []*cutChunk, c *cutChunk) []*cutChunk {
	for k := range cs {
		if cs[k] == c {
			copy(cs[k:], cs[k+1:])
			cs[len(cs)-1] = nil
			return cs[:len(cs)-1]
		}
	}
	panic("BUG: flushed chunk not in its stream")
}
