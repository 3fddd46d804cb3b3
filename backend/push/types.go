package push

// Request is Loki's PushRequest: streams=1.
//
// A Request obtained from GetRequest or DecodeHTTP owns pooled buffers that
// its strings and lines point into; hand it back with PutRequest once nothing
// uses it any more.
type Request struct {
	Streams []Stream

	// raw and buf are the body buffers of DecodeHTTP (read body and
	// decompressed body). Decoded lines and strings alias them.
	raw, buf []byte
}

// Stream is Loki's StreamAdapter: labels=1 (a selector string such as
// `{app="api", env="prod"}`), entries=2.
type Stream struct {
	Labels  string
	Entries []Entry
}

// Entry is Loki's EntryAdapter: timestamp=1 (google.protobuf.Timestamp),
// line=2, structured metadata=3.
type Entry struct {
	Timestamp int64 // Unix nanoseconds
	Line      []byte
	Metadata  []LabelPair
}

// LabelPair is a structured metadata pair: name=1, value=2.
type LabelPair struct {
	Name, Value string
}
