// Package positions reads and writes the agent's positions file: for each
// file, its identity (device, inode, and a fingerprint of its first bytes
// against inode reuse) and the offset before which every byte was
// acknowledged by the server.
//
// Format (YAML, version 1):
//
//	version: 1
//	files:
//	  - path: /var/log/app.log
//	    dev: 2049
//	    inode: 1234567
//	    fingerprint: 9c56cc51b374c3ba   # FNV-1a of the first fingerprint_len bytes
//	    fingerprint_len: 1024
//	    offset: 52311
//
// A file written by Promtail (a "positions" map of path to offset) is read
// as Legacy offsets, applied to the file found at each path.
//
// Invariant: Write is atomic and durable (temporary file, fsync, rename,
// directory fsync): after a crash the file holds either the previous or
// the new positions.
//
// Goroutine-safety: the functions are safe for concurrent use on
// different paths; callers serialise writes of one path. THREADS: none.
package positions
