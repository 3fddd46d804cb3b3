package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/lode-logs/lode/backend/distributor"
	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/ingester"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/push"
	"github.com/lode-logs/lode/backend/querier"
)

// httpError is an error with the HTTP status it answers.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// statusOf returns the HTTP status for err: 4xx for what the client can
// fix, 499 when the client went away, 5xx for everything else.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	switch {
	case errors.Is(err, push.ErrMalformed),
		errors.Is(err, logql.ErrParse),
		errors.Is(err, index.ErrMatchersEmpty),
		errors.Is(err, engine.ErrMaxEntriesLimit),
		errors.Is(err, engine.ErrMaxSeries),
		errors.Is(err, engine.ErrMaxQueryRange),
		errors.Is(err, engine.ErrInvalidParams),
		errors.Is(err, engine.ErrPipeline),
		errors.Is(err, engine.ErrLogQueryInstant),
		errors.Is(err, engine.ErrUnsupported),
		errors.Is(err, engine.ErrInvalidPattern),
		errors.Is(err, engine.ErrInvalidIP),
		errors.Is(err, engine.ErrInvalidJSONPath),
		errors.Is(err, engine.ErrTailMetricQuery):
		return http.StatusBadRequest
	case errors.Is(err, distributor.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, distributor.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, push.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, push.ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ingester.ErrDiskFull):
		return http.StatusInsufficientStorage
	case errors.Is(err, ingester.ErrClosed),
		errors.Is(err, distributor.ErrReplication),
		errors.Is(err, querier.ErrTooManyIngestersDown):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return 499
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// writeError answers err as Loki does: the message as a plain-text body.
func writeError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, err.Error())
}
