package index

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"
)

// matchPlan splits a query's matchers by how they are evaluated.
type matchPlan struct {
	// postings are matchers that do not match "": a stream must carry the
	// label, so they are resolved through postings (cheap ones first).
	postings []*labels.Matcher
	// filters match "" and so also accept streams without the label; they
	// are checked against each candidate's labels.
	filters []*labels.Matcher
}

func planMatchers(ms []*labels.Matcher) (matchPlan, error) {
	var pl matchPlan
	for _, m := range ms {
		if m.Matches("") {
			pl.filters = append(pl.filters, m)
		} else {
			pl.postings = append(pl.postings, m)
		}
	}
	if len(pl.postings) == 0 {
		return pl, ErrMatchersEmpty
	}
	slices.SortStableFunc(pl.postings, func(a, b *labels.Matcher) int {
		return matcherCost(a) - matcherCost(b)
	})
	return pl, nil
}

// matcherCost ranks matchers: direct postings lookups before value scans.
func matcherCost(m *labels.Matcher) int {
	switch {
	case m.Type == labels.MatchEqual:
		return 0
	case setMatches(m) != nil:
		return 1
	default:
		return 2
	}
}

// setMatches returns the literal values a =~ matcher accepts, or nil when
// it is not a plain alternation of case-sensitive literals.
func setMatches(m *labels.Matcher) []string {
	if m.Type != labels.MatchRegexp {
		return nil
	}
	return m.SetMatches()
}

// lookupPrefix returns a prefix every value accepted by m starts with.
func lookupPrefix(m *labels.Matcher) string {
	if m.Type != labels.MatchRegexp {
		return ""
	}
	return m.Prefix()
}

func matchesAll(ls labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}
