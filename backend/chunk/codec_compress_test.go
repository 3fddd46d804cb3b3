package chunk

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestZstdEncodersConcurrent encodes the same sections from more
// goroutines than there are pooled encoders: every encoder of the free
// list must give the bytes a lone encoder gives, and decode back.
func TestZstdEncodersConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var srcs [][]byte
	for _, n := range []int{1, 100, 4 << 10, 200 << 10} {
		var b []byte
		for len(b) < n {
			b = append(b, randomLine(r)...)
		}
		srcs = append(srcs, b[:n])
	}
	for _, level := range []zstd.EncoderLevel{zstd.SpeedDefault, zstd.SpeedBetterCompression} {
		t.Run(level.String(), func(t *testing.T) {
			c := compressor{codec: CodecZstd, zlevel: level}
			want := make([][]byte, len(srcs))
			for k, src := range srcs {
				want[k] = c.appendCompressed(nil, src)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Go(func() {
					for round := range 5 {
						k := (g + round) % len(srcs)
						got := c.appendCompressed([]byte("prefix"), srcs[k])
						if !bytes.Equal(got[6:], want[k]) {
							errs <- fmt.Errorf("goroutine %d: section %d encodes differently", g, k)
							return
						}
						dec, err := appendDecompressed(CodecZstd, nil, got[6:], len(srcs[k]))
						if err != nil || !bytes.Equal(dec, srcs[k]) {
							errs <- fmt.Errorf("goroutine %d: section %d does not round-trip: %v", g, k, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
