package loggen

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time used by the process so far. Benchmarks
// report cpu-MB/s (bytes per CPU-second) besides wall-clock MB/s because
// the machines running them are often shared.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkNext(b *testing.B) {
	g := New(1, 1000)
	buf := make([]byte, 0, 4096)
	var n int64
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		_, _, line := g.Next(buf[:0])
		n += int64(len(line))
	}
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(n)/d.Seconds()/1e6, "cpu-MB/s")
	}
	b.SetBytes(n / int64(b.N))
}
