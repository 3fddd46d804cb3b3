package querier

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

const tenant = "t"

// fakeIndex serves a fixed set of streams and chunk refs.
type fakeIndex struct {
	streams []index.Stream
	refs    map[model.Fingerprint][]index.ChunkRef
}

func matches(ms []*labels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (f *fakeIndex) Streams(_ context.Context, _ string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	var out []index.Stream
	for _, s := range f.streams {
		if matches(ms, s.Labels) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeIndex) Chunks(_ context.Context, _ string, fp model.Fingerprint, from, through int64) ([]index.ChunkRef, error) {
	var out []index.ChunkRef
	for _, r := range f.refs[fp] {
		if r.Through >= from && r.From <= through {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeIndex) LabelNames(context.Context, string, int64, int64, []*labels.Matcher) ([]string, error) {
	return nil, nil
}

func (f *fakeIndex) LabelValues(context.Context, string, string, int64, int64, []*labels.Matcher) ([]string, error) {
	return nil, nil
}

// fakeRecent serves unflushed entries.
type fakeRecent struct {
	entries []model.StreamEntry // forward order
	sel     model.LogSelect     // last selection asked
}

func (f *fakeRecent) Query(_ context.Context, sel model.LogSelect) (iter.EntryIterator, error) {
	f.sel = sel
	var out []model.StreamEntry
	for _, e := range f.entries {
		if e.Timestamp >= sel.Start && e.Timestamp < sel.End && matches(sel.Matchers, e.Labels) {
			out = append(out, e)
		}
	}
	if sel.Direction == model.Backward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return iter.Slice(out), nil
}

func (f *fakeRecent) Series(_ context.Context, _ string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	var out []index.Stream
	for _, e := range f.entries {
		if e.Timestamp >= from && e.Timestamp <= through && matches(ms, e.Labels) && !containsStream(out, e.Fingerprint) {
			out = append(out, index.Stream{Fingerprint: e.Fingerprint, Labels: e.Labels})
		}
	}
	return out, nil
}

// store writes a chunk of lines "<prefix><ts>" at the given timestamps.
func store(t *testing.T, b objstore.Bucket, idx *fakeIndex, ls labels.Labels, prefix string, ts ...int64) {
	t.Helper()
	fp := model.StreamFingerprint(tenant, ls)
	bb := chunk.NewBlockBuilder(chunk.DefaultCodec)
	for _, x := range ts {
		bb.Append(x, []byte(fmt.Sprintf("%s%d", prefix, x)), labels.EmptyLabels())
	}
	data, meta := bb.Encode(nil)
	obj, err := chunk.Encode(nil, chunk.Header{Tenant: tenant, Labels: ls, Fingerprint: fp, Codec: chunk.DefaultCodec},
		[]chunk.EncodedBlock{{Meta: meta, Data: data}})
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
		From: ts[0], Through: ts[len(ts)-1], Size: uint32(len(obj)), Entries: uint32(len(ts))})
}

func containsStream(ss []index.Stream, fp model.Fingerprint) bool {
	for _, s := range ss {
		if s.Fingerprint == fp {
			return true
		}
	}
	return false
}

func lines(t *testing.T, it iter.EntryIterator) string {
	t.Helper()
	var out []string
	for it.Next() {
		e := it.At()
		l := string(e.Line)
		if e.Line == nil {
			l = fmt.Sprintf("@%d", e.Timestamp)
		}
		out = append(out, e.Labels.Get("app")+":"+l)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

func TestSelectLogs(t *testing.T) {
	b, err := objstore.NewFilesystem(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idx := &fakeIndex{refs: map[model.Fingerprint][]index.ChunkRef{}}
	api, web := labels.FromStrings("app", "api"), labels.FromStrings("app", "web")
	store(t, b, idx, api, "a", 10, 20, 30)
	store(t, b, idx, api, "a", 40, 50)     // a later chunk of the same stream
	store(t, b, idx, api, "a", 45, 50, 60) // overlapping the previous one (a retry after flush)
	store(t, b, idx, web, "w", 15, 35)
	apiFP := model.StreamFingerprint(tenant, api)
	recent := &fakeRecent{entries: []model.StreamEntry{
		{Labels: api, Fingerprint: apiFP, Entry: model.Entry{Timestamp: 60, Line: []byte("a60")}}, // also flushed
		{Labels: api, Fingerprint: apiFP, Entry: model.Entry{Timestamp: 70, Line: []byte("a70")}},
	}}
	q := New(Config{FetchConcurrency: 2}, idx, b, recent)
	anyApp := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "app", ".+")}
	cases := []struct {
		name string
		sel  model.LogSelect
		want string
	}{
		{"forward, all sources merged once", model.LogSelect{Matchers: anyApp, Start: 0, End: 100, Direction: model.Forward},
			"api:a10 web:w15 api:a20 api:a30 web:w35 api:a40 api:a45 api:a50 api:a60 api:a70"},
		{"backward with bounds", model.LogSelect{Matchers: anyApp, Start: 20, End: 50, Direction: model.Backward},
			"api:a45 api:a40 web:w35 api:a30 api:a20"},
		{"one stream", model.LogSelect{Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "web")}, Start: 0, End: 100},
			"web:w35 web:w15"},
		{"empty range", model.LogSelect{Matchers: anyApp, Start: 50, End: 50}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.sel.Tenant = tenant
			it, err := q.SelectLogs(context.Background(), c.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := lines(t, it); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
	t.Run("timestamps only is ignored with ingesters, whose repeats only lines tell apart", func(t *testing.T) {
		sel := model.LogSelect{Tenant: tenant, Matchers: anyApp, Start: 0, End: 100, Direction: model.Forward, TimestampsOnly: true}
		it, err := q.SelectLogs(context.Background(), sel)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := lines(t, it), "api:a10 web:w15 api:a20 api:a30 web:w35 api:a40 api:a45 api:a50 api:a60 api:a70"; got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		if recent.sel.TimestampsOnly {
			t.Fatal("ingesters were asked for timestamps only")
		}
	})
	t.Run("timestamps only without ingesters reads overlapping chunks with lines", func(t *testing.T) {
		q := New(Config{FetchConcurrency: 2}, idx, b, nil)
		sel := model.LogSelect{Tenant: tenant, Matchers: anyApp, Start: 0, End: 100, Direction: model.Forward, TimestampsOnly: true}
		it, err := q.SelectLogs(context.Background(), sel)
		if err != nil {
			t.Fatal(err)
		}
		// The two overlapping chunks of api hold 50 both: it counts once.
		if got, want := lines(t, it), "api:@10 web:@15 api:@20 api:@30 web:@35 api:a40 api:a45 api:a50 api:a60"; got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}
