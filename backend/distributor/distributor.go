package distributor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/push"
)

// Pusher writes validated streams of a tenant durably (implemented by the
// ingester and by the client that replicates to ingesters).
//
// Push returns only after every entry of streams is durable, or an error:
// then nothing of the call may be acknowledged. It may be called
// concurrently. The streams slice, the entries and their Line and Metadata
// values are valid only until Push returns (they alias the request body):
// copy what must outlive the call. Labels and Fingerprint own their memory.
type Pusher interface {
	Push(ctx context.Context, tenant string, streams []model.Stream) error
}

// Limits gives the limits of a tenant (*limits.Overrides implements it).
type Limits interface {
	Tenant(id string) limits.Tenant
}

// Deps are what a Distributor works with.
type Deps struct {
	Pusher Pusher // required
	Limits Limits // required
	// Registerer receives the distributor's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock of the timestamp checks and the rate limiter;
	// nil means time.Now.
	Now func() time.Time
	// Logger receives a debug line per rejected push; nil logs nothing.
	Logger *slog.Logger
}

// Distributor validates pushes and hands them to its Pusher. See the
// package documentation.
type Distributor struct {
	cfg     Config
	pusher  Pusher
	limits  Limits
	rate    *limits.RateLimiter
	now     func() time.Time
	logger  *slog.Logger
	m       *metrics
	batches sync.Pool // of *batch
}

// Result counts what one Push did.
type Result struct {
	Streams int // streams written
	Entries int // entries written
	Bytes   int // bytes of lines and structured metadata written
	// Rejected counts entries not written: invalid ones, and the valid
	// ones too when the push was rate limited.
	Rejected int
}

// New returns a Distributor.
func New(cfg Config, deps Deps) (*Distributor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Pusher == nil || deps.Limits == nil {
		return nil, errors.New("distributor: Deps.Pusher and Deps.Limits are required")
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	d := &Distributor{
		cfg:    cfg,
		pusher: deps.Pusher,
		limits: deps.Limits,
		rate:   limits.NewRateLimiter(),
		now:    deps.Now,
		logger: deps.Logger,
		m:      m,
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Config returns the distributor's configuration (the API reads
// MaxRecvMsgSize from it).
func (d *Distributor) Config() Config { return d.cfg }

// Push validates req for tenant, checks the tenant's rate limit against
// the valid part, and writes the valid streams through the Pusher. It
// returns a *ValidationError if anything was rejected (after writing the
// rest), a *RateLimitError if the push was refused whole, or the Pusher's
// error, wrapped. req is only read, and may be reused once Push returns.
func (d *Distributor) Push(ctx context.Context, tenant string, req *push.Request) error {
	_, err := d.PushResult(ctx, tenant, req)
	return err
}

// PushResult is Push that also counts what was written and rejected.
func (d *Distributor) PushResult(ctx context.Context, tenant string, req *push.Request) (Result, error) {
	lim := d.limits.Tenant(tenant)
	now := d.now()
	b := d.getBatch(tenant, lim, now)
	defer d.putBatch(b)

	b.validate(req)
	d.record(b)
	res := Result{Rejected: b.rejected}
	if len(b.streams) > 0 {
		if !d.rate.AllowN(now, tenant, lim, b.validBytes) {
			d.m.discardedSamples.WithLabelValues(ReasonRateLimited, tenant).Add(float64(b.validLines))
			d.m.discardedBytes.WithLabelValues(ReasonRateLimited, tenant).Add(float64(b.validBytes))
			res.Rejected += b.validLines
			err := &RateLimitError{Tenant: tenant, Limit: int(lim.IngestionRateBytes()), Lines: b.validLines, Bytes: b.validBytes}
			d.logger.Debug("push rate limited", "tenant", tenant, "lines", b.validLines, "bytes", b.validBytes)
			return res, err
		}
		if err := d.pusher.Push(ctx, tenant, b.streams); err != nil {
			return res, fmt.Errorf("push %d entries of %d streams: %w", b.validLines, len(b.streams), err)
		}
		res.Streams, res.Entries, res.Bytes = len(b.streams), b.validLines, b.validBytes
	}
	if b.total > 0 {
		err := &ValidationError{Problems: slices.Clone(b.problems), Total: b.total}
		d.logger.Debug("push partly rejected", "tenant", tenant, "written", res.Entries, "rejected", res.Rejected,
			"problems", b.total, "first", b.problems[0].String())
		return res, err
	}
	return res, nil
}

// record adds a validated batch to the metrics.
func (d *Distributor) record(b *batch) {
	d.m.linesReceived.WithLabelValues(b.tenant).Add(float64(b.receivedLines))
	d.m.bytesReceived.WithLabelValues(b.tenant).Add(float64(b.receivedBytes))
	for r, t := range b.discarded {
		if t.entries > 0 {
			d.m.discardedSamples.WithLabelValues(r, b.tenant).Add(float64(t.entries))
			d.m.discardedBytes.WithLabelValues(r, b.tenant).Add(float64(t.bytes))
		}
	}
	if b.truncated.entries > 0 {
		d.m.mutatedSamples.WithLabelValues(ReasonLineTooLong, b.tenant).Add(float64(b.truncated.entries))
		d.m.mutatedBytes.WithLabelValues(ReasonLineTooLong, b.tenant).Add(float64(b.truncated.bytes))
	}
}

func (d *Distributor) getBatch(tenant string, lim limits.Tenant, now time.Time) *batch {
	b, _ := d.batches.Get().(*batch)
	if b == nil {
		b = newBatch()
	}
	b.reset(tenant, lim, now)
	return b
}

// Pooled batches keep their slabs up to this many entries.
const maxPooledEntries = 1 << 16

func (d *Distributor) putBatch(b *batch) {
	if cap(b.entries) > maxPooledEntries {
		return
	}
	b.release()
	d.batches.Put(b)
}

// sortLabelPairs sorts pairs by name, keeping the input order of equal
// names.
func sortLabelPairs(pairs []push.LabelPair) {
	slices.SortStableFunc(pairs, func(a, b push.LabelPair) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
}

// buildLabels returns sorted pairs as Labels that own their memory.
func buildLabels(sb *labels.ScratchBuilder, sorted []push.LabelPair) labels.Labels {
	sb.Reset()
	for _, p := range sorted {
		sb.Add(p.Name, p.Value)
	}
	return sb.Labels()
}
