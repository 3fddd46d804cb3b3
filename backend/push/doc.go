// Package push holds the wire types of Loki's push protocol, shared by the
// distributor, lode-agent, lode-loadgen and tests, and their codecs:
//   - protobuf (Request.Unmarshal, Request.AppendMarshal): hand-written,
//     Loki's field numbers (PushRequest.streams=1; StreamAdapter labels=1,
//     entries=2; EntryAdapter timestamp=1, line=2, structuredMetadata=3),
//     unknown fields skipped; byte-compatible with Loki's generated code
//     (testdata/ holds fixtures written by it);
//   - JSON (Request.DecodeJSON, Request.AppendJSON): Loki's
//     {"streams":[{"stream":{...},"values":[["<ns>","line",{...}]]}]};
//   - HTTP (DecodeHTTP): content types, snappy, gzip and deflate, with the
//     size limit applied before and after decompression;
//   - stream label strings (AppendParsedLabels, AppendLabelsString);
//   - OpenTelemetry logs (DecodeOTLP): an OTLP/HTTP export mapped to
//     streams and structured metadata as Loki's OTLP endpoint does.
//
// Errors wrap ErrMalformed, ErrTooLarge or ErrUnsupportedMediaType (see
// errors.go for their HTTP statuses).
//
// Buffers: decoding does not copy. A Request decoded from bytes aliases
// them (lines, label strings and metadata point into the input; DecodeJSON
// also unescapes in place), so the input must stay unchanged while the
// Request is used; consumers that keep data copy it. DecodeHTTP returns a
// pooled Request that owns its body buffers: give it back with PutRequest
// when nothing uses it any more (GetRequest/PutRequest are the pool pair).
//
// Goroutine-safety: a Request is not safe for concurrent use; the package
// functions are.
package push
