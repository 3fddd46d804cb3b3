//go:build unix

package ingester

import (
	"fmt"
	"testing"

	"github.com/klauspost/compress/s2"
)

// walBodies returns the WAL record bodies pushes of 1 MiB over streams
// streams of loggen's corpus produce (one body per stream and push), and
// their total size.
func walBodies(streams, pushes int) ([][]byte, int64) {
	c := newPushCorpus(3, streams, pushes, 1<<20)
	var bodies [][]byte
	var raw int64
	for _, p := range c.pushes {
		for k := range p {
			var body []byte
			for e := range p[k].Entries {
				body = appendEntry(body, &p[k].Entries[e])
			}
			bodies = append(bodies, body)
			raw += int64(len(body))
		}
	}
	return bodies, raw
}

// BenchmarkWALCompression compares the s2 block encoders on WAL record
// bodies (FORMAT.md, WAL record version 0x02), reporting the compressed
// size over the raw size, encoding CPU throughput and, for the encoder in
// use, decoding (replay) throughput.
func BenchmarkWALCompression(b *testing.B) {
	encoders := []struct {
		name string
		enc  func(dst, src []byte) []byte
	}{
		{"s2", s2.Encode},
		{"snappy", s2.EncodeSnappy},
		{"s2-better", s2.EncodeBetter},
	}
	for _, streams := range []int{20, 200} {
		bodies, raw := walBodies(streams, 16)
		for _, e := range encoders {
			b.Run(fmt.Sprintf("streams=%d/enc=%s", streams, e.name), func(b *testing.B) {
				var dst []byte
				var packed int64
				b.SetBytes(raw)
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					packed = 0
					for _, body := range bodies {
						dst = e.enc(dst[:0], body)
						packed += int64(len(dst))
					}
				}
				cpu.report(b, raw*int64(b.N))
				b.ReportMetric(float64(packed)/float64(raw), "packed/raw")
			})
		}
		b.Run(fmt.Sprintf("streams=%d/dec=s2", streams), func(b *testing.B) {
			packed := make([][]byte, len(bodies))
			for k, body := range bodies {
				packed[k] = s2.Encode(nil, body)
			}
			var dst []byte
			b.SetBytes(raw)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				for _, p := range packed {
					var err error
					if dst, err = s2.Decode(dst[:cap(dst)], p); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu.report(b, raw*int64(b.N))
		})
	}
}
