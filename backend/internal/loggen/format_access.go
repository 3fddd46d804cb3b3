package loggen

// probe is a kubelet health check: a large share of real access logs.
const probeUA = "kube-probe/1.29"

// appendNginx appends an ingress-nginx access log line (combined format
// with upstream fields and the request id).
func (g *Generator) appendNginx(dst []byte, s *stream, ts int64, extra []byte) []byte {
	r := &g.r
	g.clock.at(ts)
	probe := len(extra) == 0 && r.chance(6)
	if probe {
		dst = appendIP(dst, s.clients[0])
	} else {
		dst = appendIP(dst, g.clientIP(s))
	}
	dst = append(dst, " - - ["...)
	dst = append(dst, g.clock.nginx...)
	dst = append(dst, "] \""...)
	status, size, reqLen := 200, 2, 112
	var ua string
	if probe {
		dst = append(dst, "GET /healthz"...)
		ua = probeUA
	} else {
		dst = append(dst, httpMethods.pick(r)...)
		dst = append(dst, ' ')
		var rt route
		dst, rt = g.appendPathExtra(dst, extra)
		status = httpStatuses.pick(r)
		size = g.responseSize(rt, status)
		reqLen = 380 + r.intn(1+r.intn(900))
		ua = pick(r, userAgents)
	}
	dst = append(dst, " HTTP/1.1\" "...)
	dst = appendInt(dst, status)
	dst = append(dst, ' ')
	dst = appendInt(dst, size)
	dst = append(dst, " \""...)
	if probe {
		dst = append(dst, '-')
	} else {
		dst = append(dst, pick(r, referers)...)
	}
	dst = append(dst, "\" \""...)
	dst = append(dst, ua...)
	dst = append(dst, "\" "...)
	dst = appendInt(dst, reqLen)
	us := g.micros()
	dst = append(dst, " "...)
	dst = appendFixed(dst, us/1000, 3)
	dst = append(dst, " ["...)
	dst = append(dst, s.app...)
	dst = append(dst, "-80] [] "...)
	dst = appendIP(dst, s.ip)
	dst = append(dst, ":8080 "...)
	dst = appendInt(dst, size)
	dst = append(dst, ' ')
	dst = appendFixed(dst, max(us-300, 0)/1000, 3)
	dst = append(dst, ' ')
	dst = appendInt(dst, status)
	dst = append(dst, ' ')
	dst = appendHex(dst, r.next(), 16)
	return appendHex(dst, r.next(), 16)
}

// appendApache appends an Apache "combined" access log line, or now and then
// an error log line.
func (g *Generator) appendApache(dst []byte, s *stream, ts int64, extra []byte) []byte {
	r := &g.r
	g.clock.at(ts)
	if r.chance(20) {
		dst = append(dst, '[')
		dst = append(dst, g.clock.apache...)
		dst = append(dst, "] [proxy:error] [pid "...)
		dst = appendInt(dst, 7+r.intn(400))
		dst = append(dst, "] (111)Connection refused: AH00957: http: attempt to connect to "...)
		dst = appendIP(dst, s.ip)
		dst = append(dst, ":8080 ("...)
		dst = append(dst, s.app...)
		dst = append(dst, ") failed"...)
		if len(extra) > 0 {
			dst = append(dst, ' ')
			dst = append(dst, extra...)
		}
		return dst
	}
	probe := len(extra) == 0 && r.chance(6)
	if probe {
		dst = appendIP(dst, s.clients[0])
		dst = append(dst, " - - ["...)
		dst = append(dst, g.clock.nginx...)
		dst = append(dst, "] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \""...)
		dst = append(dst, probeUA...)
		return append(dst, '"')
	}
	dst = appendIP(dst, g.clientIP(s))
	dst = append(dst, " - "...)
	if r.chance(4) {
		dst = append(dst, "user"...)
		dst = appendInt(dst, g.skewed(5000))
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, " ["...)
	dst = append(dst, g.clock.nginx...)
	dst = append(dst, "] \""...)
	dst = append(dst, httpMethods.pick(r)...)
	dst = append(dst, ' ')
	dst, rt := g.appendPathExtra(dst, extra)
	dst = append(dst, " HTTP/1.1\" "...)
	status := httpStatuses.pick(r)
	dst = appendInt(dst, status)
	dst = append(dst, ' ')
	dst = appendInt(dst, g.responseSize(rt, status))
	dst = append(dst, " \""...)
	dst = append(dst, pick(r, referers)...)
	dst = append(dst, "\" \""...)
	dst = append(dst, pick(r, userAgents)...)
	return append(dst, '"')
}
