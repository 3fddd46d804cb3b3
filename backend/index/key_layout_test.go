package index

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestPeriodOf(t *testing.T) {
	day := PeriodNanos
	for _, tc := range []struct {
		name string
		ts   int64
		want Period
	}{
		{"epoch", 0, 0},
		{"last ns of day 0", day - 1, 0},
		{"first ns of day 1", day, 1},
		{"day 19000 midday", 19000*day + day/2, 19000},
		{"one ns before epoch", -1, -1},
		{"first ns of day -1", -day, -1},
		{"last ns of day -2", -day - 1, -2},
		{"max int64", math.MaxInt64, Period(math.MaxInt64 / day)},
		{"min int64", math.MinInt64, Period(math.MinInt64/day - 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PeriodOf(tc.ts); got != tc.want {
				t.Fatalf("PeriodOf(%d) = %d, want %d", tc.ts, got, tc.want)
			}
			if p := PeriodOf(tc.ts); p.Start() > tc.ts && p.Start() <= math.MaxInt64-day {
				t.Fatalf("period %d starts at %d, after %d", p, p.Start(), tc.ts)
			}
		})
	}
}

func TestPeriodAndTimeEncodingSortsNumerically(t *testing.T) {
	periods := []Period{math.MinInt32, -106752, -2, -1, 0, 1, 2, 19000, 106751, math.MaxInt32}
	for i := 1; i < len(periods); i++ {
		a, b := appendPeriod(nil, periods[i-1]), appendPeriod(nil, periods[i])
		if bytes.Compare(a, b) >= 0 {
			t.Fatalf("period %d encodes after %d", periods[i-1], periods[i])
		}
		if decodePeriod(b) != periods[i] {
			t.Fatalf("period %d round-trips to %d", periods[i], decodePeriod(b))
		}
	}
	times := []int64{math.MinInt64, -5, -1, 0, 1, 1 << 40, math.MaxInt64}
	for i := 1; i < len(times); i++ {
		a, b := appendTime(nil, times[i-1]), appendTime(nil, times[i])
		if bytes.Compare(a, b) >= 0 || decodeTime(b) != times[i] {
			t.Fatalf("time %d / %d: bad encoding", times[i-1], times[i])
		}
	}
}

func TestStringEncoding(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []byte
	}{
		{"empty", "", []byte{0, 0}},
		{"plain", "ab", []byte{'a', 'b', 0, 0}},
		{"zero byte", "a\x00b", []byte{'a', 0, 1, 'b', 0, 0}},
		{"trailing zero", "a\x00", []byte{'a', 0, 1, 0, 0}},
		{"0xff bytes", "\xff\xfe", []byte{0xff, 0xfe, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := appendString(nil, tc.in)
			if !bytes.Equal(enc, tc.want) {
				t.Fatalf("appendString(%q) = %x, want %x", tc.in, enc, tc.want)
			}
			got, rest, err := decodeString(append(enc, 'X'))
			if err != nil || got != tc.in || string(rest) != "X" {
				t.Fatalf("decodeString = %q, %q, %v", got, rest, err)
			}
		})
	}
	for _, bad := range [][]byte{{'a'}, {'a', 0}, {'a', 0, 2, 0, 0}} {
		if _, _, err := decodeString(bad); err == nil {
			t.Fatalf("decodeString(%x) accepted corrupt input", bad)
		}
	}
}

// The escaped encoding must keep string order and be prefix-free, so that
// composite keys sort by their first field first.
func TestStringEncodingOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, 'a', 'b', 0xff}
	gen := func() string {
		b := make([]byte, rng.IntN(4))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 5000 {
		a, b := gen(), gen()
		// Compare as composite keys (field, then a suffix byte).
		ka := append(appendString(nil, a), 0xff)
		kb := append(appendString(nil, b), 0x00)
		want := strings.Compare(a, b)
		got := bytes.Compare(ka, kb)
		if want != 0 && got != want {
			t.Fatalf("order of %q vs %q: keys compare %d, strings %d", a, b, got, want)
		}
		if want == 0 && got <= 0 {
			t.Fatalf("equal strings %q: suffix order lost", a)
		}
		if strings.HasPrefix(b, a) && !bytes.HasPrefix(appendString(nil, b), appendStringPrefix(nil, a)) {
			t.Fatalf("prefix %q of %q: encoded prefix does not match", a, b)
		}
	}
}

func TestPrefixSuccessor(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
	} {
		if got := prefixSuccessor(tc.in); !bytes.Equal(got, tc.want) {
			t.Fatalf("prefixSuccessor(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}

func TestLabelsCodec(t *testing.T) {
	sb := labels.NewScratchBuilder(4)
	for _, ls := range []labels.Labels{
		labels.FromStrings("a", "1"),
		labels.FromStrings("app", "api", "namespace", "prod", "pod", "api-7f\x00x"),
		labels.FromStrings("k", strings.Repeat("v", 300)),
	} {
		enc := appendLabels(nil, ls)
		got, err := decodeLabels(enc, &sb)
		if err != nil || !labels.Equal(got, ls) {
			t.Fatalf("round trip of %s = %s, %v", ls, got, err)
		}
		for cut := 0; cut < len(enc); cut++ {
			if _, err := decodeLabels(enc[:cut], &sb); err == nil {
				t.Fatalf("decodeLabels accepted %s truncated to %d bytes", ls, cut)
			}
		}
	}
}

// TestKeyLayoutFrozen pins the bytes of every key kind (FORMAT.md, version
// 1): a change here breaks databases written by earlier releases.
func TestKeyLayoutFrozen(t *testing.T) {
	db := openTestDB(t)
	// Period 19723 is 2024-01-01; the chunk spans into 2024-01-02.
	from := int64(19723)*PeriodNanos + PeriodNanos - 1
	e := entry("fake", "k1", from, from+1, "app", "a")
	e.Ref.Size, e.Ref.Entries = 0x0102, 0x0304
	addChunks(t, db, e)
	fp := "31bdbd29c3d690ec" // model.StreamFingerprint("fake", {app="a"})
	if got := fmt.Sprintf("%016x", uint64(e.Ref.Fingerprint)); got != fp {
		t.Fatalf("fingerprint %s, want %s", got, fp)
	}
	tenant := "69" + "66616b650000" // 'i' "fake" 00 00
	want := []string{}
	for _, period := range []string{"80004d0b", "80004d0c"} {
		p := tenant + period
		want = append(want,
			// 'C' fp from key → through size entries
			fmt.Sprintf("%s43%s97a65eab92b3ffff6b31=97a65eab92b400000000010200000304", p, fp),
			// 'P' name value fp → empty
			fmt.Sprintf("%s50%s%s%s=", p, "6170700000", "610000", fp),
			// 'S' fp → labels
			fmt.Sprintf("%s53%s=01036170700161", p, fp))
	}
	got := dumpKeys(t, db)
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("key %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}
