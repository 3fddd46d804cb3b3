package index

import (
	"slices"

	"github.com/lode-logs/lode/backend/model"
)

// Postings are sorted, duplicate-free fingerprint lists.

// intersect returns the fingerprints in both a and b, reusing a.
func intersect(a, b []model.Fingerprint) []model.Fingerprint {
	out := a[:0]
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// normalize sorts fps and drops duplicates.
func normalize(fps []model.Fingerprint) []model.Fingerprint {
	slices.Sort(fps)
	return slices.Compact(fps)
}
