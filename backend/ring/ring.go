package ring

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// Ring is an immutable view of the members; build a new one on every
// change. It is safe for concurrent use.
type Ring struct {
	instances []Instance // sorted by ID, unique IDs; Tokens share one array
	timeout   time.Duration

	// writeRing is the write path's ring: for each token of an ACTIVE
	// ingester, token<<32 | index of its owner in instances, sorted. One
	// array keeps a token and its owner in the same cache line.
	writeRing []uint64
	active    int // ACTIVE ingesters that own at least one token
}

// ReplicationSet is the set of ingesters an operation must reach, and how
// many of them may fail (or be skipped as unhealthy) while it still
// succeeds.
type ReplicationSet struct {
	Instances   []Instance
	MaxFailures int
}

// New builds a ring from instances (in any order; New copies them). When
// two instances have the same ID, the later one wins. heartbeatTimeout is
// the heartbeat age past which Healthy reports false; zero or less turns
// the check off.
func New(instances []Instance, heartbeatTimeout time.Duration) *Ring {
	ins := slices.Clone(instances)
	slices.SortStableFunc(ins, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	ins = lastByID(ins)

	total, writable, active := 0, 0, 0
	for i := range ins {
		total += len(ins[i].Tokens)
		if ins[i].Ingester && ins[i].State == Active && len(ins[i].Tokens) > 0 {
			writable += len(ins[i].Tokens)
			active++
		}
	}
	store := make([]uint32, 0, total)
	packed := make([]uint64, 0, writable) // token<<32 | owner index
	for i := range ins {
		start := len(store)
		store = append(store, ins[i].Tokens...)
		ins[i].Tokens = store[start:len(store):len(store)]
		if len(ins[i].Tokens) == 0 {
			ins[i].Tokens = nil
		}
		if !ins[i].Ingester || ins[i].State != Active || len(ins[i].Tokens) == 0 {
			continue
		}
		for _, t := range ins[i].Tokens {
			packed = append(packed, uint64(t)<<32|uint64(i))
		}
	}
	sortByToken(packed) // equal tokens stay in owner order, i.e. by ID

	return &Ring{instances: ins, timeout: heartbeatTimeout, writeRing: packed, active: active}
}

// sortByToken sorts ring elements (token<<32 | owner) by token, keeping
// the order of equal tokens. Large rings use an LSD radix sort over the
// token's four bytes (a few times faster than a comparison sort for a
// hundred ingesters of 128 tokens); small ones a stable comparison sort.
func sortByToken(ring []uint64) {
	if len(ring) < 256 {
		slices.SortStableFunc(ring, func(a, b uint64) int { return cmp.Compare(a>>32, b>>32) })
		return
	}
	var counts [4][256]int
	for _, v := range ring {
		counts[0][byte(v>>32)]++
		counts[1][byte(v>>40)]++
		counts[2][byte(v>>48)]++
		counts[3][byte(v>>56)]++
	}
	src, dst := ring, make([]uint64, len(ring))
	for p := range counts {
		sum := 0
		for b, c := range counts[p] {
			counts[p][b] = sum
			sum += c
		}
		shift := 32 + 8*p
		for _, v := range src {
			b := byte(v >> shift)
			dst[counts[p][b]] = v
			counts[p][b]++
		}
		src, dst = dst, src
	}
	// After an even number of passes the result is back in ring.
}

// lastByID drops all but the last of each run of instances with the same
// ID (ins is stably sorted by ID).
func lastByID(ins []Instance) []Instance {
	out := ins[:0]
	for i := range ins {
		if i+1 < len(ins) && ins[i+1].ID == ins[i].ID {
			continue
		}
		out = append(out, ins[i])
	}
	clear(ins[len(out):])
	return out
}

// Instances returns every member sorted by ID. The result is a deep copy:
// callers may keep and modify it.
func (r *Ring) Instances() []Instance {
	out := make([]Instance, len(r.instances))
	for i := range r.instances {
		out[i] = r.instances[i].Clone()
	}
	return out
}

// Instance returns a deep copy of the member with the given id.
func (r *Ring) Instance(id string) (Instance, bool) {
	i, ok := slices.BinarySearchFunc(r.instances, id, func(in Instance, id string) int {
		return strings.Compare(in.ID, id)
	})
	if !ok {
		return Instance{}, false
	}
	return r.instances[i].Clone(), true
}

// Healthy reports whether in's last heartbeat is not older than the
// ring's heartbeat timeout at now (always true when the timeout is off).
// A heartbeat in the future (clock skew) counts as healthy.
func (r *Ring) Healthy(in *Instance, now time.Time) bool {
	if r.timeout <= 0 {
		return true
	}
	return now.UnixMilli()-in.Heartbeat <= r.timeout.Milliseconds()
}

// WriteSet returns the replication set of a token: walking clockwise from
// the first token >= key (wrapping past the largest token), the first rf
// distinct ACTIVE ingesters, in walk order. rf is capped at the number of
// ACTIVE ingesters that own tokens; rf < 1 counts as 1. Unhealthy
// instances are included: the caller skips them, counting each as a
// failure. MaxFailures = n - (n/2 + 1) for the n instances returned. It
// returns ErrEmptyRing when no ACTIVE ingester owns a token.
//
// The instances are appended to buf[:0]; WriteSet allocates nothing when
// buf has capacity for rf instances. Their Tokens alias the ring's.
func (r *Ring) WriteSet(key uint32, rf int, buf []Instance) (ReplicationSet, error) {
	if r.active == 0 {
		return ReplicationSet{}, ErrEmptyRing
	}
	rf = min(max(rf, 1), r.active)
	out := buf[:0]
	var seen [16]uint32 // owners taken so far, while rf fits
	ring := r.writeRing
	i := search(ring, uint64(key)<<32)
	for n := 0; n < len(ring) && len(out) < rf; n++ {
		if i == len(ring) {
			i = 0
		}
		owner := uint32(ring[i])
		i++
		if rf <= len(seen) {
			if slices.Contains(seen[:len(out)], owner) {
				continue
			}
			seen[len(out)] = owner
		} else if containsID(out, r.instances[owner].ID) {
			continue
		}
		out = append(out, r.instances[owner])
	}
	return ReplicationSet{Instances: out, MaxFailures: maxFailures(len(out))}, nil
}

// search returns the index of the first element of sorted ring >= key
// (len(ring) when there is none). The halving is branch-free (the borrow
// of v - key says v < key), so random keys cost no mispredicted branches.
func search(ring []uint64, key uint64) int {
	if len(ring) == 0 {
		return 0
	}
	base, n := 0, len(ring)
	for n > 1 {
		half := n / 2
		_, less := bits.Sub64(ring[base+half-1], key, 0)
		base += half & -int(less)
		n -= half
	}
	_, less := bits.Sub64(ring[base], key, 0)
	return base + int(less)
}

func containsID(ins []Instance, id string) bool {
	for i := range ins {
		if ins[i].ID == id {
			return true
		}
	}
	return false
}

// maxFailures is how many of n replicas may fail while a majority
// (n/2 + 1) still succeeds.
func maxFailures(n int) int { return n - (n/2 + 1) }

// ReadSet returns every ACTIVE or LEAVING ingester (sorted by ID, tokens or
// not), with MaxFailures computed from rf as for a write set (rf capped at
// the number of instances returned, rf < 1 counting as 1): a query may miss
// at most that many of them. It returns ErrEmptyRing when there is none.
// The slice is new; the instances' Tokens alias the ring's.
func (r *Ring) ReadSet(rf int) (ReplicationSet, error) {
	var out []Instance
	for i := range r.instances {
		in := &r.instances[i]
		if in.Ingester && (in.State == Active || in.State == Leaving) {
			out = append(out, *in)
		}
	}
	if len(out) == 0 {
		return ReplicationSet{}, ErrEmptyRing
	}
	rf = min(max(rf, 1), len(out))
	return ReplicationSet{Instances: out, MaxFailures: maxFailures(rf)}, nil
}

// Ownership returns, per ingester id, the fraction (0..1) of the token
// space for which it is the first owner (the range from the previous
// token, exclusive, to its token, inclusive; the first token's range wraps
// around from the last). Every ingester is listed, whatever its state
// (0 when it has no tokens); the fractions sum to 1 when any ingester has
// a token. Non-ingesters are not listed.
func (r *Ring) Ownership() map[string]float64 {
	n := 0
	for i := range r.instances {
		if r.instances[i].Ingester {
			n += len(r.instances[i].Tokens)
		}
	}
	packed := make([]uint64, 0, n)
	for i := range r.instances {
		if r.instances[i].Ingester {
			for _, t := range r.instances[i].Tokens {
				packed = append(packed, uint64(t)<<32|uint64(i))
			}
		}
	}
	sortByToken(packed)
	span := make([]uint64, len(r.instances)) // per instance, in tokens
	if len(packed) > 0 {
		const space = 1 << 32
		prev := packed[len(packed)-1]>>32 - space // the last token, one turn back
		for _, p := range packed {
			t := p >> 32
			span[uint32(p)] += t - prev
			prev = t
		}
	}
	own := make(map[string]float64, len(r.instances))
	for i := range r.instances {
		if r.instances[i].Ingester {
			own[r.instances[i].ID] = float64(span[i]) / (1 << 32)
		}
	}
	return own
}
