package ring

import (
	"fmt"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

func TestTokenFor(t *testing.T) {
	tests := []struct {
		name string
		fp   model.Fingerprint
		want uint32
	}{
		{"zero", 0, 0},
		{"low half only", 0x0000_0000_dead_beef, 0xdead_beef},
		{"high half only", 0xdead_beef_0000_0000, 0xdead_beef},
		{"halves cancel", 0x1234_5678_1234_5678, 0},
		{"both halves", 0xffff_0000_0000_ffff, 0xffff_ffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenFor(tt.fp); got != tt.want {
				t.Fatalf("TokenFor(%#x) = %#x, want %#x", uint64(tt.fp), got, tt.want)
			}
		})
	}
}

func TestTokenForSpreadsStreams(t *testing.T) {
	// Streams differing in one label value land all over the ring: each
	// sixteenth of the token space gets a fair share of 16k streams.
	const n, buckets = 16384, 16
	var counts [buckets]int
	for i := range n {
		fp := model.StreamFingerprint("fake", labels.FromStrings("app", "api", "pod", fmt.Sprintf("api-%d", i)))
		counts[TokenFor(fp)/(1<<32/buckets)]++
	}
	for b, c := range counts {
		if c < n/buckets*3/4 || c > n/buckets*5/4 {
			t.Errorf("bucket %d holds %d of %d streams, want within 25%% of %d", b, c, n, n/buckets)
		}
	}
}

func TestGenerateTokens(t *testing.T) {
	other := GenerateTokens("other", 512, nil)
	takenByOther := func(t uint32) bool { _, ok := slices.BinarySearch(other, t); return ok }
	tests := []struct {
		name  string
		seed  string
		n     int
		taken func(uint32) bool
	}{
		{"one", "ingester-0", 1, nil},
		{"default count", "ingester-0", 128, nil},
		{"many", "ingester-1", 4096, nil},
		{"empty seed", "", 16, nil},
		{"skips taken", "ingester-2", 128, takenByOther},
		{"skips odd tokens", "ingester-3", 256, func(t uint32) bool { return t%2 == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GenerateTokens(tt.seed, tt.n, tt.taken)
			if len(got) != tt.n {
				t.Fatalf("got %d tokens, want %d", len(got), tt.n)
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("tokens not sorted and unique at %d: %d then %d", i, got[i-1], got[i])
				}
			}
			if tt.taken != nil {
				for _, tok := range got {
					if tt.taken(tok) {
						t.Fatalf("token %d was taken", tok)
					}
				}
			}
			if again := GenerateTokens(tt.seed, tt.n, tt.taken); !slices.Equal(again, got) {
				t.Fatal("same seed gave different tokens")
			}
		})
	}
}

func TestGenerateTokensSeedsDiffer(t *testing.T) {
	seen := map[uint32]string{}
	for i := range 16 {
		id := fmt.Sprintf("ingester-%d", i)
		for _, tok := range GenerateTokens(id, 128, nil) {
			if prev, dup := seen[tok]; dup {
				// 2048 draws from 2^32: a collision means the seeds are not mixed.
				t.Fatalf("token %d generated for both %s and %s", tok, prev, id)
			}
			seen[tok] = id
		}
	}
}

func TestGenerateTokensEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		taken func(uint32) bool
		check func(uint32) bool
	}{
		{"zero", 0, nil, nil},
		{"negative", -3, nil, nil},
		// Only 4096 tokens are free: random draws almost never hit one, so
		// the linear fallback must find them.
		{"nearly full ring", 5, func(t uint32) bool { return t%(1<<20) != 0 }, func(t uint32) bool { return t%(1<<20) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GenerateTokens("seed", tt.n, tt.taken)
			if want := max(tt.n, 0); len(got) != want {
				t.Fatalf("got %d tokens, want %d", len(got), want)
			}
			for i, tok := range got {
				if tt.check != nil && !tt.check(tok) {
					t.Fatalf("token %d is not free", tok)
				}
				if i > 0 && tok <= got[i-1] {
					t.Fatalf("tokens not sorted and unique: %v", got)
				}
			}
		})
	}
}

func TestGenerateTokensStable(t *testing.T) {
	// The sequence is part of the contract: an ingester that registers
	// again after losing its state picks the same tokens in every release.
	tests := []struct {
		seed string
		n    int
		want []uint32
	}{
		{"ingester-0", 4, []uint32{202089526, 306747879, 1144439343, 1182695332}},
		{"", 2, []uint32{76304218, 3900181756}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.seed), func(t *testing.T) {
			if got := GenerateTokens(tt.seed, tt.n, nil); !slices.Equal(got, tt.want) {
				t.Fatalf("GenerateTokens(%q, %d) = %v, want %v", tt.seed, tt.n, got, tt.want)
			}
		})
	}
}
