package retention

import (
	"context"
	"errors"
	"flag"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/objstore"
)

// fakeIndex keeps periods and dropped objects in memory, dropped with the
// time of the drop.
type fakeIndex struct {
	mu      sync.Mutex
	leader  bool
	periods []index.TenantPeriod
	objects map[index.TenantPeriod][]string // objects ending in each period
	dropped map[string]int64                // object → drop time, Unix ms
	now     func() time.Time
	forgets int
}

func (f *fakeIndex) IsLeader() bool { return f.leader }

func (f *fakeIndex) TenantPeriods(context.Context) ([]index.TenantPeriod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.periods), nil
}

func (f *fakeIndex) DropPeriod(_ context.Context, tenant string, p index.Period) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	tp := index.TenantPeriod{Tenant: tenant, Period: p}
	f.periods = slices.DeleteFunc(f.periods, func(x index.TenantPeriod) bool { return x == tp })
	for _, o := range f.objects[tp] {
		f.dropped[o] = f.now().UnixMilli()
	}
	return nil
}

func (f *fakeIndex) DroppedObjects(_ context.Context, unixMs int64, limit int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for o, t := range f.dropped {
		if t <= unixMs && len(out) < limit {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *fakeIndex) ForgetObjects(_ context.Context, objs []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgets++
	for _, o := range objs {
		delete(f.dropped, o)
	}
	return nil
}

// failingBucket fails deletes of one key while fail is set.
type failingBucket struct {
	objstore.Bucket
	fail string
}

func (b *failingBucket) Delete(ctx context.Context, key string) error {
	if key == b.fail {
		return errors.New("bucket unavailable")
	}
	return b.Bucket.Delete(ctx, key)
}

func TestRunOnce(t *testing.T) {
	day := time.Duration(index.PeriodNanos)
	now := time.Unix(0, 20*index.PeriodNanos+int64(6*time.Hour)) // day 20, 06:00
	clock := now
	var cfg limits.Config
	cfg.RegisterFlags(flag.NewFlagSet("limits", flag.PanicOnError))
	keepTwoDays := cfg.Tenant
	keepTwoDays.RetentionPeriod = model.Duration(2 * day)
	cfg.Overrides = map[string]limits.Tenant{"short": keepTwoDays}
	bucket, err := objstore.NewFilesystem(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	idx := &fakeIndex{leader: true, dropped: map[string]int64{}, now: func() time.Time { return clock },
		objects: map[index.TenantPeriod][]string{}}
	for _, tenant := range []string{"short", "forever"} {
		for p := index.Period(15); p <= 20; p++ {
			tp := index.TenantPeriod{Tenant: tenant, Period: p}
			idx.periods = append(idx.periods, tp)
			key := tenant + "/" + time.Unix(0, p.Start()).UTC().Format(time.DateOnly)
			idx.objects[tp] = []string{key}
			if err := bucket.Put(ctx, key, []byte("chunk")); err != nil {
				t.Fatal(err)
			}
		}
	}
	fb := &failingBucket{Bucket: bucket}
	r := New(Config{Interval: time.Minute, DeleteDelay: time.Hour}, Deps{
		Index: idx, Bucket: fb, Limits: limits.NewOverrides(cfg), Registerer: prometheus.NewRegistry(),
		Now: func() time.Time { return clock },
	})
	exists := func(key string) bool {
		ok, err := bucket.Exists(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	idx.leader = false
	if err := r.RunOnce(ctx); err != nil || len(idx.periods) != 12 {
		t.Fatalf("a follower dropped periods: %v, %d left", err, len(idx.periods))
	}
	idx.leader = true
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Day 18 ended at day 19 00:00, less than 2 days before day 20 06:00;
	// days 15-17 ended long enough ago.
	var left []index.TenantPeriod
	for _, tp := range idx.periods {
		if tp.Tenant == "short" {
			left = append(left, tp)
		}
	}
	if want := []index.TenantPeriod{{Tenant: "short", Period: 18}, {Tenant: "short", Period: 19}, {Tenant: "short", Period: 20}}; !slices.Equal(left, want) {
		t.Fatalf("periods of tenant short left %v, want %v", left, want)
	}
	if len(idx.periods) != 9 || len(idx.dropped) != 3 {
		t.Fatalf("%d periods left (want 9), %d objects dropped (want 3)", len(idx.periods), len(idx.dropped))
	}
	if !exists("short/1970-01-16") {
		t.Fatal("object deleted before the delete delay")
	}

	clock = clock.Add(time.Hour)
	fb.fail = "short/1970-01-17"
	if err := r.RunOnce(ctx); err == nil {
		t.Fatal("a failed object delete went unreported")
	}
	if len(idx.dropped) != 3 || idx.forgets != 0 {
		t.Fatalf("objects forgotten although one delete failed: %d recorded, %d forgets", len(idx.dropped), idx.forgets)
	}
	fb.fail = ""
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"1970-01-16", "1970-01-17", "1970-01-18"} {
		if exists("short/" + d) {
			t.Fatalf("object of dropped day %s still stored", d)
		}
		if !exists("forever/" + d) {
			t.Fatalf("object of tenant forever, day %s, deleted", d)
		}
	}
	if len(idx.dropped) != 0 || !exists("short/1970-01-19") {
		t.Fatalf("%d records left; day 18's object kept: %v", len(idx.dropped), exists("short/1970-01-19"))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Interval: 0}, {Interval: time.Minute, DeleteDelay: -1}} {
		if c.Validate() == nil {
			t.Fatalf("%+v accepted", c)
		}
	}
	if err := (&Config{Interval: time.Minute}).Validate(); err != nil {
		t.Fatal(err)
	}
}
