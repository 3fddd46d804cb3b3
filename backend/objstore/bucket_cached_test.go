package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memBucket is an in-memory Bucket that counts calls and can hold Gets at
// a gate, to drive the cache through exact interleavings.
type memBucket struct {
	mu      sync.Mutex // guards the fields below
	objects map[string][]byte
	gets    map[string]int // Get calls by key
	ranges  int            // GetRange calls
	exists  int            // Exists calls
	gate    chan struct{}  // when non-nil, Get waits for it after reading
	started chan string    // when non-nil, Get announces its key
}

func newMemBucket() *memBucket {
	return &memBucket{objects: map[string][]byte{}, gets: map[string]int{}}
}

func (m *memBucket) Put(_ context.Context, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = bytes.Clone(data)
	return nil
}

func (m *memBucket) Get(ctx context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	m.gets[key]++
	data, ok := m.objects[key]
	gate, started := m.gate, m.started
	m.mu.Unlock()
	if started != nil {
		started <- key
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, fmt.Errorf("get %s: %w", key, ctx.Err())
		}
	}
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return bytes.Clone(data), nil
}

func (m *memBucket) GetRange(_ context.Context, key string, off, length int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ranges++
	data, ok := m.objects[key]
	if !ok {
		return nil, ErrNotFound
	}
	end, err := checkRange(int64(len(data)), off, length)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(data[off:end]), nil
}

func (m *memBucket) Exists(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exists++
	_, ok := m.objects[key]
	return ok, nil
}

func (m *memBucket) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func (m *memBucket) Iter(_ context.Context, prefix string, fn func(string) error) error {
	m.mu.Lock()
	keys := slices.Sorted(maps.Keys(m.objects))
	m.mu.Unlock()
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			if err := fn(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memBucket) getCount(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gets[key]
}

func newTestCache(t *testing.T, inner Bucket, maxBytes int64) *cachedBucket {
	t.Helper()
	c, ok := NewCached(inner, maxBytes, nil).(*cachedBucket)
	if !ok {
		t.Fatal("NewCached did not return a cache")
	}
	return c
}

func mustGetString(t *testing.T, b Bucket, key string) string {
	t.Helper()
	data, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return string(data)
}

func TestCachedEvictsLeastRecentlyUsed(t *testing.T) {
	inner := newMemBucket()
	for _, k := range []string{"k1", "k2", "k3", "k4"} {
		_ = inner.Put(context.Background(), k, bytes.Repeat([]byte(k[1:]), 100))
	}
	// Each entry takes 2+100+128 = 230 bytes: three fit in 700.
	c := newTestCache(t, inner, 700)
	for _, k := range []string{"k1", "k2", "k3", "k1", "k4", "k2", "k1"} {
		if got := mustGetString(t, c, k); got != strings.Repeat(k[1:], 100) {
			t.Fatalf("Get(%s) returned wrong data", k)
		}
	}
	// k1 stayed hot; k4 evicted k2 (least recently used), k2 then evicted k3.
	want := map[string]int{"k1": 1, "k2": 2, "k3": 1, "k4": 1}
	for k, n := range want {
		if got := inner.getCount(k); got != n {
			t.Errorf("inner Gets of %s = %d, want %d", k, got, n)
		}
	}
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"hits", metricValue(c.hits), 2},
		{"misses", metricValue(c.misses), 5},
		{"evictions", metricValue(c.evictions), 2},
		{"objects", metricValue(c.objects), 3},
		{"bytes", metricValue(c.bytes), 690},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestCachedSkipsLargeObjects(t *testing.T) {
	inner := newMemBucket()
	_ = inner.Put(context.Background(), "big", make([]byte, 300))
	c := newTestCache(t, inner, 1000) // objects over 250 bytes are not cached
	for range 2 {
		mustGetString(t, c, "big")
	}
	if got := inner.getCount("big"); got != 2 {
		t.Fatalf("inner Gets = %d, want 2 (not cached)", got)
	}
	if got := metricValue(c.objects); got != 0 {
		t.Fatalf("objects = %v, want 0", got)
	}
}

// waitFor polls cond; the test's own timeout bounds it.
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

func TestCachedCoalescesConcurrentMisses(t *testing.T) {
	inner := newMemBucket()
	_ = inner.Put(context.Background(), "k", []byte("value"))
	inner.gate = make(chan struct{})
	c := newTestCache(t, inner, 1<<20)
	const callers = 8
	results := make(chan string, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			data, err := c.Get(context.Background(), "k")
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- string(data)
		})
	}
	waitFor(func() bool { return metricValue(c.coalesced) == callers-1 })
	close(inner.gate)
	wg.Wait()
	close(results)
	for r := range results {
		if r != "value" {
			t.Errorf("Get = %q, want %q", r, "value")
		}
	}
	if got := inner.getCount("k"); got != 1 {
		t.Fatalf("inner Gets = %d, want 1 for %d concurrent callers", got, callers)
	}
}

func TestCachedWaiterRetriesWhenLeaderIsCanceled(t *testing.T) {
	inner := newMemBucket()
	_ = inner.Put(context.Background(), "k", []byte("value"))
	inner.gate = make(chan struct{})
	inner.started = make(chan string, 2)
	c := newTestCache(t, inner, 1<<20)

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Get(leaderCtx, "k")
		leaderErr <- err
	}()
	<-inner.started // the leader is reading
	waiter := make(chan string, 1)
	go func() {
		data, err := c.Get(context.Background(), "k")
		if err != nil {
			waiter <- "error: " + err.Error()
			return
		}
		waiter <- string(data)
	}()
	waitFor(func() bool { return metricValue(c.coalesced) == 1 })
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader error = %v, want context.Canceled", err)
	}
	<-inner.started // the waiter took over the read
	close(inner.gate)
	if got := <-waiter; got != "value" {
		t.Fatalf("waiter Get = %q, want %q", got, "value")
	}
	if got := inner.getCount("k"); got != 2 {
		t.Fatalf("inner Gets = %d, want 2", got)
	}
}

func TestCachedDeleteInvalidates(t *testing.T) {
	ctx := context.Background()
	t.Run("cached object", func(t *testing.T) {
		inner := newMemBucket()
		_ = inner.Put(ctx, "k", []byte("v"))
		c := newTestCache(t, inner, 1<<20)
		mustGetString(t, c, "k")
		if err := c.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete: error = %v, want ErrNotFound", err)
		}
		if ok, err := c.Exists(ctx, "k"); ok || err != nil {
			t.Fatalf("Exists after Delete = %v, %v", ok, err)
		}
	})
	t.Run("read in flight during delete", func(t *testing.T) {
		inner := newMemBucket()
		_ = inner.Put(ctx, "k", []byte("v"))
		inner.gate = make(chan struct{})
		inner.started = make(chan string, 1)
		c := newTestCache(t, inner, 1<<20)
		done := make(chan error, 1)
		go func() {
			_, err := c.Get(ctx, "k") // reads the object before it is deleted
			done <- err
		}()
		<-inner.started
		if err := c.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		close(inner.gate)
		if err := <-done; err != nil {
			t.Fatalf("in-flight Get: %v", err)
		}
		inner.gate, inner.started = nil, nil
		if _, err := c.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete: error = %v, want ErrNotFound (stale cache entry)", err)
		}
	})
}

func TestCachedRangeAndExistsUseCachedObjects(t *testing.T) {
	ctx := context.Background()
	inner := newMemBucket()
	_ = inner.Put(ctx, "cached", []byte("0123456789"))
	_ = inner.Put(ctx, "uncached", []byte("abcdef"))
	c := newTestCache(t, inner, 1<<20)
	mustGetString(t, c, "cached")

	cases := []struct {
		name        string
		key         string
		off, length int64
		want        string
		wantErr     error
		wantRanges  int // inner GetRange calls after this case
	}{
		{"hit", "cached", 2, 3, "234", nil, 0},
		{"hit to end", "cached", 7, -1, "789", nil, 0},
		{"hit invalid", "cached", 11, 1, "", ErrInvalidRange, 0},
		{"miss passes through", "uncached", 1, 2, "bc", nil, 1},
		{"miss does not fill", "uncached", 0, 1, "a", nil, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.GetRange(ctx, tc.key, tc.off, tc.length)
			if !errors.Is(err, tc.wantErr) || string(got) != tc.want {
				t.Fatalf("GetRange = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if inner.ranges != tc.wantRanges {
				t.Fatalf("inner GetRange calls = %d, want %d", inner.ranges, tc.wantRanges)
			}
		})
	}
	if ok, err := c.Exists(ctx, "cached"); !ok || err != nil || inner.exists != 0 {
		t.Fatalf("Exists(cached) = %v, %v with %d inner calls; want true from the cache", ok, err, inner.exists)
	}
	if ok, err := c.Exists(ctx, "uncached"); !ok || err != nil || inner.exists != 1 {
		t.Fatalf("Exists(uncached) = %v, %v with %d inner calls; want true from the store", ok, err, inner.exists)
	}
}

func TestCachedDisabled(t *testing.T) {
	inner := newMemBucket()
	for _, maxBytes := range []int64{0, -1} {
		if got := NewCached(inner, maxBytes, nil); got != Bucket(inner) {
			t.Fatalf("NewCached(b, %d) = %T, want b itself", maxBytes, got)
		}
	}
}
