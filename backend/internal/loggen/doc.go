// Package loggen generates a deterministic corpus of realistic mixed logs
// for tests and benchmarks: nginx and apache access logs, JSON application
// logs, logfmt, klog, and multi-line Java and Go stack traces, spread over
// many streams labelled the way Kubernetes service discovery and Prometheus
// relabelling label them (namespace, app, pod, container, level, job).
//
// Main type: Generator. New(seed, streams) builds the stream set; Next
// appends the next line to a caller buffer and returns its stream and
// timestamp. The sequence depends only on the Options: the same seed gives
// the same streams, lines and timestamps on every platform and release of
// this package (tests pin it). Timestamps never decrease across Next calls
// (a stream occasionally repeats the previous timestamp).
//
// Needles: with Options.NeedleEvery = n, exactly every n-th line (lines
// n, 2n, ...) carries a unique token (NeedleToken(k) for the k-th one,
// never found elsewhere in the corpus), for needle-search benchmarks.
//
// Speed: several hundred MB/s per core without allocations in Next, so
// benchmarks measure the code under test, not the generator.
//
// Goroutine-safety: a Generator is not safe for concurrent use; use one per
// goroutine. Labels returned by Labels are immutable and may be shared.
// Buffers: Next appends to dst and the returned line aliases it.
package loggen
