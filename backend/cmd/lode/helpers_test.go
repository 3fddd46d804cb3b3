package main

import (
	"bytes"
	"compress/gzip"

	"github.com/klauspost/compress/snappy"
)

func snappyEncode(b []byte) []byte { return snappy.Encode(nil, b) }

// gzipBomb writes a gzip stream that inflates to n zero bytes.
func gzipBomb(w *bytes.Buffer, n int) {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < n; i += len(zero) {
		_, _ = zw.Write(zero)
	}
	_ = zw.Close()
}
