package limits

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimiter enforces each tenant's ingestion rate on this process with a
// token bucket per tenant. It is goroutine-safe.
type RateLimiter struct {
	mu      sync.RWMutex             // guards buckets (the map, not the limiters)
	buckets map[string]*rate.Limiter // by tenant
}

// NewRateLimiter returns a RateLimiter with no tenant seen yet.
func NewRateLimiter() *RateLimiter {
	return &RateLimiter{buckets: map[string]*rate.Limiter{}}
}

// AllowN reports whether tenant may push n bytes at now under its limits t,
// and takes them from its bucket if so. A push larger than the burst is
// never allowed. With no rate limit (0) it always allows. Changes of t's
// rate or burst apply from now on.
func (r *RateLimiter) AllowN(now time.Time, tenant string, t Tenant, n int) bool {
	if t.IngestionRateMB <= 0 {
		return true
	}
	lim, burst := rate.Limit(t.IngestionRateBytes()), t.IngestionBurstBytes()
	b := r.bucket(tenant, lim, burst)
	if b.Limit() != lim {
		b.SetLimitAt(now, lim)
	}
	if b.Burst() != burst {
		b.SetBurstAt(now, burst)
	}
	return b.AllowN(now, n)
}

func (r *RateLimiter) bucket(tenant string, lim rate.Limit, burst int) *rate.Limiter {
	r.mu.RLock()
	b := r.buckets[tenant]
	r.mu.RUnlock()
	if b != nil {
		return b
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b = r.buckets[tenant]; b == nil {
		b = rate.NewLimiter(lim, burst)
		r.buckets[tenant] = b
	}
	return b
}
