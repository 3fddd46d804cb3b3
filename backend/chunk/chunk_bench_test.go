package chunk

import (
	"bytes"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Benchmark corpus: loggen lines of benchStreams streams, cut per stream
// into blocks of benchBlockRaw bytes of lines, the way an ingester cuts
// head blocks.
const (
	benchSeed     = 1
	benchStreams  = 20
	benchBytes    = 48 << 20
	benchBlockRaw = 256 << 10
	benchNeedleN  = 50_000 // one line in benchNeedleN carries a needle
)

type benchEntry struct {
	ts   int64
	line []byte
}

type benchCorpus struct {
	blocks [][]benchEntry // entries of each block (one stream each)
	stream []int          // stream of each block
	raw    int64          // bytes of lines
	needle []byte         // the token of the first needle line
}

var benchCorpusOnce = sync.OnceValue(func() *benchCorpus {
	g := loggen.NewWithOptions(loggen.Options{Seed: benchSeed, Streams: benchStreams, NeedleEvery: benchNeedleN})
	c := &benchCorpus{needle: loggen.NeedleToken(benchSeed, 1)}
	cur := make([][]benchEntry, benchStreams)
	curRaw := make([]int, benchStreams)
	var buf []byte
	for c.raw < benchBytes {
		s, ts, line := g.Next(buf[:0])
		buf = line
		cur[s] = append(cur[s], benchEntry{ts, bytes.Clone(line)})
		curRaw[s] += len(line)
		c.raw += int64(len(line))
		if curRaw[s] >= benchBlockRaw {
			c.blocks = append(c.blocks, cur[s])
			c.stream = append(c.stream, s)
			cur[s], curRaw[s] = nil, 0
		}
	}
	for s, es := range cur {
		if len(es) > 0 {
			c.blocks = append(c.blocks, es)
			c.stream = append(c.stream, s)
		}
	}
	return c
})

type benchCodec struct {
	name string
	comp compressor
}

func benchCodecs() []benchCodec {
	return []benchCodec{
		{"none", compressor{codec: CodecNone}},
		{"snappy", compressor{codec: CodecSnappy}},
		{"s2", compressor{codec: CodecS2, s2mode: 0}},
		{"s2-better", compressor{codec: CodecS2, s2mode: 1}},
		{"zstd-fastest", compressor{codec: CodecZstd, zlevel: zstd.SpeedFastest}},
		{"zstd-default", compressor{codec: CodecZstd, zlevel: zstd.SpeedDefault}},
		{"zstd-better", compressor{codec: CodecZstd, zlevel: zstd.SpeedBetterCompression}},
		{"zstd-best", compressor{codec: CodecZstd, zlevel: zstd.SpeedBestCompression}},
	}
}

// encodeCorpus encodes every block of the corpus with comp.
func encodeCorpus(c *benchCorpus, comp compressor) []EncodedBlock {
	b := newBlockBuilder(comp)
	out := make([]EncodedBlock, 0, len(c.blocks))
	for _, es := range c.blocks {
		for _, e := range es {
			b.Append(e.ts, e.line, labels.EmptyLabels())
		}
		data, meta := b.Encode(nil)
		out = append(out, EncodedBlock{Meta: meta, Data: data})
	}
	return out
}

// storedSize is the bytes a chunk store keeps for blocks: data plus block
// meta (index entry with filter).
func storedSize(bs []EncodedBlock) (data, meta int64) {
	for _, b := range bs {
		data += int64(len(b.Data))
		meta += int64(len(AppendBlockMeta(nil, b.Meta)))
	}
	return data, meta
}

var encodedOnce sync.Map // codec name → []EncodedBlock

func encodedCorpus(bc benchCodec) []EncodedBlock {
	if v, ok := encodedOnce.Load(bc.name); ok {
		return v.([]EncodedBlock)
	}
	bs := encodeCorpus(benchCorpusOnce(), bc.comp)
	encodedOnce.Store(bc.name, bs)
	return bs
}

func BenchmarkBlockEncode(b *testing.B) {
	c := benchCorpusOnce()
	for _, bc := range benchCodecs() {
		b.Run(bc.name, func(b *testing.B) {
			bb := newBlockBuilder(bc.comp)
			var dst []byte
			b.ReportAllocs()
			i := 0
			var raw int64
			cpu := startCPU()
			for b.Loop() {
				es := c.blocks[i%len(c.blocks)]
				i++
				for _, e := range es {
					bb.Append(e.ts, e.line, labels.EmptyLabels())
				}
				raw += int64(bb.RawSize())
				dst, _ = bb.Encode(dst[:0])
			}
			cpu.report(b, raw)
			b.SetBytes(raw / int64(b.N))
		})
	}
}

// benchRead iterates all blocks of a codec's corpus with fn per entry and
// reports bytes of lines per second and sizes: ratio is lines bytes over
// stored bytes (blocks, filters and index entries), vs-snappy is stored
// bytes over the bytes of the same blocks compressed with snappy, without
// filters or index, and meta-% is filters and index over block bytes.
func benchRead(b *testing.B, o ReadOptions, fn func(e model.Entry)) {
	c := benchCorpusOnce()
	snappyData, _ := storedSize(encodedCorpus(benchCodecs()[1]))
	for _, bc := range benchCodecs() {
		b.Run(bc.name, func(b *testing.B) {
			bs := encodedCorpus(bc)
			data, meta := storedSize(bs)
			b.ReportAllocs()
			b.SetBytes(c.raw)
			cpu := startCPU()
			for b.Loop() {
				for _, eb := range bs {
					it := BlockEntries(eb.Data, eb.Meta, -1<<62, 1<<62, model.Forward, o)
					for it.Next() {
						fn(it.At())
					}
					if err := it.Err(); err != nil {
						b.Fatal(err)
					}
					_ = it.Close()
				}
			}
			cpu.report(b, c.raw*int64(b.N))
			b.ReportMetric(float64(c.raw)/float64(data+meta), "ratio")
			b.ReportMetric(float64(data+meta)/float64(snappyData), "vs-snappy")
			b.ReportMetric(100*float64(meta)/float64(data), "meta-%")
		})
	}
}

func BenchmarkBlockDecode(b *testing.B) {
	benchRead(b, ReadOptions{}, func(model.Entry) {})
}

func BenchmarkDecodeScan(b *testing.B) {
	absent := []byte("connection reset by peer 0xdeadbeef")
	hits := 0
	benchRead(b, ReadOptions{}, func(e model.Entry) {
		if bytes.Index(e.Line, absent) >= 0 {
			hits++
		}
	})
	if hits != 0 {
		b.Fatal("absent needle found")
	}
}

func BenchmarkTimestampsOnly(b *testing.B) {
	benchRead(b, ReadOptions{TimestampsOnly: true}, func(model.Entry) {})
}

// BenchmarkNeedleSearch looks for a needle carried by one line in
// benchNeedleN across a whole chunk per stream, skipping blocks by filter.
func BenchmarkNeedleSearch(b *testing.B) {
	c := benchCorpusOnce()
	bc := benchCodec{"default", newCompressor(DefaultCodec)}
	bs := encodedCorpus(bc)
	var chunks []*Chunk
	byStream := make([][]EncodedBlock, benchStreams)
	for i, eb := range bs {
		byStream[c.stream[i]] = append(byStream[c.stream[i]], eb)
	}
	for _, group := range byStream {
		data, err := Encode(nil, Header{Tenant: "bench", Labels: labels.FromStrings("app", "x"), Codec: DefaultCodec}, group)
		if err != nil {
			b.Fatal(err)
		}
		ch, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		chunks = append(chunks, ch)
	}
	var st ReadStats
	found := 0
	b.ReportAllocs()
	b.SetBytes(c.raw)
	cpu := startCPU()
	for b.Loop() {
		for _, ch := range chunks {
			it := ch.Entries(-1<<62, 1<<62, model.Backward, ReadOptions{Needles: [][]byte{c.needle}, Stats: &st})
			for it.Next() {
				if bytes.Contains(it.At().Line, c.needle) {
					found++
				}
			}
			_ = it.Close()
		}
	}
	cpu.report(b, c.raw*int64(b.N))
	if found == 0 {
		b.Fatal("needle not found")
	}
	b.ReportMetric(float64(st.BlocksSkipped)/float64(st.BlocksTotal)*100, "skipped-%")
}

// BenchmarkFilterFalsePositive measures how often a block's filter lets
// through a needle the block does not contain: random hex (ids, trace ids)
// and random lower-case words, of several lengths.
func BenchmarkFilterFalsePositive(b *testing.B) {
	bs := encodedCorpus(benchCodec{"default", newCompressor(DefaultCodec)})
	for _, kind := range []string{"hex", "word"} {
		for _, n := range []int{6, 8, 12, 16, 32} {
			b.Run(fmt.Sprintf("%s-%d", kind, n), func(b *testing.B) {
				r := loggenRand(uint64(n))
				var tried, passed int
				needle := make([]byte, n)
				b.ReportAllocs()
				for b.Loop() {
					for i := range needle {
						if kind == "hex" {
							needle[i] = "0123456789abcdef"[r()%16]
						} else {
							needle[i] = byte('a' + r()%26)
						}
					}
					for i := range bs {
						tried++
						if bs[i].Meta.MayContain(needle) {
							passed++
						}
					}
				}
				b.ReportMetric(float64(passed)/float64(tried)*100, "fp-%")
			})
		}
	}
}

// loggenRand returns a tiny deterministic generator (splitmix64).
func loggenRand(seed uint64) func() uint64 {
	return func() uint64 {
		seed += 0x9E3779B97F4A7C15
		z := seed
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		return z ^ z>>31
	}
}

// cpuTime returns the CPU time (user + system) used by the process so far.
// The machine running benchmarks is often shared, so besides wall-clock
// MB/s the benchmarks report cpu-MB/s: bytes per CPU-second, which is what
// "per core" means.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports bytes per CPU-second of a benchmark loop.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter { return cpuMeter{cpuTime()} }

func (m cpuMeter) report(b *testing.B, bytes int64) {
	if d := cpuTime() - m.start; d > 0 {
		b.ReportMetric(float64(bytes)/d.Seconds()/1e6, "cpu-MB/s")
	}
}

// benchBlocks runs fn on every block of each codec's corpus per
// iteration and reports bytes of lines per CPU-second.
func benchBlocks(b *testing.B, fn func(b *testing.B, s *BlockScanner, eb *EncodedBlock)) {
	c := benchCorpusOnce()
	for _, bc := range benchCodecs() {
		b.Run(bc.name, func(b *testing.B) {
			bs := encodedCorpus(bc)
			var s BlockScanner
			b.ReportAllocs()
			b.SetBytes(c.raw)
			cpu := startCPU()
			for b.Loop() {
				for i := range bs {
					fn(b, &s, &bs[i])
				}
			}
			cpu.report(b, c.raw*int64(b.N))
		})
	}
}

// benchScan loads every block of a codec's corpus into a BlockScanner with
// cols and runs fn on it, reporting bytes of lines per second.
func benchScan(b *testing.B, cols Columns, fn func(s *BlockScanner)) {
	benchBlocks(b, func(b *testing.B, s *BlockScanner, eb *EncodedBlock) {
		if err := s.Load(eb.Data, &eb.Meta, cols, nil); err != nil {
			b.Fatal(err)
		}
		fn(s)
	})
}

// BenchmarkScanLines searches an absent needle through the lines of
// every block, as the querier counts a line filter its token filters
// cannot rule out: BlockScanner.LoadMatching (checksum, lines section
// decompressed and searched in one pass, nothing else decoded when the
// needle is absent), then NextMatch on a hit: decompress + scan.
func BenchmarkScanLines(b *testing.B) {
	absent := [][]byte{[]byte("connection reset by peer 0xdeadbeef")}
	benchBlocks(b, func(b *testing.B, s *BlockScanner, eb *EncodedBlock) {
		found, err := s.LoadMatching(eb.Data, &eb.Meta, 0, -1<<62, 1<<62, absent, nil)
		if err != nil {
			b.Fatal(err)
		}
		if found && s.NextMatch(0, s.Len(), absent) != s.Len() {
			b.Fatal("absent needle found")
		}
	})
}

// BenchmarkScanLinesEager is BenchmarkScanLines with every column loaded
// first (BlockScanner.Load): what the lazy decoding of LoadMatching saves.
func BenchmarkScanLinesEager(b *testing.B) {
	absent := [][]byte{[]byte("connection reset by peer 0xdeadbeef")}
	benchScan(b, ColumnLines, func(s *BlockScanner) {
		if s.NextMatch(0, s.Len(), absent) != s.Len() {
			b.Fatal("absent needle found")
		}
	})
}

// BenchmarkFilterLines reads every block with ReadOptions.FilterLines and
// an absent needle, as a log query with a line filter reads the blocks its
// token filters cannot rule out (the filters are bypassed here: every
// block is read).
func BenchmarkFilterLines(b *testing.B) {
	o := ReadOptions{Needles: [][]byte{[]byte("connection reset by peer 0xdeadbeef")}, FilterLines: true}
	benchBlocks(b, func(b *testing.B, _ *BlockScanner, eb *EncodedBlock) {
		it := newBlockIter(eb.Data, &eb.Meta, -1<<62, 1<<62, model.Forward, &o, true)
		if it.Next() {
			b.Fatal("absent needle found")
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		_ = it.Close()
	})
}

// BenchmarkScanTimestamps decodes the timestamps of every block.
func BenchmarkScanTimestamps(b *testing.B) {
	benchScan(b, 0, func(s *BlockScanner) {
		if s.Len() == 0 {
			b.Fatal("no entries")
		}
	})
}
