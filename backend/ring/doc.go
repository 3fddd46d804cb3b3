// Package ring owns Lode's consistent-hashing ring: the members of the
// cluster as the Raft FSM stores them (Instance), their tokens, and the
// lookups that place a stream on its replicas. It is a pure data structure:
// no I/O, no goroutines, no clock of its own (callers pass "now").
//
// Main types:
//   - Instance: one member (id, addresses, state, tokens, heartbeat), with a
//     compact versioned binary encoding (AppendInstance, ReadInstance;
//     FORMAT.md) that the FSM keeps in Badger.
//   - Ring: an immutable view of the members built by New. WriteSet places
//     a token on the first rf distinct ACTIVE ingesters clockwise; ReadSet
//     lists every ingester a query must ask (ACTIVE and LEAVING); Ownership
//     reports each ingester's share of the token space.
//   - GenerateTokens and TokenFor: deterministic token choice for a joining
//     ingester, and the token of a stream fingerprint.
//
// Invariants: a Ring never changes after New; a membership change builds a
// new Ring. Only ingesters (Instance.Ingester) own tokens; tokens of other
// members are ignored. Tokens should be unique across the ring; if two
// instances share a token, the one with the smaller id comes first.
// JOINING instances take neither writes nor reads; LEAVING ones take reads.
// Health (heartbeat age) never changes a set: callers skip unhealthy
// members and count each as a failure against MaxFailures.
//
// Goroutine-safety: a *Ring is safe for concurrent use. Buffers: New copies
// its input. Instances and Instance return deep copies. WriteSet and
// ReadSet return Instances whose Tokens slices alias the Ring's: callers
// must not modify them. WriteSet appends into buf[:0] and allocates nothing
// when buf has capacity for rf instances.
package ring
