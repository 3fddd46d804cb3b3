package cluster

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
)

func TestTmpRSS(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t))
	var maxHeap uint64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapInuse)
		}
	}()
	start := time.Now()
	for b := 0; b < 200; b++ {
		var es []index.ChunkEntry
		for i := 0; i < 1000; i++ {
			k := b*1000 + i
			stream := k % 50000
			es = append(es, entry("t1", fmt.Sprintf("t1/chunks/%016x/%d", stream, k), 60*day+int64(k)*1e9, 60*day+int64(k)*1e9+3600e9,
				"app", fmt.Sprintf("app-%d", stream%50), "namespace", fmt.Sprintf("ns-%d", stream%5), "pod", fmt.Sprintf("pod-%d", stream), "container", "main"))
		}
		if err := n.AddChunks(context.Background(), es); err != nil {
			t.Fatal(err)
		}
	}
	load := time.Since(start)
	close(stop)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, _ := os.ReadFile("/proc/self/status")
	var rss string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "VmRSS") {
			rss += l + " "
		}
	}
	q := time.Now()
	for range 5 {
		st, err := n.Streams(context.Background(), "t1", 60*day, 62*day, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "namespace", "ns-3")})
		if err != nil || len(st) != 10000 {
			t.Fatal(len(st), err)
		}
	}
	t.Logf("load %v; max heap inuse %d MiB; after GC inuse %d MiB; %s; query ns-3 (10k streams, 2 periods) %v", load, maxHeap>>20, ms.HeapInuse>>20, rss, time.Since(q)/5)
}
