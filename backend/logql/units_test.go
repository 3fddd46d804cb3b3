package logql

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5m", 5 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"30m1h", 90 * time.Minute, true},
		{"1.5h", 90 * time.Minute, true},
		{"250ms", 250 * time.Millisecond, true},
		{"1d", 24 * time.Hour, true},
		{"1w", 7 * 24 * time.Hour, true},
		{"1y", 365 * 24 * time.Hour, true},
		{"1d2h3m4s5ms", 26*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Millisecond, true},
		{"2µs", 2 * time.Microsecond, true},
		{"2us", 2 * time.Microsecond, true},
		{"7ns", 7, true},
		{"-1h", -time.Hour, true},
		{"0s", 0, true},
		{"", 0, false},
		{"5", 0, false},
		{"1h30", 0, false},
		{"5M", 0, false},
		{"1.2.3s", 0, false},
		{"h", 0, false},
		{"300000000h", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ParseDuration(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{5 * time.Minute, "5m"},
		{90 * time.Minute, "1h30m"},
		{26*time.Hour + 5*time.Millisecond, "1d2h5ms"},
		{7 * 24 * time.Hour, "7d"},
		{-time.Hour, "-1h"},
		{1500 * time.Microsecond, "1.5ms"},
		{time.Hour + time.Microsecond, "1h0m0.000001s"},
		{3, "3ns"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			got := FormatDuration(tc.in)
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			back, ok := ParseDuration(got)
			if !ok || back != tc.in {
				t.Fatalf("%q parses back as %v %v", got, back, ok)
			}
		})
	}
}

func TestBytes(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"10KB", 10000, true},
		{"10kb", 10000, true},
		{"10K", 10000, true},
		{"1KiB", 1024, true},
		{"1ki", 1024, true},
		{"1.5MB", 1500000, true},
		{"2MiB", 2 << 20, true},
		{"3GB", 3e9, true},
		{"1TiB", 1 << 40, true},
		{"1PB", 1e15, true},
		{"7B", 7, true},
		{"7", 7, true},
		{"7 MB", 7e6, true},
		{"7XB", 0, false},
		{"MB", 0, false},
		{"99999999PB", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ParseBytes(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	for _, n := range []uint64{0, 1, 999, 1000, 1024, 1500, 10000, 1 << 20, 3e9, 1 << 50, 2e18, 1<<64 - 1} {
		s := FormatBytes(n)
		back, ok := ParseBytes(s)
		if !ok || back != n {
			t.Errorf("FormatBytes(%d) = %q parses back as %d %v", n, s, back, ok)
		}
	}
}
