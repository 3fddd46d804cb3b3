// Package limits holds Lode's per-tenant limits: the validation limits the
// distributor applies to every pushed stream and entry (line size, label
// count and lengths, timestamp window, structured metadata), the ingestion
// rate, the stream count an ingester allows a tenant, and the read-path
// limits of one query (max_entries_limit_per_query, max_query_series,
// max_query_length, query_timeout) that the HTTP API hands to the engine.
//
// Main types:
//   - Tenant: one tenant's limits, a plain struct passed by value (a
//     snapshot), never an interface with a method per knob.
//   - Config: the defaults (flags -validation.*, -distributor.*,
//     -ingester.*, -limits.*, -querier.*, -store.max-query-length; YAML
//     keys as Loki's limits_config) and the per-tenant overrides map
//     (`overrides: {tenant: {...}}`); a tenant's override starts from the
//     defaults and changes only the keys it names.
//   - Overrides: the resolved config, goroutine-safe; Tenant(id) returns
//     the snapshot for a tenant and Update swaps in a new config at run
//     time.
//   - RateLimiter: a token bucket (golang.org/x/time/rate) per tenant on
//     this process (Loki's "local" strategy), goroutine-safe.
//   - ByteSize: a byte count read as "256KiB", "64MB" or "262144".
//   - RuntimeConfig, RuntimeLoader: the -runtime-config.file of per-tenant
//     overrides, applied to Overrides at start and again every reload
//     period (a broken file keeps the limits in force).
//
// The per-tenant retention_period (-store.retention) is read by package
// retention and by the querier as its lookback bound.
//
// Invariants: a Tenant from Overrides has passed Validate (NewOverrides
// expects a validated Config, Update validates); 0 means unlimited
// for rates, sizes and counts where the field says so.
package limits
