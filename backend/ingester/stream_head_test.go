package ingester

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lode-logs/lode/backend/model"
)

// TestHeadPages appends records of various sizes to a head and checks that
// its pages hold the entries in order, each page whole entries, in about
// as much memory as the entries take.
func TestHeadPages(t *testing.T) {
	line := func(n, size int) string {
		s := fmt.Sprintf("line %d ", n)
		return s + strings.Repeat("x", max(0, size-len(s)))
	}
	cases := []struct {
		name              string
		records, per, len int
	}{
		{"small records", 400, 3, 200},
		{"records larger than a page", 6, 400, 300},
		{"entries of an eighth of a page", 20, 16, headPageSize/8 - 4},
		{"entries larger than a page", 5, 2, 3 * headPageSize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pool pagePool
			var h headBlock
			h.reset(&pool)
			var want []byte
			n := 0
			for r := 0; r < c.records; r++ {
				var es []model.Entry
				for k := 0; k < c.per; k++ {
					es = append(es, ent(t0+int64(n), line(n, c.len)))
					n++
				}
				body := walBody(es...)
				h.appendEntries(body, &pool)
				want = append(want, body...)
			}
			if !bytes.Equal(h.appendTo(nil), want) || h.size != len(want) {
				t.Fatalf("head holds %d bytes, not the %d appended", h.size, len(want))
			}
			held, got := 0, 0
			for k, p := range h.pages {
				if err := checkEntries(p); err != nil {
					t.Fatalf("page %d does not hold whole entries: %v", k, err)
				}
				r := entryReader{b: p}
				var e walEntry
				for r.next(&e) {
					got++
				}
				held += cap(p)
			}
			if got != n {
				t.Fatalf("pages hold %d entries, want %d", got, n)
			}
			// A page is left partly empty only when the next entry does not
			// fit in it.
			if limit := len(want) + len(want)/7 + headPageSize; held > limit {
				t.Errorf("pages hold %d bytes of memory for %d bytes of entries", held, len(want))
			}
			h.reset(&pool)
			if h.size != 0 || len(h.pages) != 0 || !h.empty() {
				t.Fatal("reset left entries")
			}
		})
	}
}

// TestHashList checks the dedup list against a map, with lookups after
// runs of additions of every length around the merge limit, as in-order
// and out-of-order pushes make them, and a reset.
func TestHashList(t *testing.T) {
	rng := uint64(1)
	next := func() uint64 { rng = rng*6364136223846793005 + 1442695040888963407; return rng ^ rng>>29 }
	for _, run := range []int{1, 7, 64, 500, 5000} {
		t.Run(fmt.Sprintf("runs of %d", run), func(t *testing.T) {
			var l hashList
			want := map[uint64]bool{}
			for round := 0; round < 2; round++ {
				for k := 0; k < 3000; k++ {
					h := next() & 0xffff // small range: repeats
					if k%run == 0 {
						if l.contains(h) != want[h] {
							t.Fatalf("contains(%d) = %v", h, !want[h])
						}
					}
					l.add(h)
					want[h] = true
				}
				for h := range want {
					if !l.contains(h) {
						t.Fatalf("lost %d", h)
					}
				}
				if !slices.IsSorted(l.h) {
					t.Fatal("list not sorted after lookups")
				}
				l.reset()
				clear(want)
				if l.contains(next()) {
					t.Fatal("reset left hashes")
				}
			}
		})
	}
}
