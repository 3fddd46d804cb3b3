package loggen

// appendJava appends a Java (logback) line; error lines carry a multi-line
// stack trace with "Caused by" and "... n more".
func (g *Generator) appendJava(dst []byte, s *stream, ts int64, extra []byte) []byte {
	r := &g.r
	g.clock.at(ts)
	lvl := g.lineLevel(s)
	dst = append(dst, g.clock.java...)
	dst = append(dst, ',')
	dst = appendFrac(dst, ts, 3)
	dst = append(dst, ' ')
	dst = append(dst, [4]string{"DEBUG", " INFO", " WARN", "ERROR"}[lvl]...)
	dst = append(dst, " 1 --- [nio-8080-exec-"...)
	dst = appendInt(dst, 1+r.intn(200))
	dst = append(dst, "] c.a."...)
	dst = append(dst, s.app...)
	dst = append(dst, '.')
	dst = append(dst, pick(r, javaClasses)...)
	dst = append(dst, " : "...)
	dst = append(dst, pick(r, messages[lvl])...)
	dst = append(dst, " orderId="...)
	dst = appendInt(dst, g.skewed(9_999_999))
	if len(extra) > 0 {
		dst = append(dst, " ref="...)
		dst = append(dst, extra...)
	}
	if lvl < 3 || !r.chance(2) {
		return dst
	}
	dst = append(dst, '\n')
	dst = append(dst, pick(r, javaExceptions)...)
	dst = g.appendJavaFrames(dst, s, 3+r.intn(6))
	if r.chance(2) {
		dst = append(dst, "\nCaused by: "...)
		dst = append(dst, pick(r, javaExceptions)...)
		dst = g.appendJavaFrames(dst, s, 2+r.intn(3))
		dst = append(dst, "\n\t... "...)
		dst = appendInt(dst, 20+r.intn(60))
		dst = append(dst, " more"...)
	}
	return dst
}

func (g *Generator) appendJavaFrames(dst []byte, s *stream, n int) []byte {
	r := &g.r
	for i := range n {
		dst = append(dst, "\n\tat "...)
		if i > n/2 {
			dst = append(dst, pick(r, javaFrameworkFrames)...)
			continue
		}
		cls := pick(r, javaClasses)
		dst = append(dst, "com.acme."...)
		dst = append(dst, s.app...)
		dst = append(dst, '.')
		dst = append(dst, cls...)
		dst = append(dst, '.')
		dst = append(dst, pick(r, javaMethods)...)
		dst = append(dst, '(')
		dst = append(dst, cls...)
		dst = append(dst, ".java:"...)
		dst = appendInt(dst, 30+r.intn(700))
		dst = append(dst, ')')
	}
	return dst
}

// appendGo appends a Go service line in logfmt; some error lines are a
// panic with a goroutine trace.
func (g *Generator) appendGo(dst []byte, s *stream, ts int64, extra []byte) []byte {
	r := &g.r
	if lvl := g.lineLevel(s); lvl < 3 || !r.chance(4) {
		return g.appendLogfmt(dst, s, ts, extra)
	}
	dst = append(dst, "panic: "...)
	dst = append(dst, pick(r, goPanics)...)
	if len(extra) > 0 {
		dst = append(dst, " ref="...)
		dst = append(dst, extra...)
	}
	dst = append(dst, "\n\ngoroutine "...)
	dst = appendInt(dst, 1+r.intn(5000))
	dst = append(dst, " [running]:"...)
	for range 3 + r.intn(5) {
		dst = append(dst, '\n')
		dst = append(dst, pick(r, goFuncs)...)
		dst = append(dst, "(0xc"...)
		dst = appendHex(dst, r.next(), 9)
		dst = append(dst, ", {0x"...)
		dst = appendHex(dst, r.next(), 6)
		dst = append(dst, ", 0x"...)
		dst = appendHex(dst, r.next(), 2)
		dst = append(dst, "})\n\t/src/"...)
		dst = append(dst, s.app...)
		dst = append(dst, '/')
		dst = append(dst, pick(r, goFiles)...)
		dst = append(dst, ':')
		dst = appendInt(dst, 20+r.intn(600))
		dst = append(dst, " +0x"...)
		dst = appendHex(dst, r.next(), 3)
	}
	dst = append(dst, "\nexit status 2"...)
	return dst
}
