package ingester

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/lode-logs/lode/backend/model"
)

// pushScratch holds one Push's records: keys, bodies and stream records
// back to back in buf, the values stored in Badger (bodies compressed) in
// stored, the dedup hashes of their entries in hashes, located by offsets
// so that all may grow. Pooled.
type pushScratch struct {
	buf    []byte
	stored []byte
	hashes []uint64
	recs   []pendingRecord
	full   []*stream // streams whose head reached the block size
}

// pendingRecord is the WAL record a Push writes for one stream.
type pendingRecord struct {
	s                  *stream
	seq                uint64
	key, body          [2]int // offsets of the record's key and body (WAL entries) in buf
	stored             [2]int // offsets of the value written to Badger in stored
	hashes             [2]int // offsets of the entries' hashes in hashes
	streamVal          [2]int // offsets of the stream record value; 0,0 if none
	entries, dups      int
	committed, skipped bool // skipped: no entry left after dropping duplicates
}

func (sc *pushScratch) slice(off [2]int) []byte { return sc.buf[off[0]:off[1]:off[1]] }

// Push makes the entries of streams durable in the buffer and adds them to
// their streams' head blocks. It returns only after every entry is in
// Badger (fsynced with -ingester.sync-writes); on error the caller must
// not acknowledge the push. Entries equal (same stream, timestamp and line)
// to one in the stream's head or previous block are dropped and counted.
// Streams must be validated and canonical (model.Stream's contract); a
// zero Fingerprint is computed. Push does not retain streams.
func (i *Ingester) Push(ctx context.Context, tenant string, streams []model.Stream) error {
	if err := i.enter(); err != nil {
		return err
	}
	defer i.closeMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := i.disk.check(); err != nil {
		i.m.pushFailures.Inc()
		return fmt.Errorf("push: %w", err)
	}
	sc := i.scratch.Get().(*pushScratch)
	defer i.putScratch(sc)
	for k := range streams {
		if len(streams[k].Entries) > 0 {
			i.prepareRecord(tenant, &streams[k], sc)
		}
	}
	err := i.writeRecords(sc)
	i.applyRecords(sc)
	if err != nil {
		i.m.pushFailures.Inc()
		i.m.storageFailures.WithLabelValues("push").Inc()
		return fmt.Errorf("push: %w", err)
	}
	return nil
}

func (i *Ingester) putScratch(sc *pushScratch) {
	if cap(sc.buf) > 64<<20 {
		sc.buf = nil
	}
	if cap(sc.stored) > 64<<20 {
		sc.stored = nil
	}
	clear(sc.recs)
	sc.buf, sc.stored, sc.hashes, sc.recs = sc.buf[:0], sc.stored[:0], sc.hashes[:0], sc.recs[:0]
	i.scratch.Put(sc)
}

// acquireStream returns the stream of st, locked, with inflight counted.
func (i *Ingester) acquireStream(tenant string, st *model.Stream) *stream {
	fp := st.Fingerprint
	if fp == 0 {
		fp = model.StreamFingerprint(tenant, st.Labels)
	}
	for {
		s := i.streams.getOrCreate(tenant, fp, st.Labels, func() uint64 { return i.nextSID.Add(1) })
		s.mu.Lock()
		if !s.removed {
			s.inflight++
			return s
		}
		s.mu.Unlock()
	}
}

// maxRecordBytes bounds the body of one WAL record; a stream's entries
// beyond it in one push go into further records (a Badger value must fit
// in one value log file).
const maxRecordBytes = 1 << 20

// prepareRecord (phase 1) encodes the WAL records of one stream's entries,
// dropping duplicates of the head, into sc: one record, or more if the
// entries exceed maxRecordBytes.
func (i *Ingester) prepareRecord(tenant string, st *model.Stream, sc *pushScratch) {
	s := i.acquireStream(tenant, st)
	defer s.mu.Unlock()
	r := i.startRecord(s, sc)
	for k := range st.Entries {
		e := &st.Entries[k]
		h := entryHash(e.Timestamp, e.Line)
		if s.dedup.contains(e.Timestamp, h) {
			r.dups++
			continue
		}
		if r.entries > 0 && len(sc.buf)-r.body[0]+len(e.Line) > maxRecordBytes {
			i.finishRecord(s, sc, r)
			s.inflight++ // each record releases the stream once
			r = i.startRecord(s, sc)
		}
		sc.buf = appendEntry(sc.buf, e)
		sc.hashes = append(sc.hashes, h)
		r.entries++
	}
	i.finishRecord(s, sc, r)
}

// startRecord begins a WAL record of s in sc.buf.
func (i *Ingester) startRecord(s *stream, sc *pushScratch) *pendingRecord {
	sc.recs = append(sc.recs, pendingRecord{s: s, seq: i.nextWSeq.Add(1)})
	r := &sc.recs[len(sc.recs)-1]
	r.key[0] = len(sc.buf)
	sc.buf = walKey(sc.buf, s.sid, r.seq)
	r.key[1] = len(sc.buf)
	r.body[0] = r.key[1]
	r.hashes[0] = len(sc.hashes)
	return r
}

// finishRecord ends the record r started by startRecord, adding the stream
// record if s was never written.
func (i *Ingester) finishRecord(s *stream, sc *pushScratch, r *pendingRecord) {
	r.body[1] = len(sc.buf)
	r.hashes[1] = len(sc.hashes)
	r.skipped = r.entries == 0
	if !s.persisted && !r.skipped {
		r.streamVal[0] = len(sc.buf)
		sc.buf = appendStreamRecord(sc.buf, s.tenant, s.fp, s.labels)
		r.streamVal[1] = len(sc.buf)
	}
}

// writeRecords (phase 2) compresses the prepared records and commits them
// to Badger, in as few transactions as Badger's batch limits allow,
// marking each committed record. On error, records of earlier
// transactions stay committed.
func (i *Ingester) writeRecords(sc *pushScratch) error {
	for k := range sc.recs {
		r := &sc.recs[k]
		if !r.skipped {
			r.stored[0] = len(sc.stored)
			sc.stored = appendWALValue(sc.stored, sc.slice(r.body))
			r.stored[1] = len(sc.stored)
		}
	}
	txn := i.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	first := 0 // first record of the current transaction
	for k := 0; k < len(sc.recs); k++ {
		r := &sc.recs[k]
		if r.skipped {
			continue
		}
		err := i.setRecord(txn, sc, r)
		if errors.Is(err, badger.ErrTxnTooBig) && k > first {
			if err = i.commitRecords(txn, sc, first, k); err != nil {
				return err
			}
			txn = i.db.NewTransaction(true)
			first = k
			err = i.setRecord(txn, sc, r)
		}
		if err != nil {
			return fmt.Errorf("write WAL record: %w: %w", ErrStorage, err)
		}
	}
	return i.commitRecords(txn, sc, first, len(sc.recs))
}

func (i *Ingester) setRecord(txn *badger.Txn, sc *pushScratch, r *pendingRecord) error {
	if r.streamVal[1] > 0 {
		if err := txn.Set(streamKey(r.s.sid), sc.slice(r.streamVal)); err != nil {
			return err
		}
	}
	return txn.Set(sc.slice(r.key), sc.stored[r.stored[0]:r.stored[1]:r.stored[1]])
}

func (i *Ingester) commitRecords(txn *badger.Txn, sc *pushScratch, from, to int) error {
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("commit WAL records: %w: %w", ErrStorage, err)
	}
	var written int
	for k := from; k < to; k++ {
		r := &sc.recs[k]
		r.committed = !r.skipped
		if r.committed {
			written += r.stored[1] - r.stored[0]
		}
	}
	i.m.walWritten.Add(float64(written))
	return nil
}

// applyRecords (phase 3) adds each committed record to its stream and
// releases the streams taken in phase 1, then (phase 4) turns the heads
// that reached the block size into blocks, all in one transaction.
func (i *Ingester) applyRecords(sc *pushScratch) {
	now := i.now().UnixNano()
	var dups int
	full := sc.full[:0]
	for k := range sc.recs {
		r := &sc.recs[k]
		s := r.s
		s.mu.Lock()
		s.inflight--
		if r.committed {
			s.persisted = true
			s.lastAppend = now
			if i.applyRecord(s, r.seq, sc.slice(r.body), sc.hashes[r.hashes[0]:r.hashes[1]]) {
				full = append(full, s)
			}
		}
		s.mu.Unlock()
		if r.committed || r.skipped {
			dups += r.dups
		}
	}
	if dups > 0 {
		i.m.duplicates.Add(float64(dups))
	}
	if len(full) > 0 {
		i.cutBlocks(full, false)
	}
	clear(full)
	sc.full = full[:0]
}
