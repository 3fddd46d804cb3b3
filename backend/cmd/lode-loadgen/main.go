// Command lode-loadgen pushes a deterministic corpus of realistic mixed
// logs (backend/internal/loggen) to a Lode (or Loki) server the way agents
// do: snappy-compressed protobuf batches to /loki/api/v1/push from several
// concurrent pushers. It checks that every push is answered 204 and
// prints the throughput:
//
//	lode-loadgen -url http://127.0.0.1:3100 -streams 1000 -pushers 8 -total-bytes 1GiB
//
// The batches depend only on -seed, -streams, -batch-bytes, -total-bytes
// and -start, so two runs with the same flags push the same entries. The
// exit status is 1 when any push failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lode-logs/lode/backend/limits"
)

// config holds the flags.
type config struct {
	URL        string
	Tenant     string
	Streams    int
	Pushers    int
	BatchBytes limits.ByteSize
	TotalBytes limits.ByteSize
	Seed       int64
	RateMB     float64 // MiB/s of line bytes; 0: as fast as possible
	Start      time.Time
	Span       time.Duration
	Timeout    time.Duration
	Progress   time.Duration
	// NeedleEvery makes every n-th line carry a unique token (see loggen).
	NeedleEvery int
	// Pregenerate encodes every batch before the first push, so that the
	// generator does not compete with the server for CPU while pushing.
	Pregenerate bool
}

func (c *config) registerFlags(f *flag.FlagSet) {
	f.StringVar(&c.URL, "url", "http://127.0.0.1:3100", "Base URL of the server (the push path is added unless the URL already ends with /push).")
	f.StringVar(&c.Tenant, "tenant", "fake", "Tenant sent in X-Scope-OrgID; empty sends no header.")
	f.IntVar(&c.Streams, "streams", 100, "Number of streams.")
	f.IntVar(&c.Pushers, "pushers", 4, "Concurrent pushers.")
	c.BatchBytes = 1 << 20
	f.Var(&c.BatchBytes, "batch-bytes", "Line bytes per push (e.g. 1MiB, Promtail's default batch size).")
	c.TotalBytes = 100 << 20
	f.Var(&c.TotalBytes, "total-bytes", "Line bytes to push in total (e.g. 1GiB); the last line may overshoot it.")
	f.Int64Var(&c.Seed, "seed", 1, "Corpus seed.")
	f.Float64Var(&c.RateMB, "rate", 0, "Push rate limit in MiB/s of line bytes; 0 pushes as fast as the server takes it.")
	f.Func("start", "Timestamp of the first line, RFC3339 (default: now minus -span).", func(s string) error {
		t, err := time.Parse(time.RFC3339Nano, s)
		c.Start = t
		return err
	})
	f.DurationVar(&c.Span, "span", time.Hour, "Time range the lines' timestamps are spread over.")
	f.DurationVar(&c.Timeout, "timeout", 30*time.Second, "Timeout of one push.")
	f.IntVar(&c.NeedleEvery, "needle-every", 1_000_000, "Every n-th line carries a unique needle token (loggen.NeedleToken(seed, k)); 0: none.")
	f.BoolVar(&c.Pregenerate, "pregenerate", false, "Generate and encode the whole corpus in memory before the first push (about 0.35 bytes per line byte), so that the clock and the CPU during pushing belong to the server.")
	f.DurationVar(&c.Progress, "progress", 10*time.Second, "Interval of progress lines; 0 prints only the summary.")
}

func (c *config) validate() error {
	switch {
	case c.Streams < 1:
		return errors.New("-streams must be at least 1")
	case c.Pushers < 1:
		return errors.New("-pushers must be at least 1")
	case c.BatchBytes < 1:
		return errors.New("-batch-bytes must be > 0")
	case c.TotalBytes < 1:
		return errors.New("-total-bytes must be > 0")
	case c.RateMB < 0:
		return errors.New("-rate must not be negative")
	case c.NeedleEvery < 0:
		return errors.New("-needle-every must not be negative")
	case c.Span <= 0:
		return errors.New("-span must be > 0")
	}
	return nil
}

func main() {
	var cfg config
	f := flag.NewFlagSet("lode-loadgen", flag.ContinueOnError)
	cfg.registerFlags(f)
	if err := f.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "lode-loadgen:", err)
		os.Exit(2)
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now().Add(-cfg.Span)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lode-loadgen:", err)
		os.Exit(1)
	}
	if sum.Failed > 0 {
		os.Exit(1)
	}
}

// printSummary writes the final report.
func printSummary(w io.Writer, s summary) {
	fmt.Fprintf(w, "pushed %d lines, %.1f MiB of lines (%.1f MiB on the wire) in %d pushes over %s\n",
		s.Lines, mib(s.Bytes), mib(s.WireBytes), s.Pushes, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "throughput: %.1f MiB/s, %.0f lines/s\n", s.mibPerSec(), s.linesPerSec())
	fmt.Fprintf(w, "failed pushes: %d\n", s.Failed)
	for _, e := range s.FirstErrors {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
