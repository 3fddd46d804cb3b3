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
	// filter rules them out and may drop any line that lacks one; they
	// need not drop them all, so callers still apply their filters.
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

// Windows are the sliding windows of a range aggregation evaluated at
// evenly spaced times: window i (0 <= i < Count) holds the timestamps ts
// with End(i)-Range < ts <= End(i), where End(i) = First + i*Step.
type Windows struct {
	First int64 // end of window 0 (inclusive), Unix ns
	Step  int64 // > 0
	Range int64 // > 0
	Count int   // > 0
}

// End returns the end (inclusive) of window i.
func (w Windows) End(i int) int64 { return w.First + int64(i)*w.Step }

// Start returns the smallest timestamp any window holds.
func (w Windows) Start() int64 { return w.First - w.Range + 1 }

// Last returns the largest timestamp any window holds.
func (w Windows) Last() int64 { return w.End(w.Count - 1) }

// Span returns the first and last window holding ts; first > last when no
// window does (ts outside all windows, or in a gap when Range < Step).
func (w Windows) Span(ts int64) (first, last int) { return w.Overlapping(ts, ts) }

// Overlapping returns the first and last window holding some timestamp of
// [from, through]; first > last when none does.
func (w Windows) Overlapping(from, through int64) (first, last int) {
	// Window i holds ts iff ts <= First+i*Step < ts+Range.
	lo := ceilDiv(from-w.First, w.Step)
	hi := floorDiv(through-w.First+w.Range-1, w.Step)
	lo, hi = max(lo, 0), min(hi, int64(w.Count-1))
	if lo > hi {
		return 1, 0
	}
	return int(lo), int(hi)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// CountSelect asks storage to count the entries of a selection per window
// instead of returning them: the streams of Tenant matching Matchers, and
// among their entries, identical entries once, those in a window whose line
// contains every one of Needles (case-sensitively). Start and End of
// LogSelect are ignored (Windows bounds the read); so are Direction, Limit
// and TimestampsOnly.
type CountSelect struct {
	LogSelect
	Windows Windows
	// Bytes asks for the bytes of the lines counted as well.
	Bytes bool
	// Counts of a stream are split by the structured metadata of its
	// entries: by all of it when AllMetadata, else by the labels named in
	// MetadataBy only (not at all when it is empty).
	AllMetadata bool
	MetadataBy  []string
}

// WindowCounts are the counts of the entries of one stream that share one
// structured metadata set (as CountSelect splits them), per window.
type WindowCounts struct {
	Labels      labels.Labels
	Fingerprint Fingerprint
	Metadata    labels.Labels // the metadata labels CountSelect splits by
	Counts      []int64       // entries per window (len Windows.Count)
	Bytes       []int64       // bytes of lines per window, when asked for
	// MinTime is the smallest timestamp counted (orders series the way a
	// time-ordered read would meet them).
	MinTime int64
}
