package loggen_test

import (
	"fmt"

	"github.com/lode-logs/lode/backend/internal/loggen"
)

func Example() {
	g := loggen.NewWithOptions(loggen.Options{Seed: 1, Streams: 100, NeedleEvery: 1_000_000})
	var buf []byte
	for range 3 {
		stream, ts, line := g.Next(buf[:0])
		buf = line
		fmt.Println(stream, ts, g.Labels(stream).Get("app"), len(line) > 0)
	}
}
