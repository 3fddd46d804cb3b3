package sender

import (
	"regexp"
	"strconv"
)

// Problems named in a 400 answer. Lode names streams by their index in the
// request ("(stream 3, all its entries)", "(stream 3, entry 7"); Loki names
// them by their labels ("stream '{app=\"api\"}'").
var (
	reStreamIndex  = regexp.MustCompile(`\(stream (\d+)(?:, (all its entries|entry \d+))?`)
	reStreamLabels = regexp.MustCompile(`stream '(\{[^']*\})'`)
	reMore         = regexp.MustCompile(`(?m)^and (\d+) more$`)
)

// countRejected returns how many entries of s a 400 answer rejected. The
// server wrote the rest (Loki's semantics). When the answer names nothing
// it recognises, every entry is counted as rejected.
func countRejected(msg string, s *sealed) int {
	n, named := 0, false
	wholeDone := map[int]bool{}
	for _, m := range reStreamIndex.FindAllStringSubmatch(msg, -1) {
		i, err := strconv.Atoi(m[1])
		if err != nil || i >= len(s.counts) {
			continue
		}
		named = true
		switch {
		case m[2] == "all its entries":
			if !wholeDone[i] {
				wholeDone[i] = true
				n += s.counts[i]
			}
		case m[2] != "":
			if !wholeDone[i] {
				n++
			}
		}
	}
	if !named {
		for _, m := range reStreamLabels.FindAllStringSubmatch(msg, -1) {
			for i, l := range s.labels {
				if l == m[1] && !wholeDone[i] {
					wholeDone[i] = true
					n += s.counts[i]
					named = true
				}
			}
		}
	}
	if m := reMore.FindStringSubmatch(msg); m != nil {
		more, _ := strconv.Atoi(m[1])
		n += more
		named = true
	}
	if !named {
		return s.entries
	}
	return min(n, s.entries)
}
