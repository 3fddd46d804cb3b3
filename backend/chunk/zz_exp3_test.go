package chunk

import "testing"

func refAdd(f *filterBuilder, line []byte) {
	if len(line) < 4 {
		return
	}
	f.any = true
	set, sh := f.set, 64-f.shift
	g := uint32(lowerASCII[line[0]])<<16 | uint32(lowerASCII[line[1]])<<8 | uint32(lowerASCII[line[2]])
	for _, c := range line[3:] {
		g = g<<8 | uint32(lowerASCII[c])
		i := (uint64(g) * gramMul) >> sh
		set[i>>6] |= 1 << (i & 63)
	}
}

func BenchmarkZZFilter(b *testing.B) {
	c := benchCorpusOnce()
	for _, name := range []string{"ref", "new", "ref2", "new2"} {
		b.Run(name, func(b *testing.B) {
			var f filterBuilder
			var raw int64
			i := 0
			cpu := startCPU()
			for b.Loop() {
				es := c.blocks[i%len(c.blocks)]
				i++
				f.reset(256 << 10)
				for _, e := range es {
					raw += int64(len(e.line))
					if name[0] == 'r' {
						refAdd(&f, e.line)
					} else {
						f.add(e.line)
					}
				}
				if len(name) == 3 { _ = f.appendFilter(nil, 40000) }
			}
			cpu.report(b, raw)
		})
	}
}
