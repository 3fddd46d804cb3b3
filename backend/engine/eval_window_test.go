package engine

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// TestWindowAggregationPaths checks which storage ability a range
// aggregation uses and what it asks for.
func TestWindowAggregationPaths(t *testing.T) {
	type want struct {
		counts     bool // CountEntries, else SelectStreams (or SelectLogs)
		streams    bool
		needles    []string
		bytes      bool
		allMD      bool
		metadataBy []string
		tsOnly     bool
	}
	tests := []struct {
		name  string
		query string
		want  want
	}{
		{"count over a bare selector is counted by storage", `count_over_time({app="a"}[1m])`,
			want{counts: true, allMD: true}},
		{"sum by stream labels splits by those metadata names only", `sum by (app, pod) (count_over_time({app="a"}[1m]))`,
			want{counts: true, metadataBy: []string{"app", "pod"}}},
		{"an _extracted name also splits by its metadata name", `sum by (app_extracted) (rate({app="a"}[1m]))`,
			want{counts: true, metadataBy: []string{"app_extracted", "app"}}},
		{"sum without keeps all metadata", `sum without (pod) (count_over_time({app="a"}[1m]))`,
			want{counts: true, allMD: true}},
		{"sum() needs no metadata", `sum(count_over_time({app="a"}[1m]))`,
			want{counts: true, metadataBy: []string{}}},
		{"contains filters are counted by storage", `sum(bytes_over_time({app="a"} |= "error" |= "line" [1m]))`,
			want{counts: true, needles: []string{"error", "line"}, bytes: true, metadataBy: []string{}}},
		{"empty contains filters match every line", `absent_over_time({app="a"} |= "" [1m])`,
			want{counts: true, allMD: true}},
		{"a negative filter reads stream by stream", `sum(rate({app="a"} |= "error" != "debug" [1m]))`,
			want{streams: true, needles: []string{"error"}}},
		{"a parser reads stream by stream", `sum by (level) (count_over_time({app="a"} | logfmt [1m]))`,
			want{streams: true}},
		{"an or filter reads stream by stream", `count_over_time({app="a"} |= "a" or "b" [1m])`,
			want{streams: true}},
		{"unwrap merges streams", `sum_over_time({app="a"} | logfmt | unwrap x [1m])`,
			want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, q := newTestEngine(t, Options{})
			_, err := eng.Query(context.Background(), Params{Tenant: testTenant, Query: tt.query, Start: t0, End: t0.Add(time.Minute), Step: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(q.Counts) == 1; got != tt.want.counts {
				t.Fatalf("counted by storage: %v, want %v", got, tt.want.counts)
			}
			var needles [][]byte
			if tt.want.counts {
				c := q.Counts[0]
				needles = c.Needles
				if c.Bytes != tt.want.bytes || c.AllMetadata != tt.want.allMD || !slices.Equal(c.MetadataBy, tt.want.metadataBy) ||
					(c.MetadataBy == nil) != (tt.want.metadataBy == nil) {
					t.Fatalf("count select = bytes %v all metadata %v by %q", c.Bytes, c.AllMetadata, c.MetadataBy)
				}
			} else {
				if len(q.Selects) != 1 {
					t.Fatalf("%d selects", len(q.Selects))
				}
				needles = q.Selects[0].Needles
			}
			var got []string
			for _, n := range needles {
				got = append(got, string(n))
			}
			if strings.Join(got, ",") != strings.Join(tt.want.needles, ",") {
				t.Fatalf("needles = %q, want %q", got, tt.want.needles)
			}
		})
	}
}

func TestCountSelectWindows(t *testing.T) {
	eng, q := newTestEngine(t, Options{})
	start, end := t0.Add(10*time.Minute), t0.Add(20*time.Minute)
	_, err := eng.Query(context.Background(), Params{Tenant: testTenant, Query: `count_over_time({app="a"}[5m] offset 1m)`, Start: start, End: end, Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	w := q.Counts[0].Windows
	want := model.Windows{First: start.Add(-time.Minute).UnixNano(), Step: int64(time.Minute), Range: int64(5 * time.Minute), Count: 11}
	if w != want {
		t.Fatalf("windows = %+v, want %+v", w, want)
	}
	// Instant queries have one window, whatever the step.
	_, err = eng.Query(context.Background(), Params{Tenant: testTenant, Query: `count_over_time({app="a"}[5m])`, End: end, Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := q.Counts[1].Windows; w.Count != 1 || w.Step <= 0 || w.First != end.UnixNano() {
		t.Fatalf("instant windows = %+v", w)
	}
}

// TestWindowSeriesEach checks the sweep over sparse window differences,
// with samples added out of time order (as streams come one by one).
func TestWindowSeriesEach(t *testing.T) {
	type add struct {
		first, last int
		n           int64
	}
	tests := []struct {
		name  string
		adds  []add
		count int
		want  string
	}{
		{"one window each", []add{{0, 0, 1}, {2, 2, 3}}, 4, "0:1 2:3"},
		{"sliding windows overlap", []add{{0, 2, 1}, {1, 3, 1}}, 4, "0:1 1:2 2:2 3:1"},
		{"out of order streams", []add{{3, 3, 1}, {0, 1, 2}, {1, 1, 1}}, 4, "0:2 1:3 3:1"},
		{"past the last window", []add{{1, 5, 1}}, 3, "1:1 2:1"},
		{"gaps stay empty", []add{{0, 0, 1}, {5, 5, 1}}, 6, "0:1 5:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &windowSeries{metric: labels.EmptyLabels()}
			for _, a := range tt.adds {
				s.add(a.first, min(a.last, tt.count-1), a.n, float64(a.n), 0, 0)
			}
			for name, each := range map[string]func(int, func(int, int64, float64)){"sparse": s.eachSparse, "dense": s.eachDense} {
				var got []string
				each(tt.count, func(i int, n int64, v float64) {
					if float64(n) != v {
						t.Fatalf("%s: window %d: n %d, v %v", name, i, n, v)
					}
					got = append(got, strconv.Itoa(i)+":"+strconv.FormatInt(n, 10))
				})
				if strings.Join(got, " ") != tt.want {
					t.Fatalf("%s: got %q, want %q", name, strings.Join(got, " "), tt.want)
				}
			}
		})
	}
}
