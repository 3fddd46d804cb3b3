// Package plugin is the backend of the Lode Grafana datasource (plugin id lode-logs-datasource):
// it answers Grafana's QueryData, CheckHealth, CallResource and streaming calls by talking to
// lode's Loki-compatible HTTP API.
//
// Main types: Datasource (one per configured datasource, created by NewDatasource through the
// SDK's instance manager), Settings (loaded and validated once by LoadSettings) and QueryModel
// (the query JSON, with the field names of Grafana's Loki datasource).
//
// Frames: log results become one frame of type LogLines (Grafana's logs data-plane contract:
// labels as JSON, timestamp, body, severity, id, plus a hidden tsNs string), rows merged across
// streams by time in the query direction, with ids stable across queries; metric results become
// TimeSeriesMulti frames named by the legend format. Stats go into the first frame's meta.
//
// Invariants:
//   - The tenant (X-Scope-OrgID) and credentials come from the settings only; no query,
//     resource call or channel can change them.
//   - Secrets are read only from DecryptedSecureJSONData and never appear in jsonData, logs,
//     error messages or health details.
//   - Every query gets its own answer: an error from lode is that query's error, with lode's
//     message; a panic in one query becomes that query's error.
//
// Goroutine-safety: a Datasource is immutable after New except for its channel registry
// (mutex-guarded) and is safe for the concurrent calls Grafana makes.
//
// THREADS: QueryData runs up to Settings.QueryConcurrency worker goroutines per request, which
// exit before it returns. RunStream runs a tailer on the calling goroutine plus one keep-alive
// goroutine per websocket connection, which pings lode and closes the connection when Grafana
// cancels the stream (the last subscriber left); both end before RunStream returns.
package plugin
