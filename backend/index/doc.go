// Package index is Lode's label index: for each tenant and each 24-hour
// period (aligned to Unix epoch days) it maps label pairs to the streams
// carrying them (postings), stream fingerprints to their labels, and streams
// to the chunk objects holding their entries (chunk refs). It lives inside
// the Raft FSM's Badger database; the key layout is frozen in FORMAT.md.
//
// Main types:
//   - ChunkRef, ChunkEntry, Stream: the values committed by flushes and
//     returned to queriers.
//   - Reader: the query-side contract (Streams, Chunks, LabelNames,
//     LabelValues), bounded in time through the periods it touches.
//   - Store: Reader over a *badger.DB.
//   - AddChunks, ValidateEntry: the write side, applied by the FSM through
//     a KV (Has/Set over a Badger transaction, owned by the caller).
//   - Period, PeriodOf: the 24h periods keys are grouped by.
//   - Store.TenantPeriods, DropPeriod: retention's side, listing the
//     periods present and deleting one through a ScanKV, releasing the
//     objects of the chunks that end in it.
//
// Invariants:
//   - A chunk ref is stored once in every period its [From, Through] covers;
//     adding the same ref again changes nothing (idempotent).
//   - In a period, a stream's labels key is written after all its postings,
//     so its presence proves the postings are complete (a partly applied
//     batch is completed by applying it again).
//   - Queries need one matcher that does not match the empty string
//     (ErrMatchersEmpty); a matcher that matches "" also matches streams
//     without the label, as in Prometheus.
//
// Goroutine-safety: Store is safe for concurrent use (every call reads a
// consistent Badger snapshot). AddChunks is called by the single FSM
// goroutine. Returned slices and labels belong to the caller; AddChunks
// hands key and value buffers to the KV and never touches them again.
package index
