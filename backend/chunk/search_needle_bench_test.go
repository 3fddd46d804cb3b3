package chunk

import (
	"bytes"
	"testing"
)

// benchLinesSections returns the lines sections of the benchmark corpus's
// blocks (each block's lines back to back, as decompressed) and their
// total size.
func benchLinesSections() ([][]byte, int64) {
	c := benchCorpusOnce()
	secs := make([][]byte, 0, len(c.blocks))
	var total int64
	for _, es := range c.blocks {
		var sec []byte
		for _, e := range es {
			sec = append(sec, e.line...)
		}
		secs = append(secs, sec)
		total += int64(len(sec))
	}
	return secs, total
}

// benchSearchNeedles are absent needles of several shapes: the scan
// benchmarks' 35-byte needle, needles whose first byte is common in logs,
// one made of common bytes only, a short one and a single byte.
var benchSearchNeedles = []struct{ name, needle string }{
	{"reset-35", "connection reset by peer 0xdeadbeef"},
	{"common-first-12", "caught-fatal"},
	{"common-only-8", "0e 0e 0e"},
	{"word-5", "qwzvx"},
	{"byte-1", "\x01"},
}

// BenchmarkNeedleIndex compares needleSearch.index with bytes.Index over
// the decompressed lines of the corpus for absent needles (the scan of a
// line filter that token filters could not rule out).
func BenchmarkNeedleIndex(b *testing.B) {
	secs, total := benchLinesSections()
	for _, n := range benchSearchNeedles {
		needle := []byte(n.needle)
		for _, s := range secs {
			if bytes.Contains(s, needle) {
				b.Fatalf("needle %q is in the corpus", n.needle)
			}
		}
		var f needleSearch
		f.reset(needle)
		search := func(name string, index func(s []byte) int) {
			b.Run(n.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(total)
				cpu := startCPU()
				for b.Loop() {
					for _, s := range secs {
						if index(s) >= 0 {
							b.Fatal("found")
						}
					}
				}
				cpu.report(b, total*int64(b.N))
			})
		}
		search("bytes.Index", func(s []byte) int { return bytes.Index(s, needle) })
		search("needleSearch", f.index)
		if len(needle) >= 2 {
			search("pairIndex", func(s []byte) int { return f.pairIndex(s, 0) })
		}
	}
}
