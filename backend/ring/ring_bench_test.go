package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchInstances returns n ACTIVE ingesters with 128 generated tokens each.
func benchInstances(n int) []Instance {
	ins := make([]Instance, 0, n)
	taken := map[uint32]bool{}
	for i := range n {
		id := fmt.Sprintf("ingester-%d", i)
		toks := GenerateTokens(id, 128, func(t uint32) bool { return taken[t] })
		for _, t := range toks {
			taken[t] = true
		}
		ins = append(ins, Instance{
			ID: id, Addr: fmt.Sprintf("10.0.%d.%d:9095", i/256, i%256), Ingester: true,
			State: Active, Tokens: toks, Heartbeat: 1_700_000_000_000,
		})
	}
	return ins
}

func BenchmarkWriteSet(b *testing.B) {
	for _, n := range []int{3, 10, 100} {
		b.Run(fmt.Sprintf("instances=%d/rf=3", n), func(b *testing.B) {
			r := New(benchInstances(n), time.Minute)
			keys := make([]uint32, 4096)
			rng := rand.New(rand.NewPCG(7, 8))
			for i := range keys {
				keys[i] = rng.Uint32()
			}
			buf := make([]Instance, 0, 3)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				rs, err := r.WriteSet(keys[i%len(keys)], 3, buf)
				if err != nil || len(rs.Instances) != 3 {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	ins := benchInstances(100)
	b.ReportAllocs()
	for b.Loop() {
		_ = New(ins, time.Minute)
	}
}

func BenchmarkOwnership(b *testing.B) {
	r := New(benchInstances(100), time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Ownership()
	}
}

func BenchmarkAppendInstance(b *testing.B) {
	in := benchInstances(1)[0]
	buf := AppendInstance(nil, &in)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendInstance(buf[:0], &in)
	}
}

func BenchmarkReadInstance(b *testing.B) {
	in := benchInstances(1)[0]
	data := AppendInstance(nil, &in)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadInstance(data); err != nil {
			b.Fatal(err)
		}
	}
}
