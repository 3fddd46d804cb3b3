// Package plugintest runs the Lode Grafana plugin the way Grafana does, for tests: Build
// compiles the gpx_lode binary for this machine, Launch starts it through hashicorp/go-plugin
// with Grafana's handshake and the SDK's gRPC services (diagnostics, data, resource, stream),
// and Plugin's methods make the calls Grafana makes (CheckHealth, QueryData, CallResource,
// SubscribeStream, RunStream), converting with the SDK's proto converters.
//
// The lode the plugin talks to is either FakeLode, a recording HTTP server with set replies
// and a tail websocket fed by Push, or Lode, a real lode process built from ./backend/cmd/lode
// and started on free loopback ports with a temporary data directory.
//
// Every process and server started here is stopped when the test ends. A Plugin is used from
// one test goroutine; RunStream's packets arrive on a channel fed by one goroutine per stream,
// which ends with the stream. FakeLode is safe for concurrent use.
package plugintest
