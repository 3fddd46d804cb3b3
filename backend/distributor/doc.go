// Package distributor is the entry of Lode's write path: it validates a
// decoded push request of a tenant against the tenant's limits, enforces
// the tenant's ingestion rate, and hands the valid streams to a Pusher
// (the ingester, or the replicating client in front of the ingesters).
//
// Main types: Distributor (New, Push, PushResult), the Pusher and Limits
// interfaces it consumes, Config (-distributor.max-recv-msg-size), and the
// errors of errors.go, each documented with the HTTP status it stands for.
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
package distributor
