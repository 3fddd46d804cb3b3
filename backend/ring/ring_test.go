package ring

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// fixedRing has hand-picked tokens so that every walk can be followed:
//
//	token: 100 110 150 200 250 300 350 400 500 600
//	owner:  a   a   f   b   d   c   e   a   b   c
//
// a, b, c are ACTIVE ingesters, d is JOINING, e is LEAVING, f is not an
// ingester (its token is ignored), g is an ACTIVE ingester without tokens.
func fixedRing(t testing.TB) *Ring {
	t.Helper()
	ins := []Instance{
		{ID: "e", Ingester: true, State: Leaving, Tokens: []uint32{350}},
		{ID: "c", Ingester: true, State: Active, Tokens: []uint32{300, 600}},
		{ID: "a", Ingester: true, State: Active, Tokens: []uint32{100, 110, 400}},
		{ID: "f", Ingester: false, State: Active, Tokens: []uint32{150}},
		{ID: "b", Ingester: true, State: Active, Tokens: []uint32{200, 500}},
		{ID: "d", Ingester: true, State: Joining, Tokens: []uint32{250}},
		{ID: "g", Ingester: true, State: Active},
	}
	return New(ins, time.Minute)
}

func ids(ins []Instance) []string {
	out := make([]string, len(ins))
	for i := range ins {
		out[i] = ins[i].ID
	}
	return out
}

func TestWriteSet(t *testing.T) {
	r := fixedRing(t)
	tests := []struct {
		name      string
		key       uint32
		rf        int
		want      []string
		maxFailed int
	}{
		{"before the first token", 0, 3, []string{"a", "b", "c"}, 1},
		{"on a token", 100, 3, []string{"a", "b", "c"}, 1},
		{"same owner twice in a row counts once", 90, 3, []string{"a", "b", "c"}, 1},
		{"non-ingester token ignored", 111, 3, []string{"b", "c", "a"}, 1},
		{"joining and leaving skipped", 201, 3, []string{"c", "a", "b"}, 1},
		{"leaving token skipped to next owner", 301, 3, []string{"a", "b", "c"}, 1},
		{"wraps around", 450, 3, []string{"b", "c", "a"}, 1},
		{"past the last token", 601, 3, []string{"a", "b", "c"}, 1},
		{"largest key", math.MaxUint32, 3, []string{"a", "b", "c"}, 1},
		{"rf 1", 201, 1, []string{"c"}, 0},
		{"rf 2", 201, 2, []string{"c", "a"}, 0},
		{"rf 0 counts as 1", 201, 0, []string{"c"}, 0},
		{"rf capped at active ingesters with tokens", 201, 7, []string{"c", "a", "b"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := r.WriteSet(tt.key, tt.rf, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(rs.Instances); !slices.Equal(got, tt.want) {
				t.Fatalf("WriteSet(%d, %d) = %v, want %v", tt.key, tt.rf, got, tt.want)
			}
			if rs.MaxFailures != tt.maxFailed {
				t.Fatalf("MaxFailures = %d, want %d", rs.MaxFailures, tt.maxFailed)
			}
		})
	}
}

func TestWriteSetReusesBuffer(t *testing.T) {
	r := fixedRing(t)
	buf := make([]Instance, 1, 3)
	buf[0] = Instance{ID: "stale"}
	rs, err := r.WriteSet(0, 3, buf)
	if err != nil {
		t.Fatal(err)
	}
	if &rs.Instances[0] != &buf[:1][0] {
		t.Fatal("WriteSet did not append into buf")
	}
	if got := ids(rs.Instances); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("got %v", got)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.WriteSet(12345, 3, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("WriteSet allocates %v times per call with a large enough buf", allocs)
	}
}

func TestEmptyRing(t *testing.T) {
	tests := []struct {
		name      string
		ins       []Instance
		writeErr  bool
		readErr   bool
		readCount int
	}{
		{"no instances", nil, true, true, 0},
		{"only non-ingesters", []Instance{{ID: "q", State: Active, Tokens: []uint32{1}}}, true, true, 0},
		{"only joining", []Instance{{ID: "j", Ingester: true, State: Joining, Tokens: []uint32{1}}}, true, true, 0},
		{"only leaving", []Instance{{ID: "l", Ingester: true, State: Leaving, Tokens: []uint32{1}}}, true, false, 1},
		{"active without tokens", []Instance{{ID: "a", Ingester: true, State: Active}}, true, false, 1},
		{"one active", []Instance{{ID: "a", Ingester: true, State: Active, Tokens: []uint32{1}}}, false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.ins, time.Minute)
			_, err := r.WriteSet(5, 3, nil)
			if tt.writeErr != errors.Is(err, ErrEmptyRing) {
				t.Fatalf("WriteSet error = %v, want ErrEmptyRing: %v", err, tt.writeErr)
			}
			rs, err := r.ReadSet(3)
			if tt.readErr != errors.Is(err, ErrEmptyRing) {
				t.Fatalf("ReadSet error = %v, want ErrEmptyRing: %v", err, tt.readErr)
			}
			if len(rs.Instances) != tt.readCount {
				t.Fatalf("ReadSet has %d instances, want %d", len(rs.Instances), tt.readCount)
			}
		})
	}
}

func TestReadSet(t *testing.T) {
	r := fixedRing(t)
	tests := []struct {
		rf, maxFailed int
	}{
		{0, 0}, {1, 0}, {2, 0}, {3, 1}, {4, 1}, {5, 2}, {100, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("rf %d", tt.rf), func(t *testing.T) {
			rs, err := r.ReadSet(tt.rf)
			if err != nil {
				t.Fatal(err)
			}
			// JOINING d and non-ingester f are left out; LEAVING e and
			// token-less g are read.
			if got, want := ids(rs.Instances), []string{"a", "b", "c", "e", "g"}; !slices.Equal(got, want) {
				t.Fatalf("ReadSet = %v, want %v", got, want)
			}
			if rs.MaxFailures != tt.maxFailed {
				t.Fatalf("MaxFailures = %d, want %d", rs.MaxFailures, tt.maxFailed)
			}
		})
	}
}

func TestMaxFailures(t *testing.T) {
	for n, want := range []int{0, 0, 0, 1, 1, 2, 2, 3} {
		if n == 0 {
			continue
		}
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			var ins []Instance
			for i := range n {
				ins = append(ins, Instance{ID: fmt.Sprint(i), Ingester: true, State: Active, Tokens: []uint32{uint32(i) * 1000}})
			}
			rs, err := New(ins, 0).WriteSet(0, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs.Instances) != n || rs.MaxFailures != want {
				t.Fatalf("got %d instances, MaxFailures %d; want %d, %d", len(rs.Instances), rs.MaxFailures, n, want)
			}
		})
	}
}

func TestWriteSetIncludesUnhealthy(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	fresh, stale := now.Add(-time.Second).UnixMilli(), now.Add(-time.Hour).UnixMilli()
	r := New([]Instance{
		{ID: "a", Ingester: true, State: Active, Tokens: []uint32{10}, Heartbeat: fresh},
		{ID: "b", Ingester: true, State: Active, Tokens: []uint32{20}, Heartbeat: stale},
		{ID: "c", Ingester: true, State: Active, Tokens: []uint32{30}, Heartbeat: fresh},
	}, time.Minute)
	rs, err := r.WriteSet(15, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rs.Instances); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("WriteSet = %v", got)
	}
	var healthy []string
	for i := range rs.Instances {
		if r.Healthy(&rs.Instances[i], now) {
			healthy = append(healthy, rs.Instances[i].ID)
		}
	}
	if !slices.Equal(healthy, []string{"c", "a"}) {
		t.Fatalf("healthy = %v, want [c a]", healthy)
	}
}

func TestHealthy(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		name    string
		timeout time.Duration
		age     time.Duration
		want    bool
	}{
		{"fresh", time.Minute, time.Second, true},
		{"exactly the timeout", time.Minute, time.Minute, true},
		{"just past the timeout", time.Minute, time.Minute + time.Millisecond, false},
		{"long gone", time.Minute, 24 * time.Hour, false},
		{"heartbeat in the future", time.Minute, -time.Hour, true},
		{"timeout off", 0, 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Instance{ID: "a", Ingester: true, State: Active, Heartbeat: now.Add(-tt.age).UnixMilli()}
			if got := New([]Instance{in}, tt.timeout).Healthy(&in, now); got != tt.want {
				t.Fatalf("Healthy = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOwnership(t *testing.T) {
	const q = 1 << 30 // a quarter of the token space
	tests := []struct {
		name string
		ins  []Instance
		want map[string]float64
	}{
		{"empty", nil, map[string]float64{}},
		{"single token owns everything", []Instance{{ID: "a", Ingester: true, State: Active, Tokens: []uint32{12345}}}, map[string]float64{"a": 1}},
		{"halves", []Instance{
			{ID: "a", Ingester: true, State: Active, Tokens: []uint32{q}},
			{ID: "b", Ingester: true, State: Active, Tokens: []uint32{3 * q}},
		}, map[string]float64{"a": 0.5, "b": 0.5}},
		{"wrap-around range goes to the first token", []Instance{
			{ID: "a", Ingester: true, State: Active, Tokens: []uint32{0}},
			{ID: "b", Ingester: true, State: Active, Tokens: []uint32{q}},
		}, map[string]float64{"a": 0.75, "b": 0.25}},
		{"every state counts, non-ingesters and token-less listed as they should", []Instance{
			{ID: "a", Ingester: true, State: Active, Tokens: []uint32{q}},
			{ID: "j", Ingester: true, State: Joining, Tokens: []uint32{2 * q}},
			{ID: "l", Ingester: true, State: Leaving, Tokens: []uint32{3 * q}},
			{ID: "n", Ingester: true, State: Active},
			{ID: "q", State: Active, Tokens: []uint32{q + 1}},
		}, map[string]float64{"a": 0.5, "j": 0.25, "l": 0.25, "n": 0}},
		{"shared token goes to the smaller id", []Instance{
			{ID: "b", Ingester: true, State: Active, Tokens: []uint32{q}},
			{ID: "a", Ingester: true, State: Active, Tokens: []uint32{q}},
		}, map[string]float64{"a": 1, "b": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New(tt.ins, 0).Ownership()
			if len(got) != len(tt.want) {
				t.Fatalf("Ownership = %v, want %v", got, tt.want)
			}
			for id, w := range tt.want {
				if g, ok := got[id]; !ok || math.Abs(g-w) > 1e-12 {
					t.Fatalf("Ownership = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// randomRing builds a ring of n instances in random states, most of them
// ACTIVE ingesters, with tokens from GenerateTokens.
func randomRing(rng *rand.Rand, n, tokens int) []Instance {
	var ins []Instance
	taken := map[uint32]bool{}
	for i := range n {
		in := Instance{ID: fmt.Sprintf("ing-%03d", i), Ingester: rng.IntN(8) != 0, State: State(1 + rng.IntN(3))}
		if rng.IntN(2) == 0 {
			in.State = Active
		}
		if in.Ingester {
			in.Tokens = GenerateTokens(fmt.Sprintf("%s-%d", in.ID, rng.Int()), 1+rng.IntN(tokens), func(t uint32) bool { return taken[t] })
			for _, t := range in.Tokens {
				taken[t] = true
			}
		}
		ins = append(ins, in)
	}
	return ins
}

// naiveWriteSet is WriteSet spelled out the slow way, as a reference.
func naiveWriteSet(ins []Instance, key uint32, rf int) []string {
	type owned struct {
		tok uint32
		id  string
	}
	var ring []owned
	for _, in := range ins {
		if in.Ingester && in.State == Active {
			for _, t := range in.Tokens {
				ring = append(ring, owned{t, in.ID})
			}
		}
	}
	slices.SortFunc(ring, func(a, b owned) int {
		if a.tok != b.tok {
			return int(int64(a.tok) - int64(b.tok))
		}
		return 0
	})
	start := len(ring)
	for i, o := range ring {
		if o.tok >= key {
			start = i
			break
		}
	}
	var out []string
	for k := range ring {
		id := ring[(start+k)%len(ring)].id
		if !slices.Contains(out, id) && len(out) < rf {
			out = append(out, id)
		}
	}
	return out
}

func TestWriteSetMatchesNaiveWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		ins := randomRing(rng, 1+rng.IntN(12), 64)
		r := New(ins, 0)
		t.Run(fmt.Sprintf("ring %d", round), func(t *testing.T) {
			buf := make([]Instance, 0, 8)
			for range 200 {
				key, rf := rng.Uint32(), 1+rng.IntN(5)
				want := naiveWriteSet(ins, key, rf)
				rs, err := r.WriteSet(key, rf, buf)
				if len(want) == 0 {
					if !errors.Is(err, ErrEmptyRing) {
						t.Fatalf("WriteSet on a ring without active tokens: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(rs.Instances); !slices.Equal(got, want) {
					t.Fatalf("WriteSet(%d, %d) = %v, want %v", key, rf, got, want)
				}
				for _, in := range rs.Instances {
					if !in.Ingester || in.State != Active {
						t.Fatalf("write set holds %s in state %v", in.ID, in.State)
					}
				}
			}
		})
	}
}

func TestOwnershipSumsToOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 30 {
		ins := randomRing(rng, 1+rng.IntN(20), 256)
		t.Run(fmt.Sprintf("ring %d", round), func(t *testing.T) {
			own := New(ins, 0).Ownership()
			sum, anyTokens := 0.0, false
			for _, in := range ins {
				if in.Ingester && len(in.Tokens) > 0 {
					anyTokens = true
				}
			}
			for id, f := range own {
				if f < 0 || f > 1 {
					t.Fatalf("%s owns %v", id, f)
				}
				sum += f
			}
			if anyTokens && math.Abs(sum-1) > 1e-9 {
				t.Fatalf("ownership sums to %v", sum)
			}
		})
	}
}

func TestDistribution(t *testing.T) {
	// Ingesters that join one after another with 128 generated tokens each
	// share the token space fairly, whatever their names.
	tests := []struct {
		name     string
		ids      []string
		min, max float64
	}{
		{"three numbered", []string{"ingester-0", "ingester-1", "ingester-2"}, 0.20, 0.47},
		{"three hostnames", []string{"lode-a.example.com", "lode-b.example.com", "lode-c.example.com"}, 0.20, 0.47},
		{"three uuids", []string{"2f1c9a4e-7b1d-4e8a-9c3f-0a6b5d2e1f90", "8e7d6c5b-4a39-4281-b0f1-e2d3c4b5a697", "c0ffee00-1234-4abc-8def-0123456789ab"}, 0.20, 0.47},
		{"three one-letter", []string{"a", "b", "c"}, 0.20, 0.47},
		{"six numbered", []string{"i0", "i1", "i2", "i3", "i4", "i5"}, 0.10, 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ins []Instance
			taken := map[uint32]bool{}
			for _, id := range tt.ids {
				toks := GenerateTokens(id, 128, func(t uint32) bool { return taken[t] })
				for _, tok := range toks {
					taken[tok] = true
				}
				ins = append(ins, Instance{ID: id, Ingester: true, State: Active, Tokens: toks})
			}
			r := New(ins, 0)
			for id, f := range r.Ownership() {
				if f < tt.min || f > tt.max {
					t.Errorf("%s owns %.1f%% of the token space, want %.0f%%–%.0f%%", id, 100*f, 100*tt.min, 100*tt.max)
				}
			}
			// Streams follow ownership: the primary replica of each of
			// 30k random keys is spread the same way.
			primaries := map[string]int{}
			rng := rand.New(rand.NewPCG(5, 6))
			const keys = 30000
			for range keys {
				rs, err := r.WriteSet(rng.Uint32(), 3, nil)
				if err != nil {
					t.Fatal(err)
				}
				primaries[rs.Instances[0].ID]++
			}
			for id, n := range primaries {
				if f := float64(n) / keys; f < tt.min || f > tt.max {
					t.Errorf("%s is primary for %.1f%% of keys, want %.0f%%–%.0f%%", id, 100*f, 100*tt.min, 100*tt.max)
				}
			}
		})
	}
}

func TestNewCopiesAndSorts(t *testing.T) {
	ins := []Instance{
		{ID: "b", Addr: "old", Ingester: true, State: Active, Tokens: []uint32{5}},
		{ID: "a", Ingester: true, State: Active, Tokens: []uint32{1, 9}},
		{ID: "b", Addr: "new", Ingester: true, State: Active, Tokens: []uint32{7}},
	}
	r := New(ins, 0)
	ins[1].Tokens[0] = 8 // the caller's slice changes after New
	ins[1].ID = "z"

	got := r.Instances()
	if ids := ids(got); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("Instances = %v, want [a b] (sorted, duplicate id once)", ids)
	}
	if got[1].Addr != "new" || !slices.Equal(got[1].Tokens, []uint32{7}) {
		t.Fatalf("duplicate id: got %+v, want the later one", got[1])
	}
	if !slices.Equal(got[0].Tokens, []uint32{1, 9}) {
		t.Fatalf("New did not copy tokens: %v", got[0].Tokens)
	}
	got[0].Tokens[0] = 100 // the caller changes what Instances returned
	if a, ok := r.Instance("a"); !ok || !slices.Equal(a.Tokens, []uint32{1, 9}) {
		t.Fatalf("Instance(a) = %+v, %v after a caller changed a copy", a, ok)
	}
	if _, ok := r.Instance("missing"); ok {
		t.Fatal("Instance(missing) found")
	}
	rs, err := r.WriteSet(2, 1, nil)
	if err != nil || rs.Instances[0].ID != "b" {
		t.Fatalf("WriteSet(2) = %v, %v; want b (token 7, not the dropped 5)", ids(rs.Instances), err)
	}
}

func TestSortByToken(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 2, 255, 256, 257, 5000} {
		t.Run(fmt.Sprintf("%d elements", n), func(t *testing.T) {
			ring := make([]uint64, n)
			for i := range ring {
				// Few distinct tokens, so equal tokens abound and their
				// owners (low half, ascending) must keep their order.
				ring[i] = uint64(rng.Uint32()%64)<<56 | uint64(rng.Uint32()%3)<<40 | uint64(i)
			}
			want := slices.Clone(ring)
			slices.SortStableFunc(want, func(a, b uint64) int { return cmp.Compare(a>>32, b>>32) })
			sortByToken(ring)
			if !slices.Equal(ring, want) {
				t.Fatal("sortByToken differs from a stable sort by token")
			}
		})
	}
}
