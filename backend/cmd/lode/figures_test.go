package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// TestIngestFigures measures what README.md reports: ingest throughput
// through HTTP into durable storage, server CPU and peak RSS, stored bytes
// against snappy, and query latency on the flushed data. It pushes
// LODE_FIGURES_BYTES (default 1GiB) with lode-loadgen, so it only runs when
// LODE_FIGURES=1 (go run github.com/magefile/mage figures). It asserts only
// that every pushed line is stored and the queries answer correctly.
func TestIngestFigures(t *testing.T) {
	if os.Getenv("LODE_FIGURES") == "" {
		t.Skip("set LODE_FIGURES=1 to measure the ingest and query figures")
	}
	total := int64(1 << 30)
	if s := os.Getenv("LODE_FIGURES_BYTES"); s != "" {
		total, _ = strconv.ParseInt(s, 10, 64)
	}
	loadgen := filepath.Join(t.TempDir(), "lode-loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgen, "github.com/lode-logs/lode/backend/cmd/lode-loadgen").CombinedOutput(); err != nil {
		t.Fatalf("build loadgen: %v\n%s", err, out)
	}
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync-writes=%v", sync), func(t *testing.T) {
			measure(t, loadgen, total, sync)
		})
	}
}

const figureStreams = 200

// needleEvery puts about four needles in the corpus.
func needleEvery(total int64) int64 { return max(total/220/4, 1) }

func measure(t *testing.T, loadgen string, total int64, sync bool) {
	p := lodetest.Start(t, lodetest.Options{Args: []string{
		"-ingester.sync-writes=" + strconv.FormatBool(sync),
		"-distributor.ingestion-rate-limit-mb=0",
		"-frontend.cache-mb=0", // repeated queries measure the querier, not the results cache
		// Queries right after the flush read the store alone, as they do
		// once flushed chunks are no longer retained.
		"-ingester.chunk-retain-period=0",
	}})
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	cpu0 := procCPU(t, p.PID())
	cmd := exec.Command(loadgen, "-url", p.URL, "-streams", strconv.Itoa(figureStreams), "-pushers", "4",
		"-total-bytes", strconv.FormatInt(total, 10), "-start", start.Format(time.RFC3339Nano),
		"-span", "1h", "-progress", "0", "-pregenerate", "-needle-every", strconv.FormatInt(needleEvery(total), 10))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, out)
	}
	// The pushing time as lode-loadgen measured it (the corpus is generated
	// before the first push, which the server spends idle).
	m := regexp.MustCompile(`in \d+ pushes over (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no push time in the loadgen summary:\n%s", out)
	}
	elapsed, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatalf("loadgen push time %q: %v", m[1], err)
	}
	cpu := procCPU(t, p.PID()) - cpu0
	rss := procPeakRSS(t, p.PID())
	mib := float64(total) / (1 << 20)
	t.Logf("loadgen: %s", strings.TrimSpace(string(out)))
	t.Logf("ingest: %.1f MiB/s wall, %.1f MiB per server CPU-second (server CPU %.1fs over %.1fs), peak RSS %.0f MiB",
		mib/elapsed.Seconds(), mib/cpu.Seconds(), cpu.Seconds(), elapsed.Seconds(), float64(rss)/(1<<20))
	if sync {
		return // the query figures do not depend on sync-writes
	}
	flushBegin := time.Now()
	if r, err := p.Do("POST", "/flush", nil, nil); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("flush: %v %d %s", err, r.Status, r.Body)
	}
	t.Logf("flush of everything: %v", time.Since(flushBegin).Round(time.Millisecond))
	chunks := dirSize(t, filepath.Join(p.DataDir, "chunks"))
	index := dirSize(t, filepath.Join(p.DataDir, "raft", "fsm"))
	snappyBytes := snappyCorpus(total)
	t.Logf("stored: chunks %.1f MiB + index %.1f MiB = ratio %.2f:1 to raw; %.3f of snappy blocks (%.1f MiB)",
		float64(chunks)/(1<<20), float64(index)/(1<<20), float64(total)/float64(chunks+index),
		float64(chunks+index)/float64(snappyBytes), float64(snappyBytes)/(1<<20))

	end := start.Add(time.Hour + time.Minute)
	needle := string(loggen.NeedleToken(1, 1))
	queries := []struct {
		name  string
		query string
		step  string
		check func(body []byte) error
	}{
		{"needle", `{job=~".+"} |= "` + needle + `"`, "", func(b []byte) error {
			if !bytes.Contains(b, []byte(needle)) {
				return fmt.Errorf("needle %s not found", needle)
			}
			return nil
		}},
		{"count by level", `sum by (level) (count_over_time({job=~".+"}[1m]))`, "60", func(b []byte) error {
			if !bytes.Contains(b, []byte(`"level":"error"`)) {
				return fmt.Errorf("no error level series")
			}
			return nil
		}},
	}
	for _, q := range queries {
		var times []time.Duration
		var body []byte
		for i := 0; i < 7; i++ {
			v := url.Values{"query": {q.query}, "start": {ns(start)}, "end": {ns(end)}, "limit": {"100"}}
			if q.step != "" {
				v.Set("step", q.step)
			}
			begin := time.Now()
			r, err := p.QueryRange(v)
			times = append(times, time.Since(begin))
			if err != nil || r.Status != 200 {
				t.Fatalf("%s: %v %d %s", q.name, err, r.Status, r.Body)
			}
			body = r.Body
		}
		if err := q.check(body); err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		first := times[0] // the only run that reads whole chunk objects
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		var st struct {
			Data struct {
				Stats struct {
					Summary struct {
						TotalBytesProcessed int64 `json:"totalBytesProcessed"`
						TotalLinesProcessed int64 `json:"totalLinesProcessed"`
					} `json:"summary"`
					Querier struct {
						Store struct {
							TotalChunksRef int64 `json:"totalChunksRef"`
							Chunk          struct {
								CompressedBytes   int64 `json:"compressedBytes"`
								DecompressedBytes int64 `json:"decompressedBytes"`
							} `json:"chunk"`
						} `json:"store"`
					} `json:"querier"`
				} `json:"stats"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &st)
		s := st.Data.Stats
		t.Logf("%s: median %v (first %v, best %v); chunks %d, compressed read %.1f MiB, decompressed %.1f MiB, lines %d",
			q.name, times[len(times)/2].Round(time.Microsecond), first.Round(time.Microsecond), times[0].Round(time.Microsecond),
			s.Querier.Store.TotalChunksRef, float64(s.Querier.Store.Chunk.CompressedBytes)/(1<<20),
			float64(s.Querier.Store.Chunk.DecompressedBytes)/(1<<20), s.Summary.TotalLinesProcessed)
	}
}

// snappyCorpus compresses the loadgen corpus the way an established
// snappy-block store does: per stream, blocks of 256 KiB of entries, each
// entry a varint timestamp, a uvarint length and the line.
func snappyCorpus(total int64) int64 {
	g := loggen.NewWithOptions(loggen.Options{Seed: 1, Streams: figureStreams, NeedleEvery: int(needleEvery(total))})
	bufs := make([][]byte, g.Streams())
	var out, n int64
	var line []byte
	for n < total {
		var si int
		var ts int64
		si, ts, line = g.Next(line[:0])
		n += int64(len(line))
		b := binary.AppendVarint(bufs[si], ts)
		b = binary.AppendUvarint(b, uint64(len(line)))
		bufs[si] = append(b, line...)
		if len(bufs[si]) >= 256<<10 {
			out += int64(len(snappy.Encode(nil, bufs[si])))
			bufs[si] = bufs[si][:0]
		}
	}
	for _, b := range bufs {
		if len(b) > 0 {
			out += int64(len(snappy.Encode(nil, b)))
		}
	}
	return out
}

// dirSize is the disk space used below dir (allocated blocks, so that
// Badger's sparse preallocated files count for what they hold).
func dirSize(t *testing.T, dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			} else {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// procCPU returns the user+system CPU time of pid from /proc.
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// procPeakRSS returns VmHWM of pid in bytes.
func procPeakRSS(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
