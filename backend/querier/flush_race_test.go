package querier

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

// flushingIndex runs flush once, right after computing its first Streams
// answer: a flush that commits a chunk to the index and drops it from the
// ingesters just after the querier read the index.
type flushingIndex struct {
	*fakeIndex
	flush func()
}

func (f *flushingIndex) Streams(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	out, err := f.fakeIndex.Streams(ctx, tenant, from, through, ms)
	if f.flush != nil {
		f.flush()
		f.flush = nil
	}
	return out, err
}

// TestFlushDuringQuery: entries that move from the ingesters to a chunk
// while a query runs are read once, from one side or the other, by every
// read path, with recent sources that split by stream and that do not.
func TestFlushDuringQuery(t *testing.T) {
	ls := labels.FromStrings("app", "new")
	fp := model.StreamFingerprint(tenant, ls)
	ts := []int64{10, 20, 30, 40, 50}
	sel := model.LogSelect{Tenant: tenant, Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "new")},
		Start: 0, End: 100, Direction: model.Forward}
	// setup returns a querier whose only stream is in the ingesters until
	// the index is first read, then only in a chunk.
	setup := func(t *testing.T, split bool) *Querier {
		b, err := objstore.NewFilesystem(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		idx := &flushingIndex{fakeIndex: &fakeIndex{refs: map[model.Fingerprint][]index.ChunkRef{}}}
		fr := &fakeRecent{}
		for _, x := range ts {
			fr.entries = append(fr.entries, model.StreamEntry{Labels: ls, Fingerprint: fp,
				Entry: model.Entry{Timestamp: x, Line: fmt.Appendf(nil, "line%d", x)}})
		}
		idx.flush = func() {
			store(t, b, idx.fakeIndex, ls, "line", ts...)
			fr.entries = nil
		}
		var recent Recent = fr
		if split {
			recent = &fakeRecentStreams{*fr}
			idx.flush = func() {
				store(t, b, idx.fakeIndex, ls, "line", ts...)
				recent.(*fakeRecentStreams).entries = nil
			}
		}
		return New(Config{FetchConcurrency: 2}, idx, b, recent)
	}
	const want = "new:line10 new:line20 new:line30 new:line40 new:line50"
	for _, split := range []bool{false, true} {
		name := map[bool]string{false: "merged recent", true: "recent by stream"}[split]
		t.Run(name+": SelectLogs", func(t *testing.T) {
			it, err := setup(t, split).SelectLogs(context.Background(), sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := lines(t, it); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
		t.Run(name+": SelectStreams", func(t *testing.T) {
			var got []string
			err := setup(t, split).SelectStreams(context.Background(), sel, 2, func(_ int, it iter.EntryIterator) error {
				for it.Next() {
					got = append(got, string(it.At().Line))
				}
				return it.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(ts) {
				t.Fatalf("got %q, want the %d lines once", got, len(ts))
			}
		})
		t.Run(name+": Series", func(t *testing.T) {
			got, err := setup(t, split).Series(context.Background(), tenant, sel.Start, sel.End-1, sel.Matchers)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Fingerprint != fp {
				t.Fatalf("series %v, want the one stream", got)
			}
		})
		t.Run(name+": CountEntries", func(t *testing.T) {
			var n int64
			cs := model.CountSelect{LogSelect: sel, Windows: model.Windows{First: 99, Step: 100, Range: 100, Count: 1}}
			err := setup(t, split).CountEntries(context.Background(), cs, func(wc *model.WindowCounts) error {
				for _, c := range wc.Counts {
					n += c
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(ts)) {
				t.Fatalf("counted %d entries, want %d", n, len(ts))
			}
		})
	}
}
