package model

import (
	"testing"
	"time"
)

func TestWindowsSpan(t *testing.T) {
	const s = int64(time.Second)
	tests := []struct {
		name        string
		w           Windows
		ts          int64
		first, last int
	}{
		{"end of a window is inside", Windows{First: 60 * s, Step: 60 * s, Range: 60 * s, Count: 3}, 60 * s, 0, 0},
		{"start of a window is outside", Windows{First: 60 * s, Step: 60 * s, Range: 60 * s, Count: 3}, 0, 1, 0},
		{"just after an end", Windows{First: 60 * s, Step: 60 * s, Range: 60 * s, Count: 3}, 60*s + 1, 1, 1},
		{"sliding windows", Windows{First: 60 * s, Step: 60 * s, Range: 150 * s, Count: 5}, 100 * s, 1, 3},
		{"clamped to the last window", Windows{First: 60 * s, Step: 60 * s, Range: 300 * s, Count: 2}, 100 * s, 1, 1},
		{"after every window", Windows{First: 60 * s, Step: 60 * s, Range: 60 * s, Count: 2}, 121 * s, 1, 0},
		{"in a gap", Windows{First: 60 * s, Step: 60 * s, Range: 10 * s, Count: 3}, 100 * s, 1, 0},
		{"before every window", Windows{First: -60 * s, Step: 60 * s, Range: 60 * s, Count: 3}, -120 * s, 1, 0},
		{"negative times", Windows{First: -60 * s, Step: 60 * s, Range: 60 * s, Count: 3}, -59 * s, 1, 1},
		{"one instant window", Windows{First: 100, Step: 1, Range: 50, Count: 1}, 51, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, last := tt.w.Span(tt.ts)
			if first != tt.first || last != tt.last {
				t.Fatalf("Span(%d) = %d, %d; want %d, %d", tt.ts, first, last, tt.first, tt.last)
			}
			// Against the definition.
			for i := range tt.w.Count {
				in := tt.w.End(i)-tt.w.Range < tt.ts && tt.ts <= tt.w.End(i)
				if in != (i >= first && i <= last) {
					t.Fatalf("window %d holds %d: %v, Span says [%d, %d]", i, tt.ts, in, first, last)
				}
			}
		})
	}
}

func TestWindowsOverlapping(t *testing.T) {
	w := Windows{First: 100, Step: 100, Range: 30, Count: 4} // (70,100] (170,200] (270,300] (370,400]
	tests := []struct {
		from, through int64
		first, last   int
	}{
		{0, 70, 1, 0}, {0, 71, 0, 0}, {100, 170, 0, 0}, {101, 170, 1, 0}, {101, 171, 1, 1}, {50, 500, 0, 3}, {120, 160, 1, 0}, {300, 300, 2, 2},
	}
	for _, tt := range tests {
		first, last := w.Overlapping(tt.from, tt.through)
		if first != tt.first || last != tt.last {
			t.Errorf("Overlapping(%d, %d) = %d, %d; want %d, %d", tt.from, tt.through, first, last, tt.first, tt.last)
		}
	}
	if w.Start() != 71 || w.Last() != 400 {
		t.Errorf("Start, Last = %d, %d", w.Start(), w.Last())
	}
}
