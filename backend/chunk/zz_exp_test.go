package chunk

import (
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/prometheus/model/labels"
)

func TestZZExp(t *testing.T) {
	c := benchCorpusOnce()
	// regroup into bigger blocks: merge k consecutive blocks of the same stream
	group := func(k int) [][]benchEntry {
		var out [][]benchEntry
		cur := map[int][]benchEntry{}
		n := map[int]int{}
		for i, es := range c.blocks {
			s := c.stream[i]
			cur[s] = append(cur[s], es...)
			n[s]++
			if n[s] == k {
				out = append(out, cur[s])
				cur[s], n[s] = nil, 0
			}
		}
		for _, es := range cur {
			if len(es) > 0 {
				out = append(out, es)
			}
		}
		return out
	}
	snap, _ := storedSize(encodeCorpus(c, compressor{codec: CodecSnappy}))
	for _, k := range []int{1, 4} {
		blocks := group(k)
		for _, lv := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression} {
			comp := compressor{codec: CodecZstd, zlevel: lv}
			b := newBlockBuilder(comp)
			var data, meta, ts, lines, lens int64
			cpu := cpuTime()
			for _, es := range blocks {
				for _, e := range es {
					b.Append(e.ts, e.line, labels.EmptyLabels())
				}
				d, m := b.Encode(nil)
				data += int64(len(d))
				meta += int64(len(AppendBlockMeta(nil, m)))
				ts += int64(m.TimestampsLen)
				lens += int64(m.LengthsLen)
				lines += int64(m.LinesLen)
			}
			el := cpuTime() - cpu
			fmt.Printf("k=%d %-8v vs-snappy=%.4f data=%d meta=%d ts=%d lens=%d lines=%d cpu-MB/s=%.0f\n", k, lv, float64(data+meta)/float64(snap), data, meta, ts, lens, lines, float64(c.raw)/1e6/el.Seconds())
		}
	}
}
