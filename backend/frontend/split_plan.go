package frontend

import "github.com/lode-logs/lode/backend/model"

// part is one sub-query of a split query. For a log query it reads
// [start, end); for a metric query it is evaluated at the steps of the
// whole query that fall in [start, end] (end is its last step, or the
// query's end for the last part).
type part struct {
	start, end int64
}

// floorDiv is a / b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// splitMetric splits the steps start, start+step, ... <= end at multiples
// of interval: a part starts at the first step at or after each multiple,
// so every step is evaluated by exactly one part, with the same time as in
// the whole query. Parts are in time order.
func splitMetric(start, end, step, interval int64) []part {
	var parts []part
	prev := int64(0) // index of the first step of the current part
	for b := (floorDiv(start, interval) + 1) * interval; b <= end; b += interval {
		k := (b - start + step - 1) / step
		if start+k*step > end {
			break
		}
		if k > prev {
			parts = append(parts, part{start: start + prev*step, end: start + (k-1)*step})
			prev = k
		}
	}
	return append(parts, part{start: start + prev*step, end: end})
}

// splitLogs splits [start, end) at the multiples of interval inside it.
// Parts come in the order dir reads them: oldest first for Forward, newest
// first for Backward.
func splitLogs(start, end, interval int64, dir model.Direction) []part {
	var parts []part
	from := start
	for b := (floorDiv(start, interval) + 1) * interval; b < end; b += interval {
		parts = append(parts, part{start: from, end: b})
		from = b
	}
	parts = append(parts, part{start: from, end: end})
	if dir == model.Backward {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	return parts
}
