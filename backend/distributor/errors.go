package distributor

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of Push. Test them with errors.Is; the HTTP status each stands for
// is in brackets. Errors of push.DecodeHTTP (push.ErrMalformed [400],
// push.ErrTooLarge [413], push.ErrUnsupportedMediaType [415]) come before
// Push and are the push package's. Any other error of Push comes from the
// Pusher, wrapped, and means nothing of the request may be acknowledged
// [5xx, or whatever the Pusher's own errors stand for].
var (
	// ErrInvalid reports entries or streams rejected by validation; see
	// ValidationError. The valid rest of the request was written. [400]
	ErrInvalid = errors.New("invalid push request")
	// ErrRateLimited reports a push over the tenant's ingestion rate; see
	// RateLimitError. Nothing was written. [429]
	ErrRateLimited = errors.New("ingestion rate limit exceeded")
)

// Reasons of rejected entries: the reason label of
// lode_discarded_samples_total and lode_discarded_bytes_total, and
// Problem.Reason. They are Loki's, but for ReasonEmptyStream.
const (
	ReasonInvalidLabels              = "invalid_labels"
	ReasonMissingLabels              = "missing_labels"
	ReasonMaxLabelNamesPerSeries     = "max_label_names_per_series"
	ReasonLabelNameTooLong           = "label_name_too_long"
	ReasonLabelValueTooLong          = "label_value_too_long"
	ReasonDuplicateLabelNames        = "duplicate_label_names"
	ReasonGreaterThanMaxSampleAge    = "greater_than_max_sample_age"
	ReasonTooFarInFuture             = "too_far_in_future"
	ReasonLineTooLong                = "line_too_long"
	ReasonStructuredMetadataTooLarge = "structured_metadata_too_large"
	ReasonStructuredMetadataTooMany  = "structured_metadata_too_many"
	ReasonRateLimited                = "rate_limited"
	// ReasonEmptyStream is a stream without entries: reported, but nothing
	// is discarded.
	ReasonEmptyStream = "empty_stream"
)

// Problem.Entry values that are not entry indexes.
const (
	WholeStream = -1 // every entry of the stream was rejected
	NoEntry     = -2 // the stream had no entries
)

// Bounds of a ValidationError's text.
const (
	maxReportedProblems = 10   // problems kept in a ValidationError
	maxQuoted           = 256  // bytes of labels and values quoted in a message
	maxProblemMessage   = 2048 // bytes of a Problem.Message, longer ones are cut
)

// Problem is one rejected stream or entry of a push.
type Problem struct {
	Stream int    // index of the stream in the request
	Entry  int    // index of the entry in the stream, or WholeStream, NoEntry
	Reason string // one of the Reason constants
	// Message is Loki's wording of the problem, naming the stream.
	Message string
	// Limit is the limit that was exceeded when Message does not say it.
	Limit string
}

// String is Message followed by where the problem is and the limit.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Message)
	switch p.Entry {
	case WholeStream:
		fmt.Fprintf(&b, " (stream %d, all its entries", p.Stream)
	case NoEntry:
		fmt.Fprintf(&b, " (stream %d", p.Stream)
	default:
		fmt.Fprintf(&b, " (stream %d, entry %d", p.Stream, p.Entry)
	}
	if p.Limit != "" {
		b.WriteString(", limit ")
		b.WriteString(p.Limit)
	}
	b.WriteByte(')')
	return b.String()
}

// ValidationError lists what validation rejected in one push: the first
// Problems (at most 10) and the Total count.
type ValidationError struct {
	Problems []Problem
	Total    int
}

// Error is one line per problem kept, then "and N more" when some were
// left out.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	if more := e.Total - len(e.Problems); more > 0 {
		fmt.Fprintf(&b, "\nand %d more", more)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// RateLimitError is the ErrRateLimited of one push: the tenant's limit in
// bytes per second and the valid lines and bytes it tried to push.
type RateLimitError struct {
	Tenant       string
	Limit        int
	Lines, Bytes int
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("Ingestion rate limit exceeded for user %s (limit: %d bytes/sec) while attempting to ingest '%d' lines totaling '%d' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
		e.Tenant, e.Limit, e.Lines, e.Bytes)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }
