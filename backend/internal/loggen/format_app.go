package loggen

// appendJSON appends a JSON application log line.
func (g *Generator) appendJSON(dst []byte, s *stream, ts int64, extra []byte) []byte {
	r := &g.r
	g.clock.at(ts)
	lvl := g.lineLevel(s)
	dst = append(dst, `{"ts":"`...)
	dst = append(dst, g.clock.iso...)
	dst = append(dst, '.')
	dst = appendFrac(dst, ts, 3)
	dst = append(dst, `Z","level":"`...)
	dst = append(dst, levelNames[lvl]...)
	dst = append(dst, `","logger":"`...)
	dst = append(dst, s.app...)
	dst = append(dst, '.')
	dst = append(dst, pick(r, javaClasses)...)
	dst = append(dst, `","msg":"`...)
	dst = append(dst, pick(r, messages[lvl])...)
	dst = append(dst, `","trace_id":"`...)
	dst = appendTraceID(dst, &s.req)
	dst = append(dst, `","span_id":"`...)
	dst = appendHex(dst, r.next(), 16)
	dst = append(dst, `","http":{"method":"`...)
	dst = append(dst, httpMethods.pick(r)...)
	dst = append(dst, `","path":"`...)
	dst, _ = g.appendPath(dst)
	dst = append(dst, `","status":`...)
	dst = appendInt(dst, httpStatuses.pick(r))
	dst = append(dst, `},"duration_ms":`...)
	dst = appendFixed(dst, g.micros()/10, 2)
	dst = append(dst, `,"user_id":`...)
	dst = appendInt(dst, s.req.user)
	dst = append(dst, `,"region":"`...)
	dst = append(dst, pick(r, regions)...)
	dst = append(dst, '"')
	if lvl == 3 {
		dst = append(dst, `,"error":"`...)
		dst = appendJSONString(dst, pick(r, errorTexts))
		dst = append(dst, '"')
	}
	if len(extra) > 0 {
		dst = append(dst, `,"ref":"`...)
		dst = append(dst, extra...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// appendJSONString appends s escaped for a JSON string (quotes and
// backslashes only; the vocabularies hold no control characters).
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// appendLogfmt appends a logfmt line in the style of Go services.
func (g *Generator) appendLogfmt(dst []byte, s *stream, ts int64, extra []byte) []byte {
	r := &g.r
	g.clock.at(ts)
	lvl := g.lineLevel(s)
	dst = append(dst, "ts="...)
	dst = append(dst, g.clock.iso...)
	dst = append(dst, '.')
	dst = appendFrac(dst, ts, 6)
	dst = append(dst, "Z caller="...)
	dst = append(dst, pick(r, goFiles)...)
	dst = append(dst, ':')
	dst = appendInt(dst, 20+r.intn(600))
	dst = append(dst, " level="...)
	dst = append(dst, levelNames[lvl]...)
	dst = append(dst, ` msg="`...)
	dst = append(dst, pick(r, messages[lvl])...)
	dst = append(dst, `" method=`...)
	dst = append(dst, httpMethods.pick(r)...)
	dst = append(dst, " path="...)
	dst, _ = g.appendPath(dst)
	dst = append(dst, " status="...)
	dst = appendInt(dst, httpStatuses.pick(r))
	dst = append(dst, " duration="...)
	dst = appendFixed(dst, g.micros(), 3)
	dst = append(dst, "ms bytes="...)
	dst = appendInt(dst, r.intn(64_000))
	dst = append(dst, " traceID="...)
	dst = appendTraceID(dst, &s.req)
	if lvl >= 2 {
		dst = append(dst, ` err="`...)
		dst = appendJSONString(dst, pick(r, errorTexts))
		dst = append(dst, '"')
	}
	if len(extra) > 0 {
		dst = append(dst, " ref="...)
		dst = append(dst, extra...)
	}
	return dst
}

// appendKlog appends a Kubernetes component (klog) line.
func (g *Generator) appendKlog(dst []byte, s *stream, ts int64, extra []byte) []byte {
	r := &g.r
	g.clock.at(ts)
	lvl := g.lineLevel(s)
	dst = append(dst, "IIWE"[lvl])
	dst = append(dst, g.clock.klog...)
	dst = append(dst, '.')
	dst = appendFrac(dst, ts, 6)
	dst = append(dst, "       1 "...)
	dst = append(dst, pick(r, klogFiles)...)
	dst = append(dst, ':')
	dst = appendInt(dst, 50+r.intn(900))
	dst = append(dst, "] "...)
	dst = append(dst, pick(r, klogMessages)...)
	dst = append(dst, '"')
	dst = append(dst, pick(r, namespaces)...)
	dst = append(dst, '/')
	dst = append(dst, pick(r, apps)...)
	dst = append(dst, '-')
	dst = appendHex(dst, r.next(), 10)
	dst = append(dst, '"')
	if len(extra) > 0 {
		dst = append(dst, " ref="...)
		dst = append(dst, extra...)
	}
	return dst
}
