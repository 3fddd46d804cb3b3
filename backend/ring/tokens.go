package ring

import (
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/lode-logs/lode/backend/model"
)

// TokenFor maps a stream to the ring: the 32-bit token of its 64-bit
// fingerprint (both halves folded together, so every bit counts).
// Never change it: it decides which ingesters hold a stream.
func TokenFor(fp model.Fingerprint) uint32 {
	return uint32(fp) ^ uint32(fp>>32)
}

// GenerateTokens returns n distinct tokens, sorted ascending, derived
// deterministically from seed (the instance id): the same seed, n and
// taken give the same tokens. Tokens for which taken returns true (those
// of other instances) are skipped; taken may be nil. It returns fewer than
// n tokens only when fewer than n tokens are free.
//
// The tokens are the 32-bit outputs of a splitmix64 sequence seeded with
// the xxhash of seed; this sequence is part of the contract.
func GenerateTokens(seed string, n int, taken func(uint32) bool) []uint32 {
	if n <= 0 {
		return nil
	}
	mine := make(map[uint32]struct{}, n)
	free := func(t uint32) bool {
		if _, dup := mine[t]; dup {
			return false
		}
		return taken == nil || !taken(t)
	}
	state := xxhash.Sum64String(seed)
	// Random draws find free tokens quickly unless nearly the whole space
	// is taken; past the budget, a linear scan guarantees termination.
	for budget := 64*n + 1<<16; budget > 0 && len(mine) < n; budget-- {
		var x uint64
		state, x = splitmix64(state)
		if t := uint32(x >> 32); free(t) {
			mine[t] = struct{}{}
		}
	}
	if len(mine) < n {
		start := uint32(state)
		for i := uint64(0); i < 1<<32 && len(mine) < n; i++ {
			if t := start + uint32(i); free(t) {
				mine[t] = struct{}{}
			}
		}
	}
	out := make([]uint32, 0, len(mine))
	for t := range mine {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// splitmix64 advances state and returns the new state and its output.
func splitmix64(state uint64) (uint64, uint64) {
	state += 0x9e3779b97f4a7c15
	z := state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return state, z ^ (z >> 31)
}
