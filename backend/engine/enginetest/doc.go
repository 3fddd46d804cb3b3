// Package enginetest provides an in-memory engine.Querier for tests and
// benchmarks of the engine and of code above it (the HTTP API).
//
// Querier holds streams per tenant in memory. Push adds entries (kept sorted
// by time, duplicates kept once); SelectLogs answers with the merged,
// direction-ordered entries of the matching streams, honouring Start/End
// and Limit, and counts what it returns as head-chunk lines and bytes in the
// query's stats.Context, as an ingester would. It also has the optional
// abilities of engine.StreamQuerier (SelectStreams) and engine.Counter
// (CountEntries), as straightforward reference implementations.
//
// Goroutine-safety: Push and SelectLogs may be called concurrently; an
// iterator returned by SelectLogs reads a snapshot and is used by one
// goroutine. Lines returned alias the pushed data, which callers must not
// change after Push.
package enginetest
