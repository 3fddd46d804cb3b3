package index

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

const day = PeriodNanos

// fixture streams, all in period 100, identified by their pod label.
var fixtureStreams = [][]string{
	{"app", "api", "env", "prod", "pod", "api-1"},
	{"app", "api", "env", "dev", "pod", "api-2"},
	{"app", "web", "env", "prod", "pod", "web-1"},
	{"app", "web", "pod", "web-2"},
	{"app", "db", "env", "prod", "pod", "db-1", "tier", "storage"},
	{"app", "api-gw", "env", "prod", "pod", "gw-1"},
	{"app", "API", "env", "prod", "pod", "x"},
	{"app", "nul", "pod", "a\x00b"},
}

func fixtureDB(t *testing.T) *badger.DB {
	t.Helper()
	db := openTestDB(t)
	var entries []ChunkEntry
	for i, ls := range fixtureStreams {
		entries = append(entries, entry("t1", "t1/chunks/"+itoa(i), 100*day+10, 100*day+20, ls...))
	}
	// Another tenant with an identical stream, and tenant t1's stream in
	// another period: neither may leak into the cases below.
	entries = append(entries,
		entry("t2", "t2/chunks/0", 100*day+10, 100*day+20, fixtureStreams[0]...),
		entry("t1", "t1/chunks/old", 90*day, 90*day+5, "app", "api", "env", "prod", "pod", "old-1"))
	addChunks(t, db, entries...)
	return db
}

func pods(streams []Stream) []string {
	var out []string
	for _, s := range streams {
		out = append(out, s.Labels.Get("pod"))
	}
	slices.Sort(out)
	return out
}

func TestStreamsMatchers(t *testing.T) {
	s := NewStore(fixtureDB(t))
	for _, tc := range []struct {
		sel  string
		want []string // pods; nil with err
		err  error
	}{
		{sel: `{app="api"}`, want: []string{"api-1", "api-2"}},
		{sel: `{app=~"api"}`, want: []string{"api-1", "api-2"}},
		{sel: `{app=~"api.*"}`, want: []string{"api-1", "api-2", "gw-1"}},
		{sel: `{app=~"(?i)api"}`, want: []string{"api-1", "api-2", "x"}},
		{sel: `{app=~"api|web"}`, want: []string{"api-1", "api-2", "web-1", "web-2"}},
		{sel: `{app=~"p.*"}`, want: nil},
		{sel: `{app=~".*i"}`, want: []string{"api-1", "api-2"}},
		{sel: `{env!=""}`, want: []string{"api-1", "api-2", "db-1", "gw-1", "web-1", "x"}},
		{sel: `{app="web", env=""}`, want: []string{"web-2"}},
		{sel: `{app="web", env!="prod"}`, want: []string{"web-2"}},
		{sel: `{app="web", env!~"prod"}`, want: []string{"web-2"}},
		{sel: `{app="web", env=~"|dev"}`, want: []string{"web-2"}},
		{sel: `{app=~".+", env!~"prod|dev"}`, want: []string{"a\x00b", "web-2"}},
		{sel: `{app=~"a.*", env!~"prod"}`, want: []string{"api-2"}},
		{sel: `{tier="storage"}`, want: []string{"db-1"}},
		{sel: `{app="api", tier=""}`, want: []string{"api-1", "api-2"}},
		{sel: `{app="api", tier!=""}`, want: nil},
		{sel: `{app="nope"}`, want: nil},
		{sel: `{nope=~".+"}`, want: nil},
		{sel: `{app="nul"}`, want: []string{"a\x00b"}},
		{sel: `{pod="a\u0000b"}`, want: []string{"a\x00b"}},
		{sel: `{app!~".*"}`, want: nil},
		{sel: `{app=~"api", app!="api"}`, want: nil},
		{sel: `{pod=~"api-.*", app=~"api"}`, want: []string{"api-1", "api-2"}},
		{sel: `{app=~"api", pod!~"api-1"}`, want: []string{"api-2"}},
		{sel: `{env="prod", pod=~".*-1"}`, want: []string{"api-1", "db-1", "gw-1", "web-1"}},
		{sel: `{app=~".*"}`, err: ErrMatchersEmpty},
		{sel: `{env=""}`, err: ErrMatchersEmpty},
		{sel: `{app!="api"}`, err: ErrMatchersEmpty},
		{sel: `{app!~"api", env=~".*"}`, err: ErrMatchersEmpty},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			got, err := s.Streams(context.Background(), "t1", 100*day, 101*day-1, selector(t, tc.sel))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := pods(got); !slices.Equal(g, tc.want) {
				t.Fatalf("pods = %q, want %q", g, tc.want)
			}
			if !slices.IsSortedFunc(got, func(a, b Stream) int { return cmp.Compare(a.Fingerprint, b.Fingerprint) }) {
				t.Fatalf("streams not sorted by fingerprint")
			}
			for _, st := range got {
				if st.Fingerprint != model.StreamFingerprint("t1", st.Labels) {
					t.Fatalf("stream %s has fingerprint %016x", st.Labels, uint64(st.Fingerprint))
				}
			}
		})
	}
}

func TestPeriodBoundaries(t *testing.T) {
	db := openTestDB(t)
	a := entry("t1", "t1/chunks/a", 10, 20, "app", "a")
	b := entry("t1", "t1/chunks/b", 2*day-5, 2*day+5, "app", "b") // periods 1 and 2
	c := entry("t1", "t1/chunks/c", 5*day, 5*day+1, "app", "c")
	n := entry("t1", "t1/chunks/n", -10, 10, "app", "n") // periods -1 and 0
	b2 := entry("t1", "t1/chunks/b2", 2*day+100, 2*day+200, "app", "b")
	addChunks(t, db, a, b, c, n, b2)
	s := NewStore(db)
	ctx := context.Background()
	all := selector(t, `{app=~".+"}`)

	streams := []struct {
		name          string
		from, through int64
		want          []string
	}{
		{"period 0", 0, day - 1, []string{"a", "n"}},
		{"last ns of period 0", day - 1, day - 1, []string{"a", "n"}},
		{"period 1 before b's chunk", day, 2*day - 10, []string{"b"}},
		{"first ns of period 2", 2 * day, 2 * day, []string{"b"}},
		{"periods 3 and 4 are empty", 3 * day, 5*day - 1, nil},
		{"period 5", 5 * day, 5 * day, []string{"c"}},
		{"everything", -day, 10 * day, []string{"a", "b", "c", "n"}},
		{"negative period only", -5, -5, []string{"n"}},
		{"inverted range", 10, 5, nil},
	}
	for _, tc := range streams {
		t.Run("streams/"+tc.name, func(t *testing.T) {
			got, err := s.Streams(ctx, "t1", tc.from, tc.through, all)
			if err != nil {
				t.Fatal(err)
			}
			var apps []string
			for _, st := range got {
				apps = append(apps, st.Labels.Get("app"))
			}
			slices.Sort(apps)
			if !slices.Equal(apps, tc.want) {
				t.Fatalf("apps = %q, want %q", apps, tc.want)
			}
		})
	}

	chunks := []struct {
		name          string
		from, through int64
		want          []string
	}{
		{"period 1 before the chunk", day, 2*day - 10, nil},
		{"chunk's first ns", 2*day - 5, 2*day - 5, []string{"t1/chunks/b"}},
		{"chunk's last ns, period 2", 2*day + 5, 3 * day, []string{"t1/chunks/b", "t1/chunks/b2"}},
		{"just after the chunk", 2*day + 6, 2*day + 99, nil},
		{"only b2", 2*day + 150, 2*day + 150, []string{"t1/chunks/b2"}},
		{"all periods, each ref once", -10 * day, 10 * day, []string{"t1/chunks/b", "t1/chunks/b2"}},
	}
	for _, tc := range chunks {
		t.Run("chunks/"+tc.name, func(t *testing.T) {
			refs, err := s.Chunks(ctx, "t1", b.Ref.Fingerprint, tc.from, tc.through)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, r := range refs {
				keys = append(keys, r.Key)
				want := b.Ref
				if r.Key == b2.Ref.Key {
					want = b2.Ref
				}
				if r != want {
					t.Fatalf("ref = %+v, want %+v", r, want)
				}
			}
			if !slices.Equal(keys, tc.want) {
				t.Fatalf("keys = %q, want %q", keys, tc.want)
			}
		})
	}
}

func TestLabelNamesAndValues(t *testing.T) {
	s := NewStore(fixtureDB(t))
	ctx := context.Background()
	from, through := 100*day, 101*day-1
	names := []struct {
		sel  string
		want []string
		err  error
	}{
		{"", []string{"app", "env", "pod", "tier"}, nil},
		{`{app="web"}`, []string{"app", "env", "pod"}, nil},
		{`{app="web", env=""}`, []string{"app", "pod"}, nil},
		{`{env=""}`, nil, ErrMatchersEmpty},
	}
	for _, tc := range names {
		t.Run("names"+tc.sel, func(t *testing.T) {
			var ms = selectorOrNil(t, tc.sel)
			got, err := s.LabelNames(ctx, "t1", from, through, ms)
			if !errors.Is(err, tc.err) || !slices.Equal(got, tc.want) {
				t.Fatalf("LabelNames = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
	values := []struct {
		name, sel string
		want      []string
	}{
		{"app", "", []string{"API", "api", "api-gw", "db", "nul", "web"}},
		{"env", "", []string{"dev", "prod"}},
		{"tier", "", []string{"storage"}},
		{"missing", "", []string{}},
		{"app", `{env="prod"}`, []string{"API", "api", "api-gw", "db", "web"}},
		{"app", `{env=""}`, []string{"nul", "web"}},
		{"env", `{app=~"api|web"}`, []string{"dev", "prod"}},
		{"tier", `{app="api"}`, []string{}},
	}
	for _, tc := range values {
		t.Run("values/"+tc.name+tc.sel, func(t *testing.T) {
			got, err := s.LabelValues(ctx, "t1", tc.name, from, through, selectorOrNil(t, tc.sel))
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("LabelValues = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	t.Run("time bounded", func(t *testing.T) {
		got, err := s.LabelValues(ctx, "t1", "pod", 90*day, 91*day-1, nil)
		if err != nil || !slices.Equal(got, []string{"old-1"}) {
			t.Fatalf("LabelValues in period 90 = %q, %v", got, err)
		}
		got, err = s.LabelValues(ctx, "t1", "pod", 0, 200*day, selectorOrNil(t, `{env="prod", app="api"}`))
		if err != nil || !slices.Equal(got, []string{"api-1", "old-1"}) {
			t.Fatalf("LabelValues over all periods = %q, %v", got, err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		got, err := s.LabelValues(ctx, "t2", "pod", 0, 200*day, nil)
		if err != nil || !slices.Equal(got, []string{"api-1"}) {
			t.Fatalf("LabelValues of t2 = %q, %v", got, err)
		}
		got, err = s.LabelValues(ctx, "t", "pod", 0, 200*day, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("LabelValues of tenant prefix t = %q, %v", got, err)
		}
	})
}

func selectorOrNil(t *testing.T, sel string) []*labels.Matcher {
	if sel == "" {
		return nil
	}
	return selector(t, sel)
}

func TestCanceledContext(t *testing.T) {
	s := NewStore(fixtureDB(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Streams(ctx, "t1", 0, 200*day, selector(t, `{app=~".+"}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Streams error = %v, want context.Canceled", err)
	}
	if _, err := s.LabelNames(ctx, "t1", 0, 200*day, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("LabelNames error = %v, want context.Canceled", err)
	}
}
