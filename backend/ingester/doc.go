// Package ingester owns the write buffer of Lode: it makes pushed entries
// durable per stream, cuts them into chunks deterministically, flushes the
// chunks to the object store and their refs to the index, and answers
// queries over what is not flushed yet.
//
// Data path (Badger key layout and invariants in FORMAT.md): Push writes one
// WAL record per stream per call into Badger and appends it to the stream's
// head block in memory. A head that reaches -ingester.block-size is encoded
// (chunk.BlockBuilder) into a block stored in Badger in the same transaction
// that deletes its WAL records; memory keeps only the block's meta. A chunk
// is complete at -ingester.chunk-target-size (compressed), at the end of its
// time window (windows are multiples of -ingester.max-chunk-age on entry
// timestamps) or after -ingester.chunk-idle-period without entries; the flush
// encodes it (chunk.Encode), puts it under chunk.ObjectKey, calls
// IndexWriter.AddChunks, then deletes it from Badger. New replays Badger.
//
// Invariants: Push returns nil only once every entry is committed to Badger;
// an entry is in exactly one of WAL record, block, or (after the flush) the
// object store and index; duplicates (same stream, timestamp and line) of
// the head and the previous block are dropped on push, others by block
// encoding and by queries.
//
// Goroutine-safety: all methods of Ingester are safe for concurrent use.
// Buffers: Push does not retain its arguments; Query's iterator returns
// lines valid until its next Next; slices returned by Series, LabelNames and
// LabelValues belong to the caller.
//
// THREADS:
//   - callers of Push, Query, Series, LabelNames, LabelValues and Flush;
//   - the flush loop (one goroutine): every -ingester.flush-check-period
//     cuts idle chunks and removes empty idle streams, and within a second
//     of a chunk being cut flushes what is due; it owns the flush queue's
//     kick channel (receiving side);
//   - flush workers: up to -ingester.concurrent-flushes goroutines per
//     flush batch, each writing one chunk object, joined before AddChunks;
//   - the value log collector (one goroutine): runs Badger's value log GC
//     every -ingester.badger.gc-interval.
//
// Locks, outermost first: closeMu (Close versus operations), flushMu (one
// flush round at a time), deleteMu (dropping flushed chunks versus query
// snapshots), a stream-map stripe lock, a stream's mu, the flush queue's mu;
// dbMu (Close versus Badger reads by query iterators) is taken alone.
package ingester
