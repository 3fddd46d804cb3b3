// Package ack tracks which bytes of a file may be forgotten: a Tracker
// hands out one Token per line read, and the file's committed offset only
// moves past a line once every holder of its token (pipeline stages, the
// batches of every client) has called Done.
//
// Main types: Tracker (one per file incarnation: a truncation starts a new
// one) and Token (a small value naming one line of one Tracker).
//
// Invariants: lines are added in increasing offset order; Committed is the
// start offset of the oldest line still held, or the end of the last line
// added when none is held, so it never passes an unacknowledged line and
// never decreases. Memory is proportional to the lines still held, not to
// the lines read.
//
// Goroutine-safety: all methods of Tracker and Token are safe for
// concurrent use; a Token's references may be released from any goroutine.
//
// THREADS: none of its own.
package ack
