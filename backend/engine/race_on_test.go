//go:build race

package engine

// raceEnabled: the race detector makes sync.Pool drop items, so pooled
// regexp machines get re-allocated.
const raceEnabled = true
