package index

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// TestStreamsAgainstBruteForce compares Streams with a direct evaluation of
// the matchers over every stream, for random selectors and time ranges.
// With 6000 streams in one period, candidate sets fall on both sides of
// deferLimit, so both evaluation paths (postings and label filters) run.
func TestStreamsAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	db := openTestDB(t)
	type stream struct {
		e       ChunkEntry
		periods []Period
	}
	var all []stream
	var entries []ChunkEntry
	for i := range 6000 {
		lbls := []string{"app", fmt.Sprintf("app-%d", rng.IntN(30)), "pod", fmt.Sprintf("pod-%d", i)}
		if r := rng.IntN(4); r > 0 {
			lbls = append(lbls, "env", []string{"", "prod", "dev", "staging"}[r])
		}
		if rng.IntN(3) == 0 {
			lbls = append(lbls, "level", []string{"info", "warn", "error"}[rng.IntN(3)])
		}
		from := int64(rng.IntN(3))*day + rng.Int64N(day)
		if i < 4000 {
			from = rng.Int64N(day / 2) // most streams in period 0
		}
		through := from + rng.Int64N(day/2)
		e := entry("t1", fmt.Sprintf("t1/chunks/%d", i), from, through, lbls...)
		entries = append(entries, e)
		var ps []Period
		for p := PeriodOf(from); p <= PeriodOf(through); p++ {
			ps = append(ps, p)
		}
		all = append(all, stream{e, ps})
	}
	addChunks(t, db, entries...)
	s := NewStore(db)

	names := []string{"app", "pod", "env", "level", "missing"}
	values := map[string][]string{
		"app":     {"app-1", "app-2", "app-17", "nope"},
		"pod":     {"pod-1", "pod-4001", "pod-59"},
		"env":     {"prod", "dev", "staging", ""},
		"level":   {"info", "error", ""},
		"missing": {"", "x"},
	}
	regexes := []string{".*", ".+", "app-1.*", "pod-[0-9]", "pod-1.*", "prod|dev", "(?i)PROD", "", "app-(1|2|3)", ".*-5.*"}
	types := []labels.MatchType{labels.MatchEqual, labels.MatchNotEqual, labels.MatchRegexp, labels.MatchNotRegexp}
	randomMatcher := func() *labels.Matcher {
		n := names[rng.IntN(len(names))]
		tp := types[rng.IntN(len(types))]
		v := values[n][rng.IntN(len(values[n]))]
		if tp == labels.MatchRegexp || tp == labels.MatchNotRegexp {
			v = regexes[rng.IntN(len(regexes))]
		}
		return labels.MustNewMatcher(tp, n, v)
	}

	// Large first postings sets followed by scanning matchers.
	fixed := []string{
		`{app=~".+", pod=~"pod-1.*"}`,
		`{pod=~".+", env!~"prod"}`,
		`{app=~".+", env=~"prod|dev", level!=""}`,
		`{pod=~"pod-.*", app!~"app-1.*", level=~"info|warn"}`,
	}
	checked := 0
	for i := range 400 + len(fixed) {
		var ms []*labels.Matcher
		from, through := int64(0), day-1
		if i < len(fixed) {
			ms = selector(t, fixed[i])
		} else {
			ms = []*labels.Matcher{randomMatcher()}
			for rng.IntN(2) == 0 && len(ms) < 4 {
				ms = append(ms, randomMatcher())
			}
			from = rng.Int64N(4*day) - day/2
			through = from + rng.Int64N(2*day)
		}
		got, err := s.Streams(context.Background(), "t1", from, through, ms)
		var want []string
		nonEmpty := false
		for _, m := range ms {
			nonEmpty = nonEmpty || !m.Matches("")
		}
		if !nonEmpty {
			if !errors.Is(err, ErrMatchersEmpty) {
				t.Fatalf("case %d %v: error = %v, want ErrMatchersEmpty", i, ms, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("case %d %v: %v", i, ms, err)
		}
		for _, st := range all {
			inRange := slices.ContainsFunc(st.periods, func(p Period) bool {
				return p >= PeriodOf(from) && p <= PeriodOf(through)
			})
			if inRange && matchesAll(st.e.Labels, ms) {
				want = append(want, st.e.Labels.Get("pod"))
			}
		}
		slices.Sort(want)
		if g := pods(got); !slices.Equal(g, want) {
			t.Fatalf("case %d %v [%d, %d]: got %d streams, want %d", i, ms, from, through, len(g), len(want))
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("only %d non-trivial cases", checked)
	}
}
