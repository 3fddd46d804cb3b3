// Package cluster runs Lode's Raft node (hashicorp/raft): the replicated
// state machine (FSM) that holds the label index (package index) and,
// later, the ring, in a Badger database under <data.dir>/raft/fsm.
//
// Main types: Config (the -cluster.* flags), Node (New, AddChunks,
// index.Reader over the local replica, WaitReady, Close).
//
// Storage: the Raft log and stable store are hashicorp/raft-wal
// (<data.dir>/raft/wal), snapshots are raft's FileSnapshotStore holding
// Badger backups (<data.dir>/raft/snapshots), the node id is persisted in
// <data.dir>/raft/node-id. Command, key and snapshot formats: FORMAT.md.
//
// Invariants:
//   - Commands are applied in log order by one goroutine. Every apply
//     records the last applied index in Badger with its final write, and
//     entries at or below it are skipped, so a restart does not apply the
//     log again. Re-applying is harmless anyway: index writes are
//     idempotent, and a command's request id is remembered for 15 minutes
//     of FSM time so that a command proposed twice is applied once.
//   - A malformed or invalid command is rejected the same way on every
//     replica (ErrRejected). A storage error stops the FSM (ErrFSMFailed)
//     until restart, leaving its entries to be applied again.
//   - New command types get a new type byte and a case in fsm.dispatch.
//
// Goroutine-safety: Node's methods are safe for concurrent use. Reads go
// straight to the local Badger replica and may lag the leader.
//
// THREADS: raft's own goroutines (FSM apply, snapshots, transport); the
// batcher's run goroutine, which gathers AddChunks requests into commands,
// and one waiter goroutine per command in flight (at most 4), which answers
// the callers (with a helper blocked on raft's future, left behind only if
// raft shuts down without answering it); Badger's compactors.
package cluster
