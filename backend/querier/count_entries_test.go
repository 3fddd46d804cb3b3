package querier

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

// storeBlocks writes a chunk of one stream with one block per element of
// blocks (blocks may overlap in time and repeat entries).
func storeBlocks(t *testing.T, b objstore.Bucket, idx *fakeIndex, ls labels.Labels, blocks [][]model.Entry) {
	t.Helper()
	fp := model.StreamFingerprint(tenant, ls)
	var ebs []chunk.EncodedBlock
	h := chunk.Header{Tenant: tenant, Labels: ls, Fingerprint: fp, Codec: chunk.DefaultCodec, From: 1 << 62, Through: -1 << 62}
	for _, es := range blocks {
		bb := chunk.NewBlockBuilder(chunk.DefaultCodec)
		for _, e := range es {
			bb.Append(e.Timestamp, e.Line, e.Metadata)
		}
		data, meta := bb.Encode(nil)
		ebs = append(ebs, chunk.EncodedBlock{Meta: meta, Data: data})
		h.From, h.Through = min(h.From, meta.MinTime), max(h.Through, meta.MaxTime)
		h.Entries += meta.Entries
	}
	obj, err := chunk.Encode(nil, h, ebs)
	if err != nil {
		t.Fatal(err)
	}
	key := chunk.ObjectKey(tenant, fp, obj)
	if err := b.Put(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	if !containsStream(idx.streams, fp) {
		idx.streams = append(idx.streams, index.Stream{Fingerprint: fp, Labels: ls})
	}
	idx.refs[fp] = append(idx.refs[fp], index.ChunkRef{Tenant: tenant, Fingerprint: fp, Key: key,
		From: h.From, Through: h.Through, Size: uint32(len(obj)), Entries: h.Entries})
}

// fakeRecentStreams serves unflushed entries stream by stream too.
type fakeRecentStreams struct{ fakeRecent }

func (f *fakeRecentStreams) QueryStreams(ctx context.Context, sel model.LogSelect) (iter.Iterator[iter.EntryIterator], error) {
	it, err := f.Query(ctx, sel)
	if err != nil {
		return nil, err
	}
	all, err := iter.Collect(it, nil)
	if err != nil {
		return nil, err
	}
	byFP := map[model.Fingerprint][]model.StreamEntry{}
	var order []model.Fingerprint
	for _, e := range all {
		if _, ok := byFP[e.Fingerprint]; !ok {
			order = append(order, e.Fingerprint)
		}
		byFP[e.Fingerprint] = append(byFP[e.Fingerprint], e)
	}
	its := make([]iter.EntryIterator, 0, len(order))
	for _, fp := range order {
		its = append(its, iter.Slice(byFP[fp]))
	}
	return iter.Slice(its), nil
}

// corpus is random data spread over chunks and ingesters as a cluster
// produces it: chunks of a stream that overlap and repeat entries, blocks
// of a chunk that overlap, ingester entries that repeat flushed ones.
type corpus struct {
	bucket objstore.Bucket
	idx    *fakeIndex
	recent []model.StreamEntry // forward order
	all    []model.StreamEntry // every entry once, forward order
}

func lineMetadata(line []byte) labels.Labels {
	switch line[len(line)-1] % 4 {
	case 0:
		return labels.FromStrings("trace", "t"+string(line[len(line)-1:]))
	case 1:
		return labels.FromStrings("app", "shadow", "user", "u")
	}
	return labels.EmptyLabels()
}

func newCorpus(t *testing.T, seed uint64) *corpus {
	r := rand.New(rand.NewPCG(seed, 99))
	b, err := objstore.NewFilesystem(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &corpus{bucket: b, idx: &fakeIndex{refs: map[model.Fingerprint][]index.ChunkRef{}}}
	seen := map[string]bool{}
	for s := range 4 {
		ls := labels.FromStrings("app", fmt.Sprintf("app%d", s), "job", "j")
		fp := model.StreamFingerprint(tenant, ls)
		var mine []model.Entry
		for range 300 + r.IntN(300) {
			line := fmt.Appendf(nil, "stream %d %s code=%d %c", s, []string{"GET", "POST", "error", "warn"}[r.IntN(4)], r.IntN(5), 'a'+r.IntN(26))
			e := model.Entry{Timestamp: int64(r.IntN(10_000)), Line: line}
			e.Metadata = lineMetadata(line)
			mine = append(mine, e)
			if k := fmt.Sprintf("%d/%d/%s", fp, e.Timestamp, line); !seen[k] {
				seen[k] = true
				c.all = append(c.all, model.StreamEntry{Labels: ls, Fingerprint: fp, Entry: e})
			}
		}
		slices.SortFunc(mine, func(a, b model.Entry) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
		// Chunks over time slices, some overlapping the next and repeating
		// its first entries; blocks of a chunk sometimes overlapping.
		for lo := 0; lo < len(mine); {
			hi := min(len(mine), lo+50+r.IntN(100))
			chunkEntries := mine[lo:hi]
			if hi < len(mine) && r.IntN(3) == 0 {
				chunkEntries = mine[lo:min(len(mine), hi+10)]
			}
			var blocks [][]model.Entry
			for k := 0; k < len(chunkEntries); {
				n := min(len(chunkEntries)-k, 10+r.IntN(30))
				blk := slices.Clone(chunkEntries[k : k+n])
				if r.IntN(4) == 0 && k+n < len(chunkEntries) {
					blk = append(blk, chunkEntries[k+n+r.IntN(len(chunkEntries)-k-n)])
				}
				blocks = append(blocks, blk)
				k += n
			}
			storeBlocks(t, b, c.idx, ls, blocks)
			lo = hi
		}
		// Ingester data: the stream's last entries (some flushed already)
		// and a few new ones.
		if s != 3 {
			for _, e := range mine[len(mine)-20:] {
				c.recent = append(c.recent, model.StreamEntry{Labels: ls, Fingerprint: fp, Entry: e})
			}
			for k := range 10 {
				line := fmt.Appendf(nil, "stream %d recent %d error %c", s, k, 'a'+k)
				e := model.Entry{Timestamp: 10_000 + int64(k*7), Line: line, Metadata: lineMetadata(line)}
				c.recent = append(c.recent, model.StreamEntry{Labels: ls, Fingerprint: fp, Entry: e})
				c.all = append(c.all, model.StreamEntry{Labels: ls, Fingerprint: fp, Entry: e})
			}
		}
	}
	// A stream pushed out of order: blocks that overlap in time without
	// repeating an entry, and two blocks with a timestamp in common but
	// different lines.
	ls := labels.FromStrings("app", "interleaved", "job", "j")
	fp := model.StreamFingerprint(tenant, ls)
	var blocks [][]model.Entry
	for blk := range 6 {
		var es []model.Entry
		for k := range 40 {
			ts := int64(blk*700 + k*37 + blk%3 + blk/3*4000)
			line := fmt.Appendf(nil, "interleaved %d %d error %c", blk, k, 'a'+k%26)
			es = append(es, model.Entry{Timestamp: ts, Line: line, Metadata: lineMetadata(line)})
		}
		blocks = append(blocks, es)
	}
	shared := model.Entry{Timestamp: blocks[1][3].Timestamp, Line: []byte("same time, other line b")}
	shared.Metadata = lineMetadata(shared.Line)
	blocks[2] = append(blocks[2], shared)
	storeBlocks(t, b, c.idx, ls, blocks[:3])
	storeBlocks(t, b, c.idx, ls, blocks[3:])
	for _, es := range blocks {
		for _, e := range es {
			c.all = append(c.all, model.StreamEntry{Labels: ls, Fingerprint: fp, Entry: e})
		}
	}
	slices.SortFunc(c.recent, func(a, b model.StreamEntry) int {
		if iter.EntryLess(model.Forward, &a, &b) {
			return -1
		}
		return 1
	})
	return c
}

// queriers returns queriers over the corpus with each kind of recent
// source, with caches and without.
func (c *corpus) queriers() map[string]*Querier {
	cfg := Config{FetchConcurrency: 3, ChunkMetaCacheMB: 1, TimestampsCacheMB: 1}
	small := New(cfg, c.idx, c.bucket, &fakeRecent{entries: c.recent})
	small.recentBuffer = 500 // past it, SelectStreams merges what the ingesters hold
	return map[string]*Querier{
		"recent merged, small buffer": small,
		"no ingesters":                New(cfg, c.idx, c.bucket, nil),
		"recent merged":               New(cfg, c.idx, c.bucket, &fakeRecent{entries: c.recent}),
		"recent by stream":            New(cfg, c.idx, c.bucket, &fakeRecentStreams{fakeRecent{entries: c.recent}}),
		"no caches, streams":          New(Config{FetchConcurrency: 1}, c.idx, c.bucket, &fakeRecentStreams{fakeRecent{entries: c.recent}}),
	}
}

// expected returns the entries a querier with src sees.
func (c *corpus) expected(withRecent bool) []model.StreamEntry {
	if withRecent {
		return c.all
	}
	inRecentOnly := map[string]bool{}
	for _, e := range c.recent {
		if e.Timestamp >= 10_000 {
			inRecentOnly[fmt.Sprintf("%d/%d/%s", e.Fingerprint, e.Timestamp, e.Line)] = true
		}
	}
	var out []model.StreamEntry
	for _, e := range c.all {
		if !inRecentOnly[fmt.Sprintf("%d/%d/%s", e.Fingerprint, e.Timestamp, e.Line)] {
			out = append(out, e)
		}
	}
	return out
}

var anyJob = []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", "j")}

func TestSelectStreamsHoldsSelectLogs(t *testing.T) {
	c := newCorpus(t, 1)
	for name, q := range c.queriers() {
		for _, tsOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tsOnly=%v", name, tsOnly), func(t *testing.T) {
				sel := model.LogSelect{Tenant: tenant, Matchers: anyJob, Start: 2000, End: 10_050, Direction: model.Forward, TimestampsOnly: tsOnly}
				var got []model.StreamEntry
				var mu sync.Mutex // guards got
				busy := make([]atomic.Bool, 2)
				for range 2 { // cold, then with caches
					got = got[:0]
					err := q.SelectStreams(context.Background(), sel, 2, func(w int, it iter.EntryIterator) error {
						if busy[w].Swap(true) {
							t.Errorf("worker %d called twice at once", w)
						}
						defer busy[w].Store(false)
						var mine []model.StreamEntry
						for it.Next() {
							e := it.At()
							if n := len(mine); n > 0 && iter.EntryLess(model.Forward, &e, &mine[n-1]) {
								t.Errorf("out of order: %d after %d", e.Timestamp, mine[n-1].Timestamp)
							}
							e.Entry = e.Entry.Clone()
							mine = append(mine, e)
						}
						mu.Lock()
						got = append(got, mine...)
						mu.Unlock()
						return it.Err()
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				var want []model.StreamEntry
				for _, e := range c.expected(q.recent != nil) {
					if e.Timestamp >= sel.Start && e.Timestamp < sel.End {
						want = append(want, e)
					}
				}
				key := func(e model.StreamEntry) string {
					if tsOnly && e.Line == nil {
						return fmt.Sprintf("%d/%d", e.Fingerprint, e.Timestamp)
					}
					return fmt.Sprintf("%d/%d/%s", e.Fingerprint, e.Timestamp, e.Line)
				}
				gotKeys, wantKeys := map[string]int{}, map[string]int{}
				for _, e := range got {
					gotKeys[key(e)]++
				}
				for _, e := range want {
					if tsOnly {
						wantKeys[fmt.Sprintf("%d/%d", e.Fingerprint, e.Timestamp)]++
					} else {
						wantKeys[key(e)]++
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d entries, want %d", len(got), len(want))
				}
				for k, n := range gotKeys {
					if !tsOnly && wantKeys[k] != n {
						t.Fatalf("%s: %d times, want %d", k, n, wantKeys[k])
					}
				}
			})
		}
	}
}

// referenceCounts counts entries per window the slow way.
func referenceCounts(entries []model.StreamEntry, sel model.CountSelect) map[string][]int64 {
	out := map[string][]int64{}
	for _, e := range entries {
		first, last := sel.Windows.Span(e.Timestamp)
		if first > last {
			continue
		}
		ok := true
		for _, n := range sel.Needles {
			ok = ok && bytes.Contains(e.Line, n)
		}
		if !ok {
			continue
		}
		md := e.Metadata
		if !sel.AllMetadata {
			b := labels.NewBuilder(labels.EmptyLabels())
			md.Range(func(l labels.Label) {
				if slices.Contains(sel.MetadataBy, l.Name) {
					b.Set(l.Name, l.Value)
				}
			})
			md = b.Labels()
		}
		k := e.Labels.String() + md.String()
		if out[k] == nil {
			out[k] = make([]int64, 2*sel.Windows.Count)
		}
		for i := first; i <= last; i++ {
			out[k][i]++
			out[k][sel.Windows.Count+i] += int64(len(e.Line))
		}
	}
	return out
}

func TestCountEntriesMatchesEntries(t *testing.T) {
	c := newCorpus(t, 2)
	windows := map[string]model.Windows{
		"range = step":     {First: 1000, Step: 1000, Range: 1000, Count: 10},
		"range > step":     {First: 1500, Step: 500, Range: 2000, Count: 18},
		"range < step":     {First: 700, Step: 1000, Range: 300, Count: 10},
		"one wide window":  {First: 9999, Step: 1, Range: 20_000, Count: 1},
		"fine steps":       {First: 0, Step: 37, Range: 37, Count: 300},
		"past the ingests": {First: 9000, Step: 250, Range: 1000, Count: 8},
	}
	selections := map[string]model.CountSelect{
		"bare":        {},
		"bytes":       {Bytes: true},
		"needles":     {LogSelect: model.LogSelect{Needles: [][]byte{[]byte("error")}}, Bytes: true},
		"two needles": {LogSelect: model.LogSelect{Needles: [][]byte{[]byte("code=1"), []byte("stream")}}},
		// Needles under 4 bytes pass every token filter: every block's
		// lines are searched, and decoded further only on a hit.
		"short needle":      {LogSelect: model.LogSelect{Needles: [][]byte{[]byte("=1")}}, Bytes: true},
		"absent needle":     {LogSelect: model.LogSelect{Needles: [][]byte{[]byte("~~~")}}},
		"all metadata":      {AllMetadata: true, Bytes: true},
		"metadata by trace": {MetadataBy: []string{"trace"}},
	}
	for qname, q := range c.queriers() {
		want := c.expected(q.recent != nil)
		for wname, w := range windows {
			for sname, sel := range selections {
				t.Run(qname+"/"+wname+"/"+sname, func(t *testing.T) {
					sel.Tenant, sel.Matchers, sel.Windows = tenant, anyJob, w
					exp := referenceCounts(want, sel)
					for run := range 2 { // cold, then with caches
						got := map[string][]int64{}
						err := q.CountEntries(context.Background(), sel, func(wc *model.WindowCounts) error {
							k := wc.Labels.String() + wc.Metadata.String()
							if got[k] == nil {
								got[k] = make([]int64, 2*w.Count)
							}
							for i, n := range wc.Counts {
								got[k][i] += n
								if sel.Bytes {
									got[k][w.Count+i] += wc.Bytes[i]
								}
							}
							return nil
						})
						if err != nil {
							t.Fatal(err)
						}
						for k, e := range exp {
							if !sel.Bytes {
								e = slices.Clone(e)
								clear(e[w.Count:])
							}
							if !slices.Equal(got[k], e) {
								t.Fatalf("run %d: %s: got %v, want %v", run, k, got[k], e)
							}
						}
						for k, g := range got {
							if exp[k] == nil && slices.ContainsFunc(g, func(n int64) bool { return n != 0 }) {
								t.Fatalf("run %d: unexpected %s: %v", run, k, g)
							}
						}
					}
				})
			}
		}
	}
}

func TestCountEntriesRejectsBadWindows(t *testing.T) {
	c := newCorpus(t, 3)
	q := New(Config{FetchConcurrency: 1}, c.idx, c.bucket, nil)
	for _, w := range []model.Windows{{Step: 0, Range: 1, Count: 1}, {Step: 1, Range: 0, Count: 1}, {Step: 1, Range: 1, Count: 0}} {
		err := q.CountEntries(context.Background(), model.CountSelect{LogSelect: model.LogSelect{Tenant: tenant, Matchers: anyJob}, Windows: w},
			func(*model.WindowCounts) error { return nil })
		if err == nil {
			t.Fatalf("windows %+v accepted", w)
		}
	}
}

func TestSelectStreamsStopsAtError(t *testing.T) {
	c := newCorpus(t, 4)
	for name, q := range c.queriers() {
		t.Run(name, func(t *testing.T) {
			stop := errors.New("stop")
			var calls atomic.Int64
			sel := model.LogSelect{Tenant: tenant, Matchers: anyJob, Start: 0, End: 20_000, Direction: model.Forward}
			err := q.SelectStreams(context.Background(), sel, 2, func(int, iter.EntryIterator) error {
				if calls.Add(1) == 2 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) {
				t.Fatalf("err = %v, want %v", err, stop)
			}
			if n := calls.Load(); n > 3 {
				t.Fatalf("%d calls after the error", n-2)
			}
		})
	}
}
