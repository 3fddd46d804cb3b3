package frontend

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/model"
)

func TestSplitMetric(t *testing.T) {
	h := int64(time.Hour)
	m := int64(time.Minute)
	tests := []struct {
		name                       string
		start, end, step, interval int64
		want                       []part
	}{
		{"aligned", 0, 3 * h, 30 * m, h, []part{{0, 30 * m}, {h, h + 30*m}, {2 * h, 2*h + 30*m}, {3 * h, 3 * h}}},
		{"odd start", 10 * m, 2*h + 15*m, 20 * m, h, []part{{10 * m, 50 * m}, {70 * m, 110 * m}, {130 * m, 2*h + 15*m}}},
		{"last boundary after the last step", 10 * m, 2*h + 5*m, 20 * m, h, []part{{10 * m, 50 * m}, {70 * m, 2*h + 5*m}}},
		{"step over interval", 0, 5 * h, 2 * h, h, []part{{0, 0}, {2 * h, 2 * h}, {4 * h, 5 * h}}},
		{"inside one interval", 5 * m, 55 * m, m, h, []part{{5 * m, 55 * m}}},
		{"instant-like", h, h, m, h, []part{{h, h}}},
		{"end on a boundary between steps", 0, h, 7 * m, h, []part{{0, h}}},
		{"negative times", -90 * m, 30 * m, 15 * m, h, []part{{-90 * m, -75 * m}, {-h, -15 * m}, {0, 30 * m}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitMetric(tt.start, tt.end, tt.step, tt.interval); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSplitMetricSteps: for random ranges, the parts evaluate exactly the
// steps of the whole query, in order, each part within one interval.
func TestSplitMetricSteps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		interval := 1 + r.Int64N(1000)
		step := 1 + r.Int64N(300)
		start := r.Int64N(5000) - 2500
		end := start + r.Int64N(5000)
		var want, got []int64
		for s := start; s <= end; s += step {
			want = append(want, s)
		}
		for _, p := range splitMetric(start, end, step, interval) {
			if (p.start-start)%step != 0 || p.end < p.start || floorDiv(p.start, interval) != floorDiv(min(p.end, p.start+((p.end-p.start)/step)*step), interval) {
				t.Fatalf("start %d end %d step %d interval %d: bad part %v", start, end, step, interval, p)
			}
			for s := p.start; s <= p.end; s += step {
				got = append(got, s)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("start %d end %d step %d interval %d: steps %v, want %v", start, end, step, interval, got, want)
		}
	}
}

func TestSplitLogs(t *testing.T) {
	h := int64(time.Hour)
	tests := []struct {
		name                 string
		start, end, interval int64
		dir                  model.Direction
		want                 []part
	}{
		{"forward", 30, 3*h + 5, h, model.Forward, []part{{30, h}, {h, 2 * h}, {2 * h, 3 * h}, {3 * h, 3*h + 5}}},
		{"backward", 30, 3*h + 5, h, model.Backward, []part{{3 * h, 3*h + 5}, {2 * h, 3 * h}, {h, 2 * h}, {30, h}}},
		{"aligned", 0, 2 * h, h, model.Forward, []part{{0, h}, {h, 2 * h}}},
		{"one part", 5, 10, h, model.Backward, []part{{5, 10}}},
		{"empty range", h, h, h, model.Forward, []part{{h, h}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitLogs(tt.start, tt.end, tt.interval, tt.dir); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlanBoundsParts(t *testing.T) {
	f := &Frontend{cfg: Config{SplitInterval: time.Millisecond}}
	q := &rangeQuery{start: 0, end: int64(time.Hour), dir: model.Forward}
	if n := len(f.plan(q)); n > maxParts || n < maxParts/2 {
		t.Fatalf("%d parts, want about %d", n, maxParts)
	}
}
