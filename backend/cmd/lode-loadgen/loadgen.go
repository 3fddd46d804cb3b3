package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"golang.org/x/time/rate"

	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/push"
)

// batch is one encoded push.
type batch struct {
	body         []byte // snappy-compressed protobuf PushRequest
	lines, bytes int64  // entries and line bytes in it
}

// summary is the outcome of a run.
type summary struct {
	Lines, Bytes, WireBytes int64
	Pushes, Failed          int64
	Elapsed                 time.Duration
	FirstErrors             []string // the first few failures
}

func (s summary) mibPerSec() float64   { return mib(s.Bytes) / s.Elapsed.Seconds() }
func (s summary) linesPerSec() float64 { return float64(s.Lines) / s.Elapsed.Seconds() }

// meanLineGuess is a low estimate of loggen's mean line length, used to
// spread timestamps over -span without running past its end.
const meanLineGuess = 100

// maxFirstErrors is how many failures the summary quotes.
const maxFirstErrors = 5

// run pushes the corpus and reports on out.
//
// THREADS: one producer goroutine generates and encodes batches in corpus
// order into the batches channel (it owns the generator); cfg.Pushers
// goroutines post them (with cfg.Pregenerate, only once the producer is
// done); an optional progress goroutine prints counters.
// All stop when the corpus is sent or ctx is done.
func run(ctx context.Context, cfg config, out io.Writer) (summary, error) {
	url := strings.TrimSuffix(cfg.URL, "/")
	if !strings.HasSuffix(url, "/push") {
		url += "/loki/api/v1/push"
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.Pushers,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()
	var limiter *rate.Limiter
	if cfg.RateMB > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.RateMB*(1<<20)), 2*int(cfg.BatchBytes)+(1<<20))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, cfg.Pushers)
	go produce(ctx, cfg, batches)
	if cfg.Pregenerate {
		batches = pregenerate(batches)
	}

	var c counters
	start := time.Now()
	stopProgress := c.progress(out, cfg.Progress, start)
	var wg sync.WaitGroup
	for range cfg.Pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if limiter != nil && limiter.WaitN(ctx, int(b.bytes)) != nil {
					continue // cancelled: drain
				}
				c.record(b, postBatch(ctx, client, url, cfg, b))
			}
		}()
	}
	wg.Wait()
	stopProgress()
	sum := c.summary(time.Since(start))
	printSummary(out, sum)
	return sum, ctx.Err()
}

// pregenerate drains ch into memory and returns a closed channel holding
// every batch.
func pregenerate(ch <-chan batch) chan batch {
	var all []batch
	for b := range ch {
		all = append(all, b)
	}
	out := make(chan batch, len(all))
	for _, b := range all {
		out <- b
	}
	close(out)
	return out
}

// produce generates the corpus into batches of cfg.BatchBytes line bytes
// and closes ch when done.
func produce(ctx context.Context, cfg config, ch chan<- batch) {
	defer close(ch)
	g := loggen.NewWithOptions(loggen.Options{
		Seed:         cfg.Seed,
		Streams:      cfg.Streams,
		Start:        cfg.Start.UnixNano(),
		MeanInterval: max(time.Duration(int64(cfg.Span)*meanLineGuess/int64(cfg.TotalBytes)), 1),
		NeedleEvery:  cfg.NeedleEvery,
	})
	labels := make([]string, g.Streams())
	for i := range labels {
		labels[i] = g.Labels(i).String()
	}
	var (
		req     push.Request
		order   []int                               // streams of the batch, first seen first
		entries = make([][]push.Entry, g.Streams()) // by stream, reused
		arena   = make([]byte, 0, int(cfg.BatchBytes)+64<<10)
		pb      []byte
		total   int64
	)
	for total < int64(cfg.TotalBytes) {
		for _, si := range order {
			entries[si] = entries[si][:0]
		}
		order = order[:0]
		buf := arena[:0] // lines alias it until the batch is encoded
		var b batch
		for b.bytes < int64(cfg.BatchBytes) && total+b.bytes < int64(cfg.TotalBytes) {
			si, ts, line := g.Next(buf)
			buf = line[len(line):]
			if len(entries[si]) == 0 {
				order = append(order, si)
			}
			entries[si] = append(entries[si], push.Entry{Timestamp: ts, Line: line})
			b.lines++
			b.bytes += int64(len(line))
		}
		total += b.bytes
		req.Streams = req.Streams[:0]
		for _, si := range order {
			req.Streams = append(req.Streams, push.Stream{Labels: labels[si], Entries: entries[si]})
		}
		pb = req.AppendMarshal(pb[:0])
		b.body = s2.EncodeSnappy(nil, pb)
		select {
		case ch <- b:
		case <-ctx.Done():
			return
		}
	}
}

// postBatch sends one batch and returns nil only for a 204 answer.
func postBatch(ctx context.Context, client *http.Client, url string, cfg config, b batch) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", push.ContentTypeProtobuf)
	req.Header.Set("User-Agent", "lode-loadgen")
	if cfg.Tenant != "" {
		req.Header.Set("X-Scope-OrgID", cfg.Tenant)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// counters are the run's totals, updated by the pushers.
type counters struct {
	lines, bytes, wire, pushes, failed atomic.Int64
	mu                                 sync.Mutex // guards errs
	errs                               []string
}

func (c *counters) record(b batch, err error) {
	c.pushes.Add(1)
	if err != nil {
		c.failed.Add(1)
		c.mu.Lock()
		if len(c.errs) < maxFirstErrors {
			c.errs = append(c.errs, err.Error())
		}
		c.mu.Unlock()
		return
	}
	c.lines.Add(b.lines)
	c.bytes.Add(b.bytes)
	c.wire.Add(int64(len(b.body)))
}

func (c *counters) summary(elapsed time.Duration) summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	return summary{
		Lines: c.lines.Load(), Bytes: c.bytes.Load(), WireBytes: c.wire.Load(),
		Pushes: c.pushes.Load(), Failed: c.failed.Load(), Elapsed: elapsed,
		FirstErrors: append([]string(nil), c.errs...),
	}
}

// progress prints a line every interval until the returned stop is called.
func (c *counters) progress(out io.Writer, interval time.Duration, start time.Time) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s := c.summary(time.Since(start))
				fmt.Fprintf(out, "%6.0fs  %8.1f MiB  %6.1f MiB/s  %9.0f lines/s  %d failed\n",
					s.Elapsed.Seconds(), mib(s.Bytes), s.mibPerSec(), s.linesPerSec(), s.Failed)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
