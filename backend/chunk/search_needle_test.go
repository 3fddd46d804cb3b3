package chunk

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkIndex compares needleSearch.index, and pairIndex from several
// starts, with bytes.Index.
func checkIndex(t *testing.T, s, needle []byte) {
	t.Helper()
	var f needleSearch
	f.reset(needle)
	if !f.is(needle) {
		t.Fatalf("search of %q does not know its needle", needle)
	}
	if got, exp := f.index(s), bytes.Index(s, needle); got != exp {
		t.Fatalf("index(%q, %q) = %d, want %d", abbrev(s), abbrev(needle), got, exp)
	}
	if len(needle) < 2 {
		return
	}
	for _, from := range []int{0, 1, 7, 8, 15, 16, 17, len(s) / 2, len(s) - len(needle), len(s) - len(needle) + 1} {
		if from < 0 || from > len(s) {
			continue
		}
		exp := bytes.Index(s[from:], needle)
		if exp >= 0 {
			exp += from
		}
		if got := f.pairIndex(s, from); got != exp {
			t.Fatalf("pairIndex(%q, %q, %d) = %d, want %d", abbrev(s), abbrev(needle), from, got, exp)
		}
	}
}

func abbrev(b []byte) string {
	if len(b) > 80 {
		return string(b[:40]) + "..." + string(b[len(b)-40:])
	}
	return string(b)
}

func TestNeedleSearchCases(t *testing.T) {
	common := strings.Repeat("0 e\"1at2.ros:ci/d438n5l-69p7m", 40)
	qs := strings.Repeat("Q", 3000)
	long := strings.Repeat("abcdefghij", 30) // 300 bytes
	for _, tc := range []struct{ name, s, needle string }{
		{"empty text", "", "a"},
		{"empty needle", "abc", ""},
		{"false start at the last start", "zzzzzzzzx", "ax"},
		{"needle longer than text", "abc", "abcd"},
		{"needle is the text", "abcd", "abcd"},
		{"one byte first", "xbc", "x"},
		{"one byte last", "abcx", "x"},
		{"one byte absent", "abc", "x"},
		{"at start", "needle and more text after it, well past sixteen bytes", "needle"},
		{"at end", "well past sixteen bytes of text before the needle", "needle"},
		{"at last start of a long text", strings.Repeat("z", 1000) + "needle", "needle"},
		{"one byte short at the end", strings.Repeat("z", 1000) + "needl", "needle"},
		{"repeated prefix", strings.Repeat("a", 500) + "ab", "aaab"},
		{"repeated prefix absent", strings.Repeat("a", 500), "aaab"},
		{"overlapping self", strings.Repeat("abab", 100) + "ababc", "ababc"},
		{"rare byte common in text", qs + "Qx" + qs, "QQQQx"},
		{"rare byte common, absent", qs, "QQQQx"},
		{"rare byte common, pair near miss", strings.Repeat("Q\\", 2000) + "Q\\Q\\!", "Q\\Q\\!"},
		{"common bytes only", common + "0 e0 e0 e" + common, "0 e0 e0 e"},
		{"common bytes only, absent", common + common, "0 e0 e0 e"},
		{"invalid utf-8", strings.Repeat("\xff\xfe\xc3", 300) + "\xff\xc3\x28" + "\xfe", "\xff\xc3\x28"},
		{"invalid utf-8 absent", strings.Repeat("\xff\xfe\xc3", 300), "\xc3\xc3"},
		{"long needle", strings.Repeat("x", 99) + long + "tail", long},
		{"long needle near miss", long[:299] + "J" + long, long},
		{"long needle absent", long[:299] + "J" + long[1:], long},
		{"nul bytes", strings.Repeat("\x00", 100) + "\x00\x01", "\x00\x01"},
		{"all 0x80", strings.Repeat("\x80", 100), "\x80\x80\x81"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkIndex(t, []byte(tc.s), []byte(tc.needle))
		})
	}
}

// TestNeedleSearchRandom compares with bytes.Index on random texts over
// small alphabets (many partial matches and false starts), needles taken
// from the text (at random places, its start and its end), mutated near
// misses and random needles.
func TestNeedleSearchRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	alphabets := []string{"ab", "0 e", "Qx", "xyz\xff\xc3", "0123456789abcdef", ""}
	randText := func(alpha string, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			if alpha == "" {
				b[i] = byte(r.UintN(256))
			} else {
				b[i] = alpha[r.IntN(len(alpha))]
			}
		}
		return b
	}
	for _, alpha := range alphabets {
		t.Run(strings.ToValidUTF8(alpha, "?"), func(t *testing.T) {
			for range 400 {
				s := randText(alpha, r.IntN(700))
				n := 1 + r.IntN(20)
				if r.IntN(8) == 0 {
					n = 60 + r.IntN(100)
				}
				var needle []byte
				switch k := r.IntN(5); {
				case len(s) < n || k == 0:
					needle = randText(alpha, n)
				case k == 1:
					needle = bytes.Clone(s[:n])
				case k == 2:
					needle = bytes.Clone(s[len(s)-n:])
				default:
					at := r.IntN(len(s) - n + 1)
					needle = bytes.Clone(s[at : at+n])
					if k == 4 {
						needle[r.IntN(n)] ^= 1 // a near miss (or another hit)
					}
				}
				checkIndex(t, s, needle)
			}
		})
	}
}

func TestRarestBytes(t *testing.T) {
	for _, tc := range []struct {
		needle      string
		rare, rare2 int
	}{
		{"a", 0, 0},
		{"connection reset by peer 0xdeadbeef", 26, 18}, // 'x', then 'y'
		{"QQQQx", 0, 4}, // a different value next, even if commoner
		{"\x01e", 0, 1}, // unlisted bytes are the rarest
	} {
		rare, rare2 := rarestBytes([]byte(tc.needle))
		if rare != tc.rare || rare2 != tc.rare2 {
			t.Errorf("rarestBytes(%q) = %d, %d, want %d, %d", tc.needle, rare, rare2, tc.rare, tc.rare2)
		}
	}
}
