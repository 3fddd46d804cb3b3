// Package stages compiles and runs Promtail-compatible pipeline_stages:
// docker, cri (with partial-line reassembly), regex, json (JMESPath),
// logfmt, replace, template, labels, labeldrop, labelallow, static_labels,
// structured_metadata, timestamp, output, match, drop, limit, multiline,
// tenant, decolorize and metrics.
//
// Main types: Pipeline (the compiled stages of one job, immutable, shared
// by all its files), Instance (the per-file state: held multiline blocks
// and partial CRI lines, the last timestamp), Entry (one line on its way).
//
// Contract: Instance.Process hands each entry that comes out to the sink
// synchronously; an entry and its Line are valid only during that call, so
// the sink copies what it keeps. Stages never write into Entry.Line (it may
// point into the reader's buffer): they replace the slice. Every entry
// carries an ack.Token: a stage that drops an entry, or merges it into an
// earlier one, releases its token, so the file's committed offset moves on;
// a merged block keeps the token of its first line.
//
// Errors of New wrap ErrInvalidStage and carry a *config.KeyError naming
// the line and the key.
//
// Goroutine-safety: a Pipeline is safe for concurrent use (its metrics and
// limit stages are shared and locked); an Instance is used by one goroutine
// at a time. THREADS: none of its own; a limit stage without drop blocks
// the caller (backpressure).
package stages
