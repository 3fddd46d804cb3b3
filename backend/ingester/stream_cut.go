package ingester

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
)

// applyRecord adds the entries of a durable WAL record (its sequence number
// and body, without the version byte) to s. hashes holds the entries'
// entryHash in order (computed by prepareRecord), or is nil. The caller
// holds s.mu.
//
// An entry at or past the end of the open chunk's time window cuts the
// chunk before it; the rest of the record is then rewritten as a new WAL
// record in the cut's transaction, so that every entry stays in exactly one
// place. It reports whether the head reached the block size; the caller
// then passes s to cutBlocks.
func (i *Ingester) applyRecord(s *stream, seq uint64, body []byte, hashes []uint64) (full bool) {
	maxAge := int64(i.cfg.MaxChunkAge)
	r := entryReader{b: body}
	var e walEntry
	start, noCut := 0, false
	var entries, lineBytes int
	for {
		off := r.off
		if !r.next(&e) {
			break
		}
		if s.open.active && !noCut && e.ts >= s.open.windowStart+maxAge {
			i.appendHead(s, seq, body[start:off])
			newSeq, err := i.cutChunk(s, cutAge, body[off:])
			if err != nil {
				noCut = true // the record is intact in Badger; keep this chunk
			} else {
				seq, start = newSeq, off
			}
		}
		if !s.open.active {
			s.open.active = true
			s.open.windowStart = alignDown(e.ts, maxAge)
		}
		h := &s.head
		h.entries++
		h.minTs, h.maxTs = min(h.minTs, e.ts), max(h.maxTs, e.ts)
		if hashes != nil {
			s.dedup.add(e.ts, hashes[entries])
		} else {
			s.dedup.add(e.ts, entryHash(e.ts, e.line))
		}
		entries++
		lineBytes += len(e.line)
	}
	if r.err != nil {
		// Records are built by prepareRecord or checked by replay.
		panic("BUG: applying a malformed WAL record: " + r.err.Error())
	}
	i.appendHead(s, seq, body[start:])
	i.m.entriesAppended.Add(float64(entries))
	i.m.bytesAppended.Add(float64(lineBytes))
	return s.headFull(i.cfg.BlockSize)
}

// headFull reports whether the head reached the block size. The caller
// holds s.mu.
func (s *stream) headFull(blockSize int) bool {
	return !s.head.empty() && s.head.size >= blockSize
}

// appendHead appends WAL entries of record seq to the head and remembers
// seq among the records to delete when the head is cut. The caller has
// already counted the entries.
func (i *Ingester) appendHead(s *stream, seq uint64, seg []byte) {
	h := &s.head
	if n := len(h.seqs); n == 0 || h.seqs[n-1] != seq {
		h.seqs = append(h.seqs, seq)
	}
	h.appendEntries(seg, &i.pages)
	i.m.headBytes.Add(float64(len(seg)))
}

// sealedHead is a full head taken out of its stream (stream.sealed) to be
// encoded into a block without holding the stream lock: encoding takes
// milliseconds, and pushes to the stream append to a new head meanwhile.
// Its entries never change; the stream's dedup set holds their hashes as
// the previous block's.
type sealedHead struct {
	headBlock
	// busy: the push that sealed the head is encoding it and owns its
	// pages, which it gives back once the block is committed, whoever
	// committed it (a chunk cut does not wait for it; it encodes the
	// sealed head itself). Not busy: that push's commit failed; the next
	// cut of the stream retries it.
	busy bool
}

// seal moves the head of s, which is full, into s.sealed and starts an
// empty head. The caller holds s.mu; s.sealed is nil.
func (i *Ingester) seal(s *stream) *sealedHead {
	sh := &sealedHead{headBlock: s.head, busy: true}
	s.head = headBlock{}
	s.head.reset(nil)
	s.sealed = sh
	s.dedup.rotate()
	return sh
}

// pendingBlock is a head or a sealed head encoded into a block, not yet
// committed.
type pendingBlock struct {
	s        *stream
	sh       *sealedHead // the sealed head encoded; nil for s.head
	bseq     uint64
	blk, rec *[]byte // encoded block; block data record
	meta     chunk.BlockMeta
}

// head returns the head encoded.
func (p *pendingBlock) head() *headBlock {
	if p.sh != nil {
		return &p.sh.headBlock
	}
	return &p.s.head
}

// cutBlocks turns the heads of ss that reached the block size into blocks
// of their open chunks, each in the same transaction as the deletion of its
// WAL records, and cuts chunks that reached the target size. Full heads are
// sealed under their stream's lock, encoded with no lock held (concurrent
// pushes encode in parallel and keep appending to the streams meanwhile),
// then committed in groups of commitGroup streams, each group in as few
// transactions as Badger allows, so that a push costs a few more commits
// (device flushes with sync writes), not one per stream. With force, every
// non-empty head is cut, under the stream locks. The caller holds no
// stream lock; ss is reordered. On failure heads stay and a later push
// retries.
func (i *Ingester) cutBlocks(ss []*stream, force bool) {
	slices.SortFunc(ss, func(a, b *stream) int { return cmpUint(a.sid, b.sid) })
	ss = slices.Compact(ss)
	if force {
		for len(ss) > 0 {
			n := min(len(ss), commitGroup)
			i.cutGroupLocked(ss[:n])
			ss = ss[n:]
		}
		return
	}
	// A head that filled again while its predecessor was sealed is cut
	// in a second round, or else by the next push to the stream.
	for round := 0; round < 2 && len(ss) > 0; round++ {
		ss = i.cutSealed(ss)
	}
}

// commitGroup is the number of streams whose blocks are committed
// together, holding their locks for the commit.
const commitGroup = 16

// cutSealed seals the full heads of ss (sorted by sid, distinct), encodes
// them and commits them. It returns the streams whose head was full again
// after the commit.
func (i *Ingester) cutSealed(ss []*stream) (again []*stream) {
	ps := make([]pendingBlock, 0, len(ss))
	for _, s := range ss {
		s.mu.Lock()
		if sh := s.sealed; sh != nil && !sh.busy {
			_ = i.commitSealed(s) // an earlier commit failed; logged
		}
		if s.sealed == nil && s.headFull(i.cfg.BlockSize) {
			sh := i.seal(s)
			ps = append(ps, pendingBlock{s: s, sh: sh})
		}
		s.mu.Unlock()
	}
	if i.afterSeal != nil && len(ps) > 0 {
		i.afterSeal()
	}
	for k := range ps {
		p := &ps[k]
		p.blk, p.rec = i.getBuf(), i.getBuf()
		*p.blk, p.meta = i.encodeHead(p.head(), (*p.blk)[:0])
	}
	for len(ps) > 0 {
		g := ps[:min(len(ps), commitGroup)]
		ps = ps[len(g):]
		for k := range g {
			g[k].s.mu.Lock() // in sid order
		}
		live := make([]pendingBlock, 0, len(g))
		for _, p := range g {
			if p.s.sealed == p.sh { // else a chunk cut committed it
				p.bseq = p.s.nextBlockSeq
				live = append(live, p)
			}
		}
		i.commitBlocks(live)
		for _, p := range g {
			s := p.s
			if s.sealed == p.sh {
				p.sh.busy = false // not committed: the next cut retries
			} else {
				p.sh.reset(&i.pages)
			}
			if s.open.size >= int64(i.cfg.ChunkTargetSize) {
				_, _ = i.cutChunk(s, cutSize, nil) // logged; retried at the next block
			}
			if s.sealed == nil && s.headFull(i.cfg.BlockSize) {
				again = append(again, s)
			}
			s.mu.Unlock()
			i.putBuf(p.blk)
			i.putBuf(p.rec)
		}
	}
	return again
}

// cutGroupLocked cuts every non-empty head of ss (sorted by sid,
// distinct), and sealed heads, holding the locks of ss.
func (i *Ingester) cutGroupLocked(ss []*stream) {
	// Stream locks are taken in sid order; other goroutines hold one
	// stream lock at a time or also lock in sid order.
	for _, s := range ss {
		s.mu.Lock()
	}
	defer func() {
		for _, s := range ss {
			s.mu.Unlock()
		}
	}()
	ps := make([]pendingBlock, 0, len(ss))
	for _, s := range ss {
		if s.sealed != nil && i.commitSealed(s) != nil {
			continue // logged; its head must stay behind it
		}
		if s.head.empty() {
			continue
		}
		p := pendingBlock{s: s, bseq: s.nextBlockSeq, blk: i.getBuf(), rec: i.getBuf()}
		*p.blk, p.meta = i.encodeHead(&s.head, (*p.blk)[:0])
		ps = append(ps, p)
	}
	defer func() {
		for _, p := range ps {
			i.putBuf(p.blk)
			i.putBuf(p.rec)
		}
	}()
	i.commitBlocks(ps)
	for _, s := range ss {
		if s.open.size >= int64(i.cfg.ChunkTargetSize) {
			_, _ = i.cutChunk(s, cutSize, nil) // logged; retried at the next block
		}
	}
}

// commitSealed encodes and commits the sealed head of s as the next block
// of its open chunk, without waiting for the push that sealed it. The
// caller holds s.mu; s.sealed is not nil.
func (i *Ingester) commitSealed(s *stream) error {
	p := pendingBlock{s: s, sh: s.sealed, bseq: s.nextBlockSeq, blk: i.getBuf(), rec: i.getBuf()}
	defer i.putBuf(p.blk)
	defer i.putBuf(p.rec)
	*p.blk, p.meta = i.encodeHead(p.head(), (*p.blk)[:0])
	return i.commitBatch([]pendingBlock{p})
}

// txnCost returns the entries and bytes the block's transaction writes.
func (p *pendingBlock) txnCost(opts badger.Options) (int, int64) {
	n := len(p.head().seqs)
	size := entrySize(opts, blockKeyLen, 64) + entrySize(opts, blockKeyLen, len(*p.blk)+len(p.meta.Filter)+8) +
		int64(n)*entrySize(opts, walKeyLen, 0)
	return 2 + n, size
}

// commitBlocks writes encoded heads (of distinct streams) in as few
// transactions as Badger's limits allow and adds them to their streams. A
// lone block, or a group Badger finds too big, goes block by block through
// commitWithWALDeletes, which splits WAL deletions that do not fit. The
// caller holds the streams' locks.
func (i *Ingester) commitBlocks(ps []pendingBlock) {
	opts := i.db.Opts()
	maxCount, maxSize := txnLimits(opts)
	for start := 0; start < len(ps); {
		end, count, size := start, 0, int64(0)
		for end < len(ps) {
			c, sz := ps[end].txnCost(opts)
			if end > start && (count+c > maxCount || size+sz > maxSize) {
				break
			}
			count, size, end = count+c, size+sz, end+1
		}
		_ = i.commitBatch(ps[start:end]) // logged; the heads stay
		start = end
	}
}

// commitBatch writes a batch of encoded heads in one transaction, or block
// by block if the batch has one block or Badger finds it too big. It
// returns the last error (each is logged).
func (i *Ingester) commitBatch(ps []pendingBlock) error {
	var err error
	if len(ps) > 1 {
		err = i.update(func(txn *badger.Txn) error {
			for k := range ps {
				p := &ps[k]
				if err := i.putBlock(txn, p.s, p.bseq, *p.blk, p.meta, p.rec); err != nil {
					return err
				}
				for _, seq := range p.head().seqs {
					if err := txn.Delete(walKey(nil, p.s.sid, seq)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if !errors.Is(err, badger.ErrTxnTooBig) {
			i.blocksCommitted(ps, err)
			return err
		}
	}
	var last error
	for k := range ps {
		p := &ps[k]
		err = i.commitWithWALDeletes(p.s.sid, p.head().seqs, func(txn *badger.Txn) error {
			return i.putBlock(txn, p.s, p.bseq, *p.blk, p.meta, p.rec)
		})
		i.blocksCommitted(ps[k:k+1], err)
		if err != nil {
			last = err
		}
	}
	return last
}

// blocksCommitted adds committed blocks to their streams, or logs the
// failure (the heads stay and a later push retries).
func (i *Ingester) blocksCommitted(ps []pendingBlock, err error) {
	if err != nil {
		i.m.storageFailures.WithLabelValues("block").Inc()
		i.logger.Error("cut head blocks", "blocks", len(ps), "err", err)
		return
	}
	for k := range ps {
		i.m.blockWritten.Add(float64(len(*ps[k].rec)))
		i.addBlock(ps[k].s, ps[k].bseq, ps[k].meta, ps[k].sh)
	}
}

// update runs fn in a write transaction and commits it. Errors wrap
// ErrStorage.
func (i *Ingester) update(fn func(*badger.Txn) error) error {
	txn := i.db.NewTransaction(true)
	defer txn.Discard()
	if err := fn(txn); err != nil {
		return fmt.Errorf("write buffer: %w: %w", ErrStorage, err)
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("commit buffer write: %w: %w", ErrStorage, err)
	}
	return nil
}

// cutChunk completes the open chunk of s: the head (if any) becomes its
// last block, and a cut record marks it complete, in one transaction that
// also deletes the head's WAL records and, if carry is not nil, writes
// carry (WAL entries) as a new WAL record whose sequence number it returns.
// The chunk then waits in the flush queue. The caller holds s.mu. On error
// nothing changed.
func (i *Ingester) cutChunk(s *stream, reason byte, carry []byte) (uint64, error) {
	if !s.open.active {
		return 0, nil
	}
	if s.sealed != nil {
		if err := i.commitSealed(s); err != nil {
			return 0, err
		}
	}
	hasHead := !s.head.empty()
	blk, rec := i.getBuf(), i.getBuf()
	defer i.putBuf(blk)
	defer i.putBuf(rec)
	var meta chunk.BlockMeta
	if hasHead {
		*blk, meta = i.encodeHead(&s.head, (*blk)[:0])
	}
	nblocks := len(s.open.blocks)
	if hasHead {
		nblocks++
	}
	var newSeq uint64
	var carryVal []byte
	if carry != nil {
		newSeq = i.nextWSeq.Add(1)
		carryVal = appendWALValue(nil, carry)
	}
	bseq, cseq := s.nextBlockSeq, s.open.cseq
	err := i.commitWithWALDeletes(s.sid, s.head.seqs, func(txn *badger.Txn) error {
		if hasHead {
			if err := i.putBlock(txn, s, bseq, *blk, meta, rec); err != nil {
				return err
			}
		}
		if err := txn.Set(cutKey(s.sid, cseq), appendCutRecord(nil, nblocks, reason)); err != nil {
			return err
		}
		if carry == nil {
			return nil
		}
		return txn.Set(walKey(nil, s.sid, newSeq), carryVal)
	})
	if err != nil {
		i.m.storageFailures.WithLabelValues("cut").Inc()
		i.logger.Error("cut chunk", "tenant", s.tenant, "stream", s.labels.String(), "reason", cutReasonName(reason), "err", err)
		return 0, err
	}
	i.m.walWritten.Add(float64(len(carryVal)))
	if hasHead {
		i.m.blockWritten.Add(float64(len(*rec)))
		i.addBlock(s, bseq, meta, nil)
	} else {
		s.head.seqs = s.head.seqs[:0]
	}
	c := &cutChunk{s: s, cseq: cseq, blocks: s.open.blocks, size: s.open.size}
	s.cut = append(s.cut, c)
	s.open = openChunk{cseq: cseq + 1}
	i.queue.push(c)
	i.m.chunksCut.WithLabelValues(cutReasonName(reason)).Inc()
	return newSeq, nil
}

// addBlock records a block that was just written from the head, or from
// the sealed head sh, and empties that head. The caller holds s.mu.
func (i *Ingester) addBlock(s *stream, bseq uint64, meta chunk.BlockMeta, sh *sealedHead) {
	meta.Filter = nil // kept in Badger only
	s.open.blocks = append(s.open.blocks, blockRef{bseq: bseq, meta: meta})
	s.open.size += int64(meta.Length)
	s.nextBlockSeq = bseq + 1
	i.m.blocksCut.Inc()
	if sh != nil {
		s.sealed = nil
		i.m.headBytes.Sub(float64(sh.size))
		if !sh.busy {
			sh.reset(&i.pages)
		} // else the push encoding it gives its pages back
		return
	}
	i.m.headBytes.Sub(float64(s.head.size))
	s.head.reset(&i.pages)
	s.dedup.rotate()
}

// encodeHead compresses the entries of h into a block appended to dst,
// leaving h unchanged. The caller holds the stream's lock, or h is a
// sealed head.
func (i *Ingester) encodeHead(h *headBlock, dst []byte) ([]byte, chunk.BlockMeta) {
	b := i.builders.Get().(*chunk.BlockBuilder)
	defer i.builders.Put(b)
	var sb labels.ScratchBuilder
	for _, page := range h.pages {
		r := entryReader{b: page}
		var e walEntry
		for r.next(&e) {
			b.Append(e.ts, e.line, metadataLabels(e.md, &sb))
		}
		if r.err != nil {
			panic("BUG: malformed head block: " + r.err.Error())
		}
	}
	return b.Encode(dst)
}

// putBlock sets the meta and data records of block bseq of the open chunk
// of s, building the data record in rec (which must stay untouched until
// the transaction commits).
func (i *Ingester) putBlock(txn *badger.Txn, s *stream, bseq uint64, data []byte, meta chunk.BlockMeta, rec *[]byte) error {
	filter := meta.Filter
	meta.Filter = nil
	metaRec := appendBlockMetaRecord(make([]byte, 0, 64), s.open.windowStart, chunk.AppendBlockMeta(nil, meta))
	if err := txn.Set(blockMetaKey(s.sid, s.open.cseq, bseq), metaRec); err != nil {
		return err
	}
	*rec = appendBlockDataRecord((*rec)[:0], filter, data)
	return txn.Set(blockDataKey(s.sid, s.open.cseq, bseq), *rec)
}

// commitWithWALDeletes runs put in a write transaction together with the
// deletion of WAL records seqs of stream sid, and commits. Deletions beyond
// Badger's batch limit (a head made of tens of thousands of tiny pushes) go
// into follow-up transactions; if one of those fails, the records left are
// replayed after a restart as duplicates, which block encoding and queries
// drop. Errors wrap ErrStorage.
func (i *Ingester) commitWithWALDeletes(sid uint64, seqs []uint64, put func(*badger.Txn) error) error {
	txn := i.db.NewTransaction(true)
	defer txn.Discard()
	if err := put(txn); err != nil {
		return fmt.Errorf("write buffer: %w: %w", ErrStorage, err)
	}
	k := 0
	for ; k < len(seqs); k++ {
		if err := txn.Delete(walKey(nil, sid, seqs[k])); err != nil {
			if errors.Is(err, badger.ErrTxnTooBig) && k > 0 {
				break
			}
			return fmt.Errorf("write buffer: %w: %w", ErrStorage, err)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("commit buffer write: %w: %w", ErrStorage, err)
	}
	if k < len(seqs) {
		if err := i.deleteKeys(walKeys(sid, seqs[k:])); err != nil {
			i.logger.Warn("delete WAL records already in a block", "records", len(seqs)-k, "err", err)
		}
	}
	return nil
}

func walKeys(sid uint64, seqs []uint64) [][]byte {
	keys := make([][]byte, len(seqs))
	for k, seq := range seqs {
		keys[k] = walKey(nil, sid, seq)
	}
	return keys
}

// deleteKeys deletes keys in as many transactions as needed. Errors wrap
// ErrStorage.
func (i *Ingester) deleteKeys(keys [][]byte) error {
	for len(keys) > 0 {
		txn := i.db.NewTransaction(true)
		k := 0
		for ; k < len(keys); k++ {
			if err := txn.Delete(keys[k]); err != nil {
				if errors.Is(err, badger.ErrTxnTooBig) && k > 0 {
					break
				}
				txn.Discard()
				return fmt.Errorf("delete buffer keys: %w: %w", ErrStorage, err)
			}
		}
		if err := txn.Commit(); err != nil {
			return fmt.Errorf("commit buffer deletes: %w: %w", ErrStorage, err)
		}
		keys = keys[k:]
	}
	return nil
}

func (i *Ingester) getBuf() *[]byte { return i.bufs.Get().(*[]byte) }

func (i *Ingester) putBuf(b *[]byte) {
	if cap(*b) > 4*i.cfg.BlockSize+(1<<20) {
		*b = nil
	}
	i.bufs.Put(b)
}
