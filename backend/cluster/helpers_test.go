package cluster

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

const day = index.PeriodNanos

// testConfig returns the flag defaults with short Raft timeouts and a free
// loopback port, plus extra flags.
func testConfig(t testing.TB, extra ...string) Config {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	args := append([]string{
		"-cluster.raft-address=127.0.0.1:0",
		"-cluster.heartbeat-timeout=50ms",
		"-cluster.election-timeout=50ms",
		"-cluster.leader-lease-timeout=50ms",
		"-cluster.apply-linger=1ms",
	}, extra...)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

// startNode opens a node on dir and waits until it leads its own cluster.
func startNode(t testing.TB, dir string, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg, Options{DataDir: dir, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for !n.IsLeader() {
		if ctx.Err() != nil {
			t.Fatal("node did not become leader")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return n
}

func entry(tenant, key string, from, through int64, lbls ...string) index.ChunkEntry {
	ls := labels.FromStrings(lbls...)
	return index.ChunkEntry{
		Ref: index.ChunkRef{
			Tenant: tenant, Fingerprint: model.StreamFingerprint(tenant, ls), Key: key,
			From: from, Through: through, Size: 1000 + uint32(len(key)), Entries: 10,
		},
		Labels: ls,
	}
}

// testEntries returns n entries of n/4 streams across two tenants, some
// spanning two periods.
func testEntries(n int) []index.ChunkEntry {
	var out []index.ChunkEntry
	for i := range n {
		tenant := []string{"t1", "t2"}[i%2]
		from := 20*day + int64(i)*1e9
		if i%5 == 0 {
			from = 21*day - 10 // spans periods 20 and 21
		}
		out = append(out, entry(tenant, fmt.Sprintf("%s/chunks/%d", tenant, i), from, from+60e9,
			"app", fmt.Sprintf("app-%d", i%7), "pod", fmt.Sprintf("pod-%d", (i/2)%(n/4+1))))
	}
	return out
}

// dumpIndex returns the index keys and values of the node's database.
func dumpIndex(t testing.TB, n *Node) []string {
	t.Helper()
	var out []string
	err := n.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsIndex}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%x=%x", it.Item().Key(), v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readAll returns what the index.Reader of n answers for the test data,
// as comparable strings.
func readAll(t testing.TB, n index.Reader) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, tenant := range []string{"t1", "t2"} {
		ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "app", ".+")}
		streams, err := n.Streams(ctx, tenant, 0, 100*day, ms)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range streams {
			out = append(out, fmt.Sprintf("%s %016x %s", tenant, uint64(s.Fingerprint), s.Labels))
			refs, err := n.Chunks(ctx, tenant, s.Fingerprint, 0, 100*day)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range refs {
				out = append(out, fmt.Sprintf("  %+v", r))
			}
		}
		names, err := n.LabelNames(ctx, tenant, 0, 100*day, nil)
		if err != nil {
			t.Fatal(err)
		}
		values, err := n.LabelValues(ctx, tenant, "app", 0, 100*day, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(names), fmt.Sprint(values))
	}
	return out
}

func requireEqual(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s differ: got %d lines, want %d\ngot:  %.400q\nwant: %.400q", what, len(got), len(want), got, want)
	}
}

// value reads a counter, gauge or histogram (sample count).
func value(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	case d.Histogram != nil:
		return float64(d.Histogram.GetSampleCount())
	}
	t.Fatalf("unsupported metric %v", m.Desc())
	return 0
}

func fsmCount(t testing.TB, n *Node, result string) float64 {
	t.Helper()
	return value(t, n.metrics.fsmCommands.WithLabelValues(result))
}

func itoa(i int) string { return fmt.Sprint(i) }
