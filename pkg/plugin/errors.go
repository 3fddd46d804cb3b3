package plugin

import "errors"

var (
	// ErrInvalidSettings wraps every settings validation failure; the message lists the problems.
	ErrInvalidSettings = errors.New("invalid datasource settings")
	// ErrInvalidQuery means a query's JSON or options cannot be used (before anything is sent to lode).
	ErrInvalidQuery = errors.New("invalid query")
	// ErrNotMetricQuery means an alert rule ran a log query; alerting needs numbers.
	ErrNotMetricQuery = errors.New("alert rules need a metric query")
	// ErrUnknownChannel means a live-tail channel path does not name a tail this plugin serves.
	ErrUnknownChannel = errors.New("unknown live channel")

	// errSend means Grafana no longer takes frames from a live tail; the tail stops.
	errSend = errors.New("send frame to Grafana")
)
