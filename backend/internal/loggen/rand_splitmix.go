package loggen

// splitmix is a splitmix64 pseudo-random generator: tiny, fast and with a
// fixed, platform-independent sequence (math/rand/v2 makes no promise that
// its helpers keep their exact output across releases).
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// intn returns a number in [0, n), n > 0.
func (r *splitmix) intn(n int) int {
	return int(((r.next() >> 32) * uint64(n)) >> 32)
}

// chance reports true with probability 1/n.
func (r *splitmix) chance(n int) bool { return r.intn(n) == 0 }

// pick returns a random element of xs.
func pick[T any](r *splitmix, xs []T) T { return xs[r.intn(len(xs))] }

// weighted picks from a cumulative weight table built by newWeighted.
type weighted[T any] struct {
	items []T
	table []uint8 // 256 slots → index into items
}

// newWeighted builds a table from items and integer weights summing to 256.
func newWeighted[T any](items []T, weights []int) weighted[T] {
	w := weighted[T]{items: items}
	for i, n := range weights {
		for range n {
			w.table = append(w.table, uint8(i))
		}
	}
	if len(w.table) != 256 {
		panic("BUG: weights must sum to 256")
	}
	return w
}

func (w *weighted[T]) pick(r *splitmix) T { return w.items[w.table[r.next()&255]] }
