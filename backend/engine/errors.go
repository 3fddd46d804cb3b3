package engine

import "errors"

// Errors of the engine. Limit errors name the limit, so the HTTP layer can
// answer 400 with the message as is.
var (
	// ErrMaxEntriesLimit: the query asks for more lines than
	// MaxEntriesLimitPerQuery.
	ErrMaxEntriesLimit = errors.New("max entries limit per query exceeded")
	// ErrMaxSeries: a metric query produced more series than MaxQuerySeries.
	ErrMaxSeries = errors.New("maximum number of series reached for a single query")
	// ErrMaxQueryRange: end - start exceeds MaxQueryRange.
	ErrMaxQueryRange = errors.New("the query time range exceeds the limit")
	// ErrInvalidParams: bad Params (end before start, zero step of a range
	// metric query, negative limit...).
	ErrInvalidParams = errors.New("invalid query parameters")
	// ErrLogQueryInstant: a log query was run as an instant query, which Loki
	// refuses.
	ErrLogQueryInstant = errors.New("log queries are not supported as an instant query type, please change your query to a range query type")
	// ErrPipeline: a metric query met a sample carrying __error__, which Loki
	// refuses so that errors are not silently aggregated.
	ErrPipeline = errors.New("pipeline error")
	// ErrUnsupported: a construct the engine does not evaluate.
	ErrUnsupported = errors.New("unsupported expression")
	// ErrInvalidPattern: a pattern expression that cannot be compiled.
	ErrInvalidPattern = errors.New("invalid pattern")
	// ErrInvalidIP: an ip("...") argument that is no address, CIDR or range.
	ErrInvalidIP = errors.New("invalid ip filter")
	// ErrInvalidJSONPath: a json extraction parameter that is no valid path.
	ErrInvalidJSONPath = errors.New("invalid json path")
)
