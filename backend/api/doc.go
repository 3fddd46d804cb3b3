// Package api serves Lode's HTTP API, which is Grafana Loki's: push
// (protobuf+snappy and JSON), OpenTelemetry logs (/otlp/v1/logs), query and
// query_range, labels, label values, series, index stats, volume and
// volume_range, format_query, tail, and the operational endpoints /ready, /metrics, /flush,
// /config, and /ring and /cluster (handler_status.go: HTML for people, JSON
// with ?format=json, fed by a StatusSource). Lode's internal gRPC API is
// the subpackage rpc. Request parameters are parsed the way Loki parses them (every
// time format Loki accepts, Loki's defaults), responses use Loki's JSON
// shapes, and errors are plain-text bodies with Loki-style messages.
//
// errors.go is the one place where Lode's sentinel errors are mapped to
// HTTP status codes.
//
// Server is goroutine-safe: net/http calls its handlers concurrently. The
// components it calls (distributor, engine, querier) must be too.
package api
