// Package retention deletes a tenant's logs once they are older than its
// retention period (limits: retention_period, -store.retention).
//
// The Raft leader does the work, every -retention.interval: for each
// tenant with a retention period it drops, through Raft, every index
// period (one day) that ended more than that period ago. Queries stop
// finding the day's data as soon as the drop is applied. The objects of
// the chunks that ended in the day are recorded in the state machine with
// the drop; -retention.delete-delay later (so that queries that had
// already found them can finish reading) the leader deletes them from the
// bucket and then removes their records. A new leader finishes what a
// failed one started. Data is deleted by whole days: with 24h of
// retention, a day's logs go between 24h and 48h after they were written
// (plus the interval and the delay for their objects).
//
// Goroutine-safety: Run is called once; RunOnce must not run concurrently
// with itself.
package retention

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/internal/loop"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/objstore"
)

// Config tunes the retention pass.
type Config struct {
	Interval    time.Duration `yaml:"interval"`
	DeleteDelay time.Duration `yaml:"delete_delay"`
}

// RegisterFlags registers the retention flags.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.DurationVar(&c.Interval, "retention.interval", 10*time.Minute,
		"How often the Raft leader looks for index days past their tenant's retention (-store.retention).")
	f.DurationVar(&c.DeleteDelay, "retention.delete-delay", 2*time.Hour,
		"How long the chunk objects of a dropped day stay in the bucket, so that queries that found them before the drop can still read them.")
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.Interval <= 0:
		return errors.New("retention.interval must be positive")
	case c.DeleteDelay < 0:
		return errors.New("retention.delete-delay must not be negative")
	}
	return nil
}

// Index is the replicated index the pass works on (*cluster.Node).
type Index interface {
	IsLeader() bool
	TenantPeriods(ctx context.Context) ([]index.TenantPeriod, error)
	DropPeriod(ctx context.Context, tenant string, p index.Period) error
	DroppedObjects(ctx context.Context, unixMs int64, limit int) ([]string, error)
	ForgetObjects(ctx context.Context, objects []string) error
}

// Limits gives each tenant's retention period (*limits.Overrides).
type Limits interface {
	Tenant(id string) limits.Tenant
}

// Deps are the collaborators of a Runner.
type Deps struct {
	Index      Index
	Bucket     objstore.Bucket
	Limits     Limits
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
}

// Runner runs retention passes.
type Runner struct {
	cfg  Config
	deps Deps

	periodsDropped prometheus.Counter
	objectsDeleted prometheus.Counter
	failures       prometheus.Counter
}

// deleteBatch is how many objects a pass deletes between two Forget
// commands.
const deleteBatch = 1000

// New returns a Runner.
func New(cfg Config, deps Deps) *Runner {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	f := promauto.With(deps.Registerer)
	return &Runner{
		cfg: cfg, deps: deps,
		periodsDropped: f.NewCounter(prometheus.CounterOpts{Name: "lode_retention_periods_dropped_total",
			Help: "Index days (of one tenant) dropped for being past their retention."}),
		objectsDeleted: f.NewCounter(prometheus.CounterOpts{Name: "lode_retention_objects_deleted_total",
			Help: "Chunk objects deleted from the bucket after their day was dropped."}),
		failures: f.NewCounter(prometheus.CounterOpts{Name: "lode_retention_failures_total",
			Help: "Retention passes that stopped on an error (the next pass resumes)."}),
	}
}

// Run runs a pass every interval until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	loop.Every(ctx, r.cfg.Interval, func() bool {
		if err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.failures.Inc()
			r.deps.Logger.Warn("retention pass failed; the next one resumes", "err", err)
		}
		return true
	})
}

// RunOnce runs one pass if this node leads: it drops the index days past
// their tenant's retention, then deletes the objects dropped at least the
// delete delay ago.
func (r *Runner) RunOnce(ctx context.Context) error {
	if !r.deps.Index.IsLeader() {
		return nil
	}
	now := r.deps.Now()
	tps, err := r.deps.Index.TenantPeriods(ctx)
	if err != nil {
		return err
	}
	for _, tp := range tps {
		keep := time.Duration(r.deps.Limits.Tenant(tp.Tenant).RetentionPeriod)
		if keep <= 0 || tp.Period.End() > now.Add(-keep).UnixNano() {
			continue
		}
		if err := r.deps.Index.DropPeriod(ctx, tp.Tenant, tp.Period); err != nil {
			return err
		}
		r.periodsDropped.Inc()
		r.deps.Logger.Info("dropped an index day past retention", "tenant", tp.Tenant,
			"day", time.Unix(0, tp.Period.Start()).UTC().Format(time.DateOnly), "retention", keep)
	}
	before := now.Add(-r.cfg.DeleteDelay).UnixMilli()
	for {
		objs, err := r.deps.Index.DroppedObjects(ctx, before, deleteBatch)
		if err != nil || len(objs) == 0 {
			return err
		}
		for _, o := range objs {
			if err := r.deps.Bucket.Delete(ctx, o); err != nil {
				return fmt.Errorf("delete chunk object %s: %w", o, err)
			}
		}
		if err := r.deps.Index.ForgetObjects(ctx, objs); err != nil {
			return err
		}
		r.objectsDeleted.Add(float64(len(objs)))
		if len(objs) < deleteBatch {
			return nil
		}
	}
}
