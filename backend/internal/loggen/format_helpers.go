package loggen

import (
	"strconv"
	"time"
)

// clockCache holds the per-second prefixes of the timestamp layouts in use,
// recomputed only when the second changes.
type clockCache struct {
	sec    int64
	valid  bool
	nginx  []byte // 02/Jan/2006:15:04:05 +0000
	iso    []byte // 2006-01-02T15:04:05
	java   []byte // 2006-01-02 15:04:05
	klog   []byte // 0102 15:04:05
	apache []byte // Mon Jan 02 15:04:05 2006 (error log) / access uses nginx
}

func (c *clockCache) at(ts int64) {
	sec := ts / 1e9
	if c.valid && sec == c.sec {
		return
	}
	c.sec, c.valid = sec, true
	t := time.Unix(sec, 0).UTC()
	c.nginx = t.AppendFormat(c.nginx[:0], "02/Jan/2006:15:04:05 -0700")
	c.iso = t.AppendFormat(c.iso[:0], "2006-01-02T15:04:05")
	c.java = t.AppendFormat(c.java[:0], "2006-01-02 15:04:05")
	c.klog = t.AppendFormat(c.klog[:0], "0102 15:04:05")
	c.apache = t.AppendFormat(c.apache[:0], "Mon Jan 02 15:04:05 2006")
}

// appendFrac appends the first digits digits of the sub-second part of ts.
func appendFrac(dst []byte, ts int64, digits int) []byte {
	ns := ts % 1e9
	if ns < 0 {
		ns += 1e9
	}
	var buf [9]byte
	for i := 8; i >= 0; i-- {
		buf[i] = byte('0' + ns%10)
		ns /= 10
	}
	return append(dst, buf[:digits]...)
}

func appendInt(dst []byte, v int) []byte { return strconv.AppendInt(dst, int64(v), 10) }

// appendHex appends the low 4*n bits of v as n hex digits.
func appendHex(dst []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(4*uint(i)))&15])
	}
	return dst
}

// appendFixed appends v/10^dec with dec decimals (v >= 0).
func appendFixed(dst []byte, v, dec int) []byte {
	p := 1
	for range dec {
		p *= 10
	}
	dst = appendInt(dst, v/p)
	if dec == 0 {
		return dst
	}
	dst = append(dst, '.')
	f := v % p
	for p /= 10; p > 0; p /= 10 {
		dst = append(dst, byte('0'+f/p%10))
	}
	return dst
}

func appendIP(dst []byte, ip [4]byte) []byte {
	for i, b := range ip {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = appendInt(dst, int(b))
	}
	return dst
}

// micros returns a request duration in microseconds: mostly fast, with a
// long tail.
func (g *Generator) micros() int {
	u := g.r.next()
	switch b := u & 255; {
	case b < 200:
		return 150 + int((u>>8)%40_000)
	case b < 248:
		return 40_000 + int((u>>8)%460_000)
	default:
		return 500_000 + int((u>>8)%9_500_000)
	}
}

// request is what the lines logged for one request share.
type request struct {
	traceHi, traceLo uint64
	user             int
	left             int // lines still to log for it
}

func (g *Generator) newRequest(q *request) {
	q.traceHi, q.traceLo = g.r.next(), g.r.next()
	q.user = g.skewed(250_000)
	q.left = 1 + g.r.intn(6)
}

// skewed returns a number in [1, n] with small values far more likely
// (ids of popular users, products and orders recur).
func (g *Generator) skewed(n int) int { return 1 + g.r.intn(1+g.r.intn(n)) }

// clientIP returns a client address: mostly one of the stream's recurring
// clients, sometimes a new one.
func (g *Generator) clientIP(s *stream) [4]byte {
	if g.r.chance(8) {
		return g.randomIP()
	}
	return s.clients[g.r.intn(1+g.r.intn(len(s.clients)))]
}

func (g *Generator) randomIP() [4]byte {
	r := &g.r
	if r.chance(3) {
		return [4]byte{10, byte(r.intn(64)), byte(r.intn(256)), byte(1 + r.intn(254))}
	}
	return [4]byte{byte(1 + r.intn(223)), byte(r.intn(256)), byte(r.intn(256)), byte(1 + r.intn(254))}
}

func appendTraceID(dst []byte, q *request) []byte {
	dst = appendHex(dst, q.traceHi, 16)
	return appendHex(dst, q.traceLo, 16)
}

// appendPath appends a request path and returns the route it follows.
func (g *Generator) appendPath(dst []byte) ([]byte, route) {
	rt := routes.pick(&g.r)
	t := rt.tmpl
	for i := 0; i < len(t); i++ {
		if t[i] != '%' || i+1 == len(t) {
			dst = append(dst, t[i])
			continue
		}
		i++
		switch t[i] {
		case 'd':
			dst = appendInt(dst, g.skewed(99_999))
		case 'p':
			dst = appendInt(dst, 1+g.r.intn(1+g.r.intn(20)))
		case 'x':
			dst = appendHex(dst, g.r.next(), 8)
		case 'w':
			dst = append(dst, pick(&g.r, searchWords)...)
		}
	}
	return dst, rt
}

// appendPathExtra appends a path and, if extra is set, a query parameter
// carrying it.
func (g *Generator) appendPathExtra(dst, extra []byte) ([]byte, route) {
	dst, rt := g.appendPath(dst)
	if len(extra) > 0 {
		dst = append(dst, "?ref="...)
		dst = append(dst, extra...)
	}
	return dst, rt
}

// responseSize returns the body size of a response on rt with status.
func (g *Generator) responseSize(rt route, status int) int {
	switch {
	case status == 304 || status == 204:
		return 0
	case status >= 300:
		return 150 + g.r.intn(4)*8
	case rt.static:
		return rt.size
	}
	return rt.size + g.r.intn(1+rt.size/8)
}

// lineLevel returns the level of a line of stream s: mostly the stream's
// level, sometimes a neighbour.
func (g *Generator) lineLevel(s *stream) int {
	if g.r.chance(8) {
		return g.r.intn(len(levelNames))
	}
	return s.level
}
