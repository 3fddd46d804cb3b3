//go:build linux

package ingester

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

// The tests in this file ingest a gigabyte and take minutes; they run only
// with LODE_INGESTER_LARGE=1 (LODE_INGESTER_LARGE_MB overrides the size,
// LODE_INGESTER_FLAGS the settings):
//
//	LODE_INGESTER_LARGE=1 go test ./backend/ingester -run Large -v
//
// They report throughput, the process's peak resident memory while
// ingesting, and the replay time of the buffered data.
// LODE_INGESTER_HEAPPROFILE=file writes a heap profile at the peak of the
// live heap.

func largeSize(t *testing.T) int64 {
	if os.Getenv("LODE_INGESTER_LARGE") == "" {
		t.Skip("set LODE_INGESTER_LARGE=1 to run")
	}
	mb := int64(1024)
	if v, err := strconv.ParseInt(os.Getenv("LODE_INGESTER_LARGE_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	return mb << 20
}

// procStatus returns fields of /proc/self/status in bytes (VmRSS, VmHWM,
// RssAnon, RssFile).
func procStatus() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(rest)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		if v, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			out[name] = v << 10
		}
	}
	return out
}

// rssSampler records the peak of VmRSS and of its anonymous and file
// parts, of the disk usage of dir and of the Go heap marked live by the
// last collection; with heapProfile set, it writes a heap profile there
// each time the live heap grows by a tenth.
type rssSampler struct {
	stop                            chan struct{}
	done                            sync.WaitGroup
	peak, anon, fileMap, disk, live atomic.Int64
}

func startRSSSampler(dir, heapProfile string) *rssSampler {
	r := &rssSampler{stop: make(chan struct{})}
	live := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var profiled int64
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			st := procStatus()
			for _, p := range []struct {
				v    *atomic.Int64
				name string
			}{{&r.peak, "VmRSS"}, {&r.anon, "RssAnon"}, {&r.fileMap, "RssFile"}} {
				if st[p.name] > p.v.Load() {
					p.v.Store(st[p.name])
				}
			}
			if d := diskUsage(dir); d > r.disk.Load() {
				r.disk.Store(d)
			}
			rtmetrics.Read(live)
			if v := int64(live[0].Value.Uint64()); v > r.live.Load() {
				r.live.Store(v)
				if heapProfile != "" && v > profiled+profiled/10 {
					profiled = v
					writeHeapProfile(heapProfile)
				}
			}
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

func (r *rssSampler) Stop() { close(r.stop); r.done.Wait() }

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		_ = pprof.WriteHeapProfile(f)
		_ = f.Close()
	}
}

// ingestLoggen pushes size bytes of loggen lines over 100 streams in 1 MiB
// pushes from 2 goroutines, generating on a third.
func ingestLoggen(t *testing.T, ing *Ingester, size int64) (lines int64, took time.Duration) {
	pushes := make(chan []model.Stream, 2)
	go func() {
		defer close(pushes)
		g := loggen.NewWithOptions(loggen.Options{Seed: 7, Streams: 100, MeanInterval: 2 * time.Microsecond})
		for sent := int64(0); sent < size; {
			byStream := map[int][]model.Entry{}
			var order []int
			for got := 0; got < 1<<20; {
				si, ts, line := g.Next(nil)
				if _, ok := byStream[si]; !ok {
					order = append(order, si)
				}
				byStream[si] = append(byStream[si], model.Entry{Timestamp: ts, Line: line})
				got += len(line)
				lines++
			}
			push := make([]model.Stream, 0, len(order))
			for _, si := range order {
				ls := g.Labels(si)
				push = append(push, model.Stream{Labels: ls, Fingerprint: model.StreamFingerprint(testTenant, ls), Entries: byStream[si]})
			}
			pushes <- push
			sent += 1 << 20
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range pushes {
				if err := ing.Push(context.Background(), testTenant, p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return lines, time.Since(start)
}

// diskUsage returns the bytes allocated on disk under dir (sparse files
// count what they use, like du).
func diskUsage(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

func openLarge(t *testing.T, cfg Config, dir string, bucket objstore.Bucket) *Ingester {
	ing, err := New(cfg, Deps{Dir: dir, Bucket: bucket, Index: &fakeIndex{},
		Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return ing
}

// TestLargeIngestMemory ingests with the default configuration, flushing
// to a filesystem bucket, and reports throughput and peak memory.
func TestLargeIngestMemory(t *testing.T) {
	size := largeSize(t)
	cfg := flagConfig(t)
	bucketDir := filepath.Join(t.TempDir(), "bucket")
	fs, err := objstore.NewFilesystem(bucketDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "badger")
	ing := openLarge(t, cfg, dir, fs)
	defer ing.Close()
	rss := startRSSSampler(dir, os.Getenv("LODE_INGESTER_HEAPPROFILE"))
	cpu0 := cpuTime()
	lines, took := ingestLoggen(t, ing, size)
	cpu := cpuTime() - cpu0
	rss.Stop()
	t.Logf("ingested %d MiB (%d lines) in %v: %.1f MB/s wall, %.1f MB per CPU-second (GOMAXPROCS %d)",
		size>>20, lines, took.Round(time.Millisecond), float64(size)/1e6/took.Seconds(), float64(size)/1e6/cpu.Seconds(), runtime.GOMAXPROCS(0))
	t.Logf("peak RSS while ingesting %d MiB (anonymous %d MiB, file-backed %d MiB); VmHWM %d MiB; peak buffer on disk %d MiB",
		rss.peak.Load()>>20, rss.anon.Load()>>20, rss.fileMap.Load()>>20, procStatus()["VmHWM"]>>20, rss.disk.Load()>>20)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("Go heap: peak live %d MiB; now alloc %d MiB, in use %d MiB, sys %d MiB, released %d MiB, total sys %d MiB, %d GCs",
		rss.live.Load()>>20, ms.HeapAlloc>>20, ms.HeapInuse>>20, ms.HeapSys>>20, ms.HeapReleased>>20, ms.Sys>>20, ms.NumGC)
	lsm, vlog := ing.db.Size()
	t.Logf("buffer: %d MiB on disk (Badger LSM %d MiB, value log %d MiB), backlog %d chunks",
		diskUsage(dir)>>20, lsm>>20, vlog>>20, ing.queue.len())
	heads, open, cut := bufferedBytes(ing)
	t.Logf("live data: heads %d MiB (raw), blocks of open chunks %d MiB, of cut chunks %d MiB; written to Badger: WAL records %d MiB, blocks %d MiB",
		heads>>20, open>>20, cut>>20, int64(counterValue(ing.m.walWritten))>>20, int64(counterValue(ing.m.blockWritten))>>20)
	start := time.Now()
	if err := ing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("final flush %v; bucket holds %d MiB", time.Since(start).Round(time.Millisecond), diskUsage(bucketDir)>>20)
}

// TestLargeReplay buffers everything (no chunk completes), restarts and
// reports the replay time.
func TestLargeReplay(t *testing.T) {
	size := largeSize(t)
	cfg := flagConfig(t)
	cfg.ChunkTargetSize = 1 << 30
	cfg.MaxChunkAge = 24 * time.Hour
	cfg.ChunkIdlePeriod = 24 * time.Hour
	fs, err := objstore.NewFilesystem(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "badger")
	ing := openLarge(t, cfg, dir, fs)
	ingestLoggen(t, ing, size)
	want := countEntries(t, ing)
	if err := ing.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("buffered %d MiB of lines (%d entries) in %d MiB of Badger files", size>>20, want, diskUsage(dir)>>20)
	runtime.GC()
	start := time.Now()
	ing = openLarge(t, cfg, dir, fs)
	took := time.Since(start)
	defer ing.Close()
	t.Logf("replay of %d MiB buffered: %v (%d streams, heap after replay %d MiB)", size>>20, took.Round(time.Millisecond),
		ing.streams.len(), heapInUse()>>20)
	if got := countEntries(t, ing); got != want {
		t.Fatalf("after replay %d entries, before %d", got, want)
	}
}

// bufferedBytes returns the bytes of the heads, and of the blocks of open
// and of cut chunks, that ing holds.
func bufferedBytes(ing *Ingester) (heads, open, cut int64) {
	for _, s := range ing.streams.all("") {
		s.mu.Lock()
		heads += int64(s.head.size)
		open += s.open.size
		for _, c := range s.cut {
			cut += c.size
		}
		s.mu.Unlock()
	}
	return heads, open, cut
}

func countEntries(t *testing.T, ing *Ingester) int {
	it, err := ing.Query(context.Background(), model.LogSelect{Tenant: testTenant, End: 1<<63 - 1, Direction: model.Forward, TimestampsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	_ = it.Close()
	return n
}
