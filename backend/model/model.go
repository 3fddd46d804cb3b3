package model

import (
	"bytes"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// Entry is one log line of a stream.
type Entry struct {
	Timestamp int64         // Unix nanoseconds
	Line      []byte        // stored byte-exact, invalid UTF-8 included
	Metadata  labels.Labels // structured metadata: not indexed, may be empty
}

// Clone returns a copy of e that owns its line.
func (e Entry) Clone() Entry {
	e.Line = bytes.Clone(e.Line)
	return e
}

// Sample is one value of a metric series.
type Sample struct {
	T int64 // Unix nanoseconds
	V float64
}

// Fingerprint identifies a stream of a tenant.
type Fingerprint uint64

// StreamFingerprint hashes tenant and labels into the stable stream
// identifier. The layout hashed is: tenant, 0xff, then for each label
// name, 0xfe, value, 0xff. Never change it: fingerprints are persisted.
func StreamFingerprint(tenant string, ls labels.Labels) Fingerprint {
	d := xxhash.New()
	_, _ = d.WriteString(tenant)
	_, _ = d.Write([]byte{0xff})
	ls.Range(func(l labels.Label) {
		_, _ = d.WriteString(l.Name)
		_, _ = d.Write([]byte{0xfe})
		_, _ = d.WriteString(l.Value)
		_, _ = d.Write([]byte{0xff})
	})
	return Fingerprint(d.Sum64())
}

// StreamEntry is an entry together with the stream it belongs to.
type StreamEntry struct {
	Labels      labels.Labels
	Fingerprint Fingerprint
	Entry
}

// Direction is the order in which log entries are returned.
type Direction uint8

const (
	Backward Direction = iota // newest first (Loki's default)
	Forward                   // oldest first
)

func (d Direction) String() string {
	if d == Forward {
		return "forward"
	}
	return "backward"
}

// LogSelect is what a query asks of storage: the streams of a tenant whose
// labels match Matchers, and their entries with Start <= ts < End, in
// Direction order.
type LogSelect struct {
	Tenant    string
	Matchers  []*labels.Matcher
	Start     int64 // inclusive, Unix ns
	End       int64 // exclusive, Unix ns
	Direction Direction
	// Limit is a hint: a source may stop after Limit entries per its own
	// order. 0 means no limit.
	Limit int
	// Needles are literal substrings every returned line must contain
	// (from `|=` filters). Sources use them to skip blocks whose token
	// filter rules them out; they still return lines unfiltered otherwise,
	// so callers must apply their filters themselves.
	Needles [][]byte
	// TimestampsOnly says the caller reads only Timestamp and Metadata (and
	// the stream), never Line, so sources may skip decoding lines.
	TimestampsOnly bool
}

// Stream is a batch of entries of one stream, as the distributor hands it to
// ingesters: labels are canonical (sorted, validated) and Fingerprint is
// StreamFingerprint(tenant, Labels).
type Stream struct {
	Labels      labels.Labels
	Fingerprint Fingerprint
	Entries     []Entry
}
