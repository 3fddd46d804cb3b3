package chunk

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// benchBlocksOfSize regroups the benchmark corpus into blocks of about
// k·benchBlockRaw bytes: k consecutive full blocks of one stream make one
// block (a stream's last, partial block is left out).
func benchBlocksOfSize(k int) [][]benchEntry {
	c := benchCorpusOnce()
	var out [][]benchEntry
	cur := make([][]benchEntry, benchStreams)
	n := make([]int, benchStreams)
	for i, es := range c.blocks {
		raw := 0
		for _, e := range es {
			raw += len(e.line)
		}
		if raw < benchBlockRaw {
			continue
		}
		s := c.stream[i]
		cur[s] = append(cur[s], es...)
		if n[s]++; n[s] == k {
			out = append(out, cur[s])
			cur[s], n[s] = nil, 0
		}
	}
	return out
}

// BenchmarkBlockEncodeSize encodes the corpus in blocks of 256 KiB, 512 KiB
// and 1 MiB of lines and reports, besides CPU throughput, the ratio of
// lines to stored bytes (blocks, filters, index entries) and stored bytes
// over the same blocks compressed with snappy.
func BenchmarkBlockEncodeSize(b *testing.B) {
	codecs := []benchCodec{benchCodecs()[1], benchCodecs()[4], benchCodecs()[5], benchCodecs()[6]}
	for _, k := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("%dKiB", k*benchBlockRaw>>10), func(b *testing.B) {
			blocks := benchBlocksOfSize(k)
			var raw int64
			for _, es := range blocks {
				for _, e := range es {
					raw += int64(len(e.line))
				}
			}
			snappyData, _ := encodeBlocks(blocks, codecs[0].comp)
			for _, bc := range codecs {
				b.Run(bc.name, func(b *testing.B) {
					data, meta := encodeBlocks(blocks, bc.comp)
					benchEncodeBlocks(b, blocks, bc.comp)
					b.ReportMetric(float64(raw)/float64(data+meta), "ratio")
					b.ReportMetric(float64(data+meta)/float64(snappyData), "vs-snappy")
				})
			}
		})
	}
}

// encodeBlocks encodes blocks with comp and returns the bytes of the
// encoded blocks and of their metas (index entries with filters).
func encodeBlocks(blocks [][]benchEntry, comp compressor) (data, meta int64) {
	bb := newBlockBuilder(comp)
	for _, es := range blocks {
		for _, e := range es {
			bb.Append(e.ts, e.line, labels.EmptyLabels())
		}
		d, m := bb.Encode(nil)
		data += int64(len(d))
		meta += int64(len(AppendBlockMeta(nil, m)))
	}
	return data, meta
}

// benchEncodeBlocks appends and encodes one block of blocks per iteration,
// round robin, and reports bytes of lines per CPU-second.
func benchEncodeBlocks(b *testing.B, blocks [][]benchEntry, comp compressor) {
	bb := newBlockBuilder(comp)
	var dst []byte
	var done int64
	i := 0
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		for _, e := range blocks[i%len(blocks)] {
			bb.Append(e.ts, e.line, labels.EmptyLabels())
		}
		i++
		done += int64(bb.RawSize())
		dst, _ = bb.Encode(dst[:0])
	}
	cpu.report(b, done)
	b.SetBytes(done / int64(b.N))
}

// BenchmarkFilterBuild builds the token filter of every corpus block: gram
// collection (add) and sampling and folding (appendFilter).
func BenchmarkFilterBuild(b *testing.B) {
	c := benchCorpusOnce()
	var f filterBuilder
	var dst []byte
	var done int64
	i := 0
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		es := c.blocks[i%len(c.blocks)]
		i++
		raw := 0
		for _, e := range es {
			raw += len(e.line)
		}
		f.reset(raw)
		for _, e := range es {
			f.add(e.line)
		}
		dst = f.appendFilter(dst[:0], raw/6)
		done += int64(raw)
	}
	cpu.report(b, done)
	b.SetBytes(done / int64(b.N))
}

// BenchmarkBlockEncodeOrder encodes corpus blocks whose entries arrive in
// order, with a few late entries, or shuffled, without compression: the
// cost of sorting and of building sections and filter.
func BenchmarkBlockEncodeOrder(b *testing.B) {
	c := benchCorpusOnce()
	r := rand.New(rand.NewPCG(1, 2))
	late := make([][]benchEntry, len(c.blocks))
	shuffled := make([][]benchEntry, len(c.blocks))
	for i, es := range c.blocks {
		late[i] = append([]benchEntry(nil), es...)
		for k := 0; k+20 < len(es); k += 50 { // one entry in 50 arrives 20 places late
			e := late[i][k]
			copy(late[i][k:k+20], late[i][k+1:k+21])
			late[i][k+20] = e
		}
		shuffled[i] = append([]benchEntry(nil), es...)
		r.Shuffle(len(es), func(x, y int) { shuffled[i][x], shuffled[i][y] = shuffled[i][y], shuffled[i][x] })
	}
	for _, tc := range []struct {
		name   string
		blocks [][]benchEntry
	}{{"in-order", c.blocks}, {"late", late}, {"shuffled", shuffled}} {
		b.Run(tc.name, func(b *testing.B) { benchEncodeBlocks(b, tc.blocks, compressor{codec: CodecNone}) })
	}
}
