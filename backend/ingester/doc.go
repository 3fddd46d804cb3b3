// Package ingester owns the write buffer of Lode: it makes pushed entries
// durable per stream, cuts them into chunks deterministically, flushes the
// chunks to the object store and their refs to the index, and answers
// queries over what is not flushed yet.
//
// Data path (Badger key layout and invariants in FORMAT.md): Push writes one
// WAL record per stream (s2-compressed) into Badger, then appends its
// entries to the stream's head block in memory (pages from a pool shared by
// all streams); a head that reached -ingester.block-size is sealed (moved
// aside under the stream lock, a new head taking the next entries), encoded
// (chunk.BlockBuilder) with no lock held, and written to Badger as a block
// in the transaction that deletes its WAL records, the blocks of a push
// committed together in groups. A chunk cut does not wait for a sealed head
// being encoded: it encodes it itself. Memory keeps only block metas. A chunk is complete at -ingester.chunk-target-size
// (compressed), at the end of its time window (multiples of
// -ingester.max-chunk-age on entry timestamps, so replicas cut alike) or
// after -ingester.chunk-idle-period without entries; the flush encodes it
// (chunk.Encode), puts it under chunk.ObjectKey, calls IndexWriter.AddChunks,
// keeps it readable for -ingester.chunk-retain-period (for queriers whose
// index replica lags the commit), then deletes it from Badger. New replays
// Badger into memory; a retained chunk is flushed again after a restart,
// which finds its object stored and commits the same ref.
//
// Invariants: Push returns nil only once every entry is committed to Badger;
// an entry is in one of a WAL record, a block, or (after the flush) the
// object store and index; duplicates (same stream, timestamp and line) of
// the head and the previous block are dropped on push, others by block
// encoding and by queries. Idle streams cost about 1 KB of memory.
//
// Goroutine-safety: all methods of Ingester are safe for concurrent use.
// Buffers: Push does not retain its arguments; Query's iterator (and
// QueryStreams', which splits the same data by stream) returns lines valid
// until its next Next and holds a Badger read transaction (and defers value
// log file deletion) until closed; slices returned by Series,
// LabelNames and LabelValues belong to the caller.
//
// THREADS:
//   - callers of Push, Query, Series, LabelNames, LabelValues and Flush;
//     Push compresses its WAL records and the blocks it completes on its
//     own goroutine;
//   - the flush loop (one goroutine): every -ingester.flush-check-period cuts
//     idle chunks and removes empty idle streams, and a second after a chunk
//     is cut flushes what is due; it receives from the flush queue's kick
//     channel, which cutting sends to without blocking;
//   - flush workers: up to -ingester.concurrent-flushes goroutines per flush
//     batch, each writing one chunk object, joined before AddChunks;
//   - the value log collector (one goroutine): runs Badger's value log GC
//     every -ingester.badger.gc-interval;
//   - the value log page releaser (one goroutine, Linux, with
//     -ingester.badger.release-value-log-pages): every 250 ms writes back
//     and releases the memory-mapped pages of value log files Badger no
//     longer writes (vlogPages);
//   - Badger's own goroutines (writes, compactions).
//
// Locks, outermost first: closeMu (Close against operations), flushMu (one
// flush round at a time), deleteMu (dropping flushed chunks against query
// snapshots), a stream-map stripe lock, stream locks (several only in sid
// order), the flush queue's lock; dbMu (Close against Badger reads by query
// iterators) is taken alone.
package ingester
