// Package lokiapi speaks the Loki-compatible HTTP API that lode serves, for the Grafana plugin.
//
// It owns the wire side of the plugin: building query_range, query, labels, label values,
// series, index/stats and tail requests, sending them with the datasource's fixed tenant and
// credentials, and decoding Loki's JSON shapes (streams, matrix, vector, scalar, stats, tail
// messages) into plain Go types. It knows nothing about Grafana data frames.
//
// Main types: API (one per datasource instance), RangeQuery and InstantQuery (what to ask),
// QueryResponse with Stream, Entry, Series, Sample and Point (what came back), TailMessage (one
// websocket message of a live tail) and StatusError (a non-2xx answer with the server's message).
//
// Invariants:
//   - The tenant header (X-Scope-OrgID) and the Authorization header come only from Options;
//     no request parameter can set or change them.
//   - A non-2xx answer is always a *StatusError carrying the server's own message; a 2xx answer
//     that is not Loki JSON is ErrNotLokiAPI.
//   - Timestamps are Unix nanoseconds; stream values are decoded without loss of precision.
//
// Goroutine-safety: an API is immutable after New and safe for concurrent use. Decoded
// responses are owned by the caller; nothing is pooled or reused.
package lokiapi
