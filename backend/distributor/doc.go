// Package distributor is the entry of Lode's write path: it validates a
// decoded push request of a tenant against the tenant's limits, enforces
// the tenant's ingestion rate, and hands the valid streams to a Pusher
// (the ingester, or the replicating client in front of the ingesters).
//
// Main types: Distributor (New, Push, PushResult), the Pusher and Limits
// interfaces it consumes, Config (-distributor.max-recv-msg-size,
// -distributor.replication-factor, -distributor.otlp-index-labels), and the errors of errors.go, each
// documented with the HTTP status it stands for.
//
// Replicator is the Pusher of a cluster: it hashes each stream onto the
// ring (package ring), writes it to the stream's replication set (the
// node's own ingester directly, the others over gRPC) and returns once
// every stream is durable on a majority of its set; otherwise
// ErrReplication (503) names the stream. Replicas still writing then go on
// in the background on a copy of the streams, bounded by a timeout.
//
// Semantics of Push, as Loki's: every stream label string is parsed and
// canonicalised (sorted, empty values dropped) and every entry checked
// (timestamp window, line size, structured metadata). Valid entries are
// written even when others of the same request are not; the rejected ones
// are then reported in one *ValidationError (HTTP 400) naming each problem.
// A push over the tenant's rate limit writes nothing (*RateLimitError,
// HTTP 429). Discarded entries are counted in lode_discarded_samples_total
// and lode_discarded_bytes_total by reason and tenant.
//
// Buffers: the streams given to the Pusher alias the push.Request (lines,
// metadata values come from the request body); they are valid only during
// Pusher.Push, which must copy what it keeps. Labels and Fingerprint own
// their memory. The request may be reused once Push returns.
//
// Goroutine-safety: Push may be called concurrently; per-push scratch is
// pooled. The Distributor starts no goroutines.
//
// THREADS: Replicator.Push runs one goroutine per replica it writes to;
// those of replicas beyond the quorum may outlive the call (up to
// ReplicatorDeps.Timeout), holding only their own copy of the streams.
package distributor
