// Package lodetest runs real `lode` processes for tests: it builds the
// binary once per test binary, starts it on free loopback ports with a
// temporary data directory, waits until /ready answers, and can stop it with
// SIGTERM, kill it with SIGKILL and restart it on the same ports and data.
// It also pushes and queries through the public HTTP API, as any Loki
// client would.
//
// A *Process is used from one test goroutine; its HTTP helpers are safe to
// call concurrently.
package lodetest
