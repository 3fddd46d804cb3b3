// Package tailer follows the files of the agent's targets and feeds their
// lines to the targets' pipelines.
//
// Files are known by identity (device and inode, checked against a
// fingerprint of their first bytes so a reused inode is not taken for the
// old file), not by path. A file whose path comes to name another file,
// disappears, or is no longer wanted is drained (read to its end, its
// partial last line sent, held pipeline entries flushed), then closed after
// Options.RotatedGrace without change; it is forgotten once its lines are
// acknowledged. A file that shrinks, or whose first bytes change, was
// truncated (copytruncate) and is read again from its start. A rotated
// file renamed next to its old path while the agent was down is found and
// read to its end.
//
// Positions: each file has an ack.Tracker; the positions file (written
// atomically every SyncPeriod, and by SyncPositions) holds each tracker's
// committed offset, so only acknowledged lines are ever skipped.
//
// Lines: split on "\n" (a "\r" before it is removed), kept byte for byte;
// lines longer than MaxLineSize are split or truncated and counted. A
// line is handed to the pipeline with its read time as timestamp, strictly
// increasing per file. The read buffer is reused: a Sink copies what it
// keeps.
//
// THREADS: Run owns all reading state in one loop goroutine (no goroutine
// or descriptor per idle file; descriptors of files idle for IdleClose are
// closed); a watcher goroutine turns fsnotify events into pending work
// (pendMu), and a positions goroutine writes the positions file from the
// registry (registry.mu). A blocking Sink stops the loop: backpressure.
package tailer
