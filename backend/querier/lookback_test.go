package querier

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

// With a lookback, no read of the tenant sees data older than now minus
// the lookback: entries, counts, streams, label names and index stats.
func TestLookbackBoundsReads(t *testing.T) {
	b, err := objstore.NewFilesystem(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idx := &fakeIndex{refs: map[model.Fingerprint][]index.ChunkRef{}}
	sec := int64(time.Second)
	store(t, b, idx, labels.FromStrings("app", "old"), "line", 1*sec, 2*sec, 3*sec)
	store(t, b, idx, labels.FromStrings("app", "new"), "line", 5*sec, 7*sec, 8*sec)
	q := New(Config{FetchConcurrency: 2}, idx, b, nil)
	// The bound lies between 5.5s and 6s past the epoch while the test runs.
	q.SetLookback(func(tenant string) time.Duration {
		if tenant != "nobody" {
			return time.Since(time.Unix(5, 500_000_000))
		}
		return 0
	})
	ctx := context.Background()
	any := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "app", ".+")}
	sel := model.LogSelect{Tenant: tenant, Matchers: any, Start: 0, End: 10 * sec, Direction: model.Forward}
	it, err := q.SelectLogs(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(t, it); got != "new:line7000000000 new:line8000000000" {
		t.Fatalf("entries %q, want the two within the lookback", got)
	}
	// Counting: cold, then from the timestamps cache, and with a line
	// filter; the chunk of "new" straddles the bound (5s is before it).
	for _, c := range []struct {
		name    string
		needles [][]byte
	}{{"cold", nil}, {"cached", nil}, {"line filter", [][]byte{[]byte("line")}}} {
		var n, bytes int64
		cs := model.CountSelect{LogSelect: sel, Bytes: true, Windows: model.Windows{First: 10*sec - 1, Step: 10 * sec, Range: 10 * sec, Count: 1}}
		cs.Needles = c.needles
		if err := q.CountEntries(ctx, cs, func(wc *model.WindowCounts) error {
			for i, k := range wc.Counts {
				n += k
				bytes += wc.Bytes[i]
			}
			return nil
		}); err != nil || n != 2 || bytes != int64(2*len("line7000000000")) {
			t.Fatalf("%s: counted %d entries, %d bytes (%v); want the 2 within the lookback", c.name, n, bytes, err)
		}
	}
	if st, err := q.Series(ctx, tenant, 0, 4*sec, any); err != nil || len(st) != 0 {
		t.Fatalf("streams past the lookback: %v %v", st, err)
	}
	if names, err := q.LabelNames(ctx, tenant, 0, 4*sec, nil); err != nil || len(names) != 0 {
		t.Fatalf("label names past the lookback: %v %v", names, err)
	}
	if st, err := q.IndexStats(ctx, tenant, 0, 4*sec, any); err != nil || st.Streams != 0 || st.Chunks != 0 {
		t.Fatalf("index stats past the lookback: %+v %v", st, err)
	}
	// A tenant without lookback reads everything.
	if st, err := q.IndexStats(ctx, "nobody", 0, 4*sec, any); err != nil || st.Chunks != 1 {
		t.Fatalf("tenant without lookback: %+v %v", st, err)
	}
}
