package cluster

import "errors"

var (
	// ErrNotLeader is returned by writes on a node that is not (or stopped
	// being) the Raft leader. When leadership was lost while a write was in
	// flight the write may still have been committed; writes are idempotent,
	// so retrying is safe.
	ErrNotLeader = errors.New("not the raft leader")

	// ErrClosed is returned by calls on a node that is closing or closed.
	ErrClosed = errors.New("cluster node closed")

	// ErrRejected is returned when the FSM refused a command as invalid
	// (every replica refuses it the same way, so retrying cannot help).
	ErrRejected = errors.New("command rejected by the state machine")

	// ErrFSMFailed is returned once the state machine could not write to
	// its database: it stops applying, and the node must be restarted (the
	// entries not applied are applied again from the Raft log).
	ErrFSMFailed = errors.New("state machine failed")

	// ErrStateMismatch is returned by New when the state machine's data is
	// ahead of every Raft log entry and snapshot on disk (for example after
	// the Raft directory was removed but the FSM directory kept).
	ErrStateMismatch = errors.New("state machine data does not belong to this raft log")

	// ErrNodeIDMismatch is returned by New when -cluster.node-id differs
	// from the id persisted in the data directory.
	ErrNodeIDMismatch = errors.New("configured node id differs from the persisted one")
)
