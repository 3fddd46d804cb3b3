package ingester

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/lode-logs/lode/backend/chunk"
)

// replayChunk collects a chunk's records during replay.
type replayChunk struct {
	cseq        uint64
	windowStart int64
	blocks      []blockRef
	cut         bool
	cutBlocks   int
}

// replayStream collects a stream's chunks during replay.
type replayStream struct {
	s      *stream
	chunks map[uint64]*replayChunk
}

// replay rebuilds the streams from Badger (FORMAT.md, Replay). It runs
// before any other goroutine of the ingester starts.
func (i *Ingester) replay() error {
	if err := i.checkFormat(); err != nil {
		return err
	}
	streams := make(map[uint64]*replayStream)
	if err := i.replayStreams(streams); err != nil {
		return err
	}
	if err := i.replayBlocks(streams); err != nil {
		return err
	}
	if err := i.replayCuts(streams); err != nil {
		return err
	}
	var stale [][]byte
	for _, rs := range streams {
		stale = append(stale, i.assembleChunks(rs)...)
	}
	if len(stale) > 0 {
		// Cut records whose blocks are gone: a drop after the flush was
		// interrupted. The chunk is in the object store already.
		if err := i.deleteKeys(stale); err != nil {
			return fmt.Errorf("delete stale cut records: %w", err)
		}
	}
	if err := i.replayWAL(streams); err != nil {
		return err
	}
	for _, rs := range streams {
		s := rs.s
		s.mu.Lock()
		if s.open.size >= int64(i.cfg.ChunkTargetSize) {
			_, _ = i.cutChunk(s, cutReplay, nil)
		}
		s.mu.Unlock()
	}
	return nil
}

// checkFormat writes the format key into an empty database and refuses a
// database of another format version.
func (i *Ingester) checkFormat() error {
	var version []byte
	empty := true
	err := i.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		item, err := txn.Get(formatKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		version, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("read format: %w: %w", ErrStorage, err)
	}
	switch {
	case version == nil && !empty:
		return fmt.Errorf("database holds data but no format key: %w", ErrCorrupt)
	case version != nil && (len(version) != 1 || version[0] < 1 || version[0] > formatVersion):
		return fmt.Errorf("format version %v, want at most %d: %w", version, formatVersion, ErrCorrupt)
	case version != nil && version[0] == formatVersion:
		return nil
	}
	// An empty database, or one of version 1, whose records version 2
	// reads as they are: from now on it may hold compressed WAL records,
	// which older binaries must refuse.
	err = i.db.Update(func(txn *badger.Txn) error { return txn.Set(formatKey, []byte{formatVersion}) })
	if err != nil {
		return fmt.Errorf("write format: %w: %w", ErrStorage, err)
	}
	return nil
}

// scan calls fn with the key and value of every record under prefix, in key
// order. Both slices are valid only during the call.
func (i *Ingester) scan(prefix byte, values bool, fn func(key, val []byte) error) error {
	return i.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefix}, PrefetchValues: values, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if !values {
				if err := fn(key, nil); err != nil {
					return err
				}
				continue
			}
			if err := item.Value(func(val []byte) error { return fn(key, val) }); err != nil {
				return err
			}
		}
		return nil
	})
}

func (i *Ingester) replayStreams(streams map[uint64]*replayStream) error {
	var maxSID uint64
	now := i.now().UnixNano()
	err := i.scan(prefixStream, true, func(key, val []byte) error {
		ids, ok := parseKey(key, prefixStream, 1)
		if !ok {
			return fmt.Errorf("stream key %x: %w", key, ErrCorrupt)
		}
		rec, err := readStreamRecord(val)
		if err != nil {
			return fmt.Errorf("stream %d: %w", ids[0], err)
		}
		s := newStream(rec.tenant, rec.fp, rec.labels, ids[0])
		s.persisted = true
		s.lastAppend = now
		i.streams.insert(s)
		streams[ids[0]] = &replayStream{s: s, chunks: make(map[uint64]*replayChunk)}
		maxSID = max(maxSID, ids[0])
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay streams: %w", wrapBadger(err))
	}
	i.nextSID.Store(maxSID)
	return nil
}

func (i *Ingester) replayBlocks(streams map[uint64]*replayStream) error {
	var orphans int
	err := i.scan(prefixBlockMeta, true, func(key, val []byte) error {
		ids, ok := parseKey(key, prefixBlockMeta, 3)
		if !ok {
			return fmt.Errorf("block meta key %x: %w", key, ErrCorrupt)
		}
		rs := streams[ids[0]]
		if rs == nil {
			orphans++
			return nil
		}
		window, metaBytes, err := readBlockMetaRecord(val)
		if err != nil {
			return err
		}
		meta, _, err := chunk.ReadBlockMeta(metaBytes)
		if err != nil {
			return fmt.Errorf("block %v: %w: %w", ids, ErrCorrupt, err)
		}
		meta.Filter = nil
		c := rs.chunk(ids[1])
		c.windowStart = window
		c.blocks = append(c.blocks, blockRef{bseq: ids[2], meta: meta})
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay blocks: %w", wrapBadger(err))
	}
	if orphans > 0 {
		i.logger.Error("blocks without a stream record in the buffer; skipped", "blocks", orphans)
	}
	return nil
}

func (rs *replayStream) chunk(cseq uint64) *replayChunk {
	c := rs.chunks[cseq]
	if c == nil {
		c = &replayChunk{cseq: cseq}
		rs.chunks[cseq] = c
	}
	return c
}

func (i *Ingester) replayCuts(streams map[uint64]*replayStream) error {
	err := i.scan(prefixCut, true, func(key, val []byte) error {
		ids, ok := parseKey(key, prefixCut, 2)
		if !ok {
			return fmt.Errorf("cut key %x: %w", key, ErrCorrupt)
		}
		rs := streams[ids[0]]
		if rs == nil {
			return nil
		}
		n, _, err := readCutRecord(val)
		if err != nil {
			return err
		}
		c := rs.chunk(ids[1])
		c.cut, c.cutBlocks = true, n
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay cut chunks: %w", wrapBadger(err))
	}
	return nil
}

// assembleChunks turns the replayed chunks of a stream into its open chunk
// and its cut chunks (queued for the flush). It returns the keys of cut
// records left without blocks.
func (i *Ingester) assembleChunks(rs *replayStream) (stale [][]byte) {
	s := rs.s
	cseqs := make([]uint64, 0, len(rs.chunks))
	for cseq := range rs.chunks {
		cseqs = append(cseqs, cseq)
	}
	slices.Sort(cseqs)
	var next uint64
	for k, cseq := range cseqs {
		c := rs.chunks[cseq]
		next = cseq + 1
		for _, b := range c.blocks {
			s.nextBlockSeq = max(s.nextBlockSeq, b.bseq+1)
		}
		if c.cut && c.cutBlocks != len(c.blocks) {
			i.logger.Warn("cut chunk has a different number of blocks than when cut",
				"stream", s.labels.String(), "chunk", cseq, "blocks", len(c.blocks), "cut_blocks", c.cutBlocks)
		}
		if len(c.blocks) == 0 {
			stale = append(stale, cutKey(s.sid, cseq))
			continue
		}
		var size int64
		for _, b := range c.blocks {
			size += int64(b.meta.Length)
		}
		if !c.cut && k == len(cseqs)-1 {
			s.open = openChunk{cseq: cseq, active: true, windowStart: c.windowStart, blocks: c.blocks, size: size}
			next = cseq
			continue
		}
		cc := &cutChunk{s: s, cseq: cseq, blocks: c.blocks, size: size}
		s.cut = append(s.cut, cc)
		i.queue.push(cc)
	}
	if !s.open.active {
		s.open.cseq = next
	}
	return stale
}

// replayWAL applies every stream's WAL records in sequence order.
func (i *Ingester) replayWAL(streams map[uint64]*replayStream) error {
	var maxSeq uint64
	err := i.scan(prefixWAL, false, func(key, _ []byte) error {
		if ids, ok := parseKey(key, prefixWAL, 2); ok {
			maxSeq = max(maxSeq, ids[1])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay WAL: %w", wrapBadger(err))
	}
	i.nextWSeq.Store(maxSeq)
	var orphans int
	var buf []byte // decompressed bodies; applyRecord copies what it keeps
	err = i.scan(prefixWAL, true, func(key, val []byte) error {
		ids, ok := parseKey(key, prefixWAL, 2)
		if !ok {
			return fmt.Errorf("WAL key %x: %w", key, ErrCorrupt)
		}
		rs := streams[ids[0]]
		if rs == nil {
			orphans++
			return nil
		}
		body, b, err := readWALValue(val, buf)
		buf = b
		if err != nil {
			return fmt.Errorf("WAL record %v: %w", ids, err)
		}
		if err := checkEntries(body); err != nil {
			return fmt.Errorf("WAL record %v: %w", ids, err)
		}
		s := rs.s
		s.mu.Lock()
		full := i.applyRecord(s, ids[1], body, nil)
		s.mu.Unlock()
		if full {
			i.cutBlocks([]*stream{s}, false)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay WAL: %w", wrapBadger(err))
	}
	if orphans > 0 {
		i.logger.Error("WAL records without a stream record in the buffer; skipped", "records", orphans)
	}
	return nil
}

// wrapBadger marks errors that did not come from decoding as storage
// failures.
func wrapBadger(err error) error {
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrStorage) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStorage, err)
}
