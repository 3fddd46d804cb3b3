// Package cluster runs Lode's Raft node (hashicorp/raft): the replicated
// state machine (FSM) that holds the label index (package index) and the
// ring (package ring: members, their addresses, tokens, states and
// heartbeats), in a Badger database under <data.dir>/raft/fsm, and the
// membership protocol around it.
//
// Main types: Config (the -cluster.* and -ring.* flags), Node (New,
// AddChunks, index.Reader over the local replica, Ring, SetState, Leave,
// Handle for calls from other members, WaitReady, RaftInfo, Close; for
// package retention: TenantPeriods, DropPeriod, DroppedObjects,
// ForgetObjects),
// Transport (what carries calls to other members: the internal gRPC pool).
//
// Membership: a node with no state and no -cluster.join bootstraps a
// cluster; the others ask a member (any: calls reach the leader in one
// hop) to add them, as voters while there are fewer than -cluster.voters,
// else as non-voters. Every node then registers in the ring (its tokens
// derived from its id) and reports a heartbeat each -ring.heartbeat-period
// to the leader, which commits all reports in one command and removes
// members silent for -ring.heartbeat-timeout from the ring and from Raft
// (never before it has led for that long itself), promoting non-voters
// while voters are missing. Leave hands leadership over first. Writes from
// followers (chunk refs, ring changes) are forwarded to the leader.
//
// Storage: the Raft log and stable store are hashicorp/raft-wal
// (<data.dir>/raft/wal), snapshots are raft's FileSnapshotStore holding
// Badger backups (<data.dir>/raft/snapshots), the node id is persisted in
// <data.dir>/raft/node-id. Command, key and snapshot formats: FORMAT.md.
//
// Transport security: the Raft transport is plain TCP unless TLSConfig is
// set (-cluster.tls-*); then it runs mutual TLS with the same certificate,
// key and CA as the internal gRPC API (TLSConfig.Load gives both sides'
// settings to the caller, which passes them to the gRPC server and pool).
//
// Invariants:
//   - Commands are applied in log order by one goroutine. Every apply
//     records the last applied index in Badger with its final write, and
//     entries at or below it are skipped, so a restart does not apply the
//     log again. Every command carries a request id remembered for 15
//     minutes of FSM time, so a command proposed twice (a retry after an
//     ambiguous leader loss) is applied once.
//   - A malformed or invalid command is rejected the same way on every
//     replica (ErrRejected). A storage error stops the FSM (ErrFSMFailed)
//     until restart, leaving its entries to be applied again.
//   - The ring readers see (Node.Ring) is rebuilt after each apply batch
//     that changed members, and only once that batch is committed.
//   - New command types get a new type byte and a case in fsm.dispatch.
//
// Goroutine-safety: Node's methods are safe for concurrent use. Reads go
// straight to the local replica and may lag the leader.
//
// THREADS: raft's own goroutines (FSM apply, snapshots, transport); the
// membership loop (join, registration, heartbeats, the leader's duties);
// the batcher's run goroutine, which gathers AddChunks requests into
// commands, and one waiter goroutine per command in flight (at most 4),
// which commits it (forwarding it to the leader from a follower) and
// answers the callers; Badger's compactors.
package cluster
