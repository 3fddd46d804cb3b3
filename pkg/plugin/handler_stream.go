package plugin

import (
	"context"
	"errors"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// SubscribeStream accepts subscriptions to live-tail channels (ds/<uid>/tail/<key>) whose
// key, or subscription data, names a log query.
func (d *Datasource) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if d.settingsErr != nil {
		return nil, d.settingsErr
	}
	r, err := d.channels.lookup(req.Path, req.Data)
	if errors.Is(err, ErrUnknownChannel) {
		d.logger.Debug("Refused subscription", "path", req.Path, "error", err.Error())
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	if err != nil {
		return nil, err
	}
	if !isLogQuery(r.Expr) {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// PublishStream refuses every publication: live tail channels are read-only.
func (d *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream tails lode for the channel's query and sends the lines as logs frames until
// Grafana cancels ctx (the last subscriber left). It reconnects with backoff while lode is
// unreachable and returns an error only when lode refuses the tail (bad query, credentials).
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	if d.settingsErr != nil {
		return d.settingsErr
	}
	r, err := d.channels.lookup(req.Path, req.Data)
	if err != nil {
		return err
	}
	t := &tailer{
		api:      d.api,
		req:      r,
		derived:  d.settings.DerivedFields,
		send:     sender.SendFrame,
		logger:   d.logger.With("path", req.Path),
		describe: d.describe,
		min:      d.opts.TailBackoffMin,
		max:      d.opts.TailBackoffMax,
		ping:     d.opts.TailPingPeriod,
	}
	t.logger.Info("Live tail started", "expr", trimExpr(r.Expr))
	err = t.run(ctx)
	t.logger.Info("Live tail stopped")
	return err
}

// trimExpr shortens an expression for log messages.
func trimExpr(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
