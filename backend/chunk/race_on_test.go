//go:build race

package chunk

// raceEnabled: the race detector allocates where plain builds do not.
const raceEnabled = true
