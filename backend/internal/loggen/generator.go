package loggen

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Options configure a Generator. The zero value of each field but Streams
// picks the default noted.
type Options struct {
	Seed    int64
	Streams int // number of streams, > 0
	// Start is the timestamp of the first line (Unix ns); 0 means
	// 2024-01-01T00:00:00Z.
	Start int64
	// MeanInterval is the mean time between consecutive lines of the whole
	// corpus; 0 means 1ms.
	MeanInterval time.Duration
	// NeedleEvery > 0 makes every NeedleEvery-th line carry a unique token.
	NeedleEvery int
}

// kind is the log format of a stream.
type kind uint8

const (
	kindNginx kind = iota
	kindApache
	kindJSON
	kindLogfmt
	kindJava
	kindGo
	kindKlog
	numKinds
)

// stream is the fixed identity and state of one stream.
type stream struct {
	labels labels.Labels
	kind   kind
	level  int // index in levelNames
	app    string
	pod    string
	ip     [4]byte
	// clients is the stream's pool of recurring client addresses.
	clients [32][4]byte
	// req is the request being logged: app streams log a few lines per
	// request with the same trace and user.
	req request
}

// Generator produces the corpus. See the package doc.
type Generator struct {
	opts      Options
	r         splitmix
	streams   []stream
	pickTab   []uint16 // stream weights: index → stream
	now       int64
	gap       uint64 // 2 * mean interval
	n         int64  // lines generated
	needles   int    // needles embedded
	needle    []byte // token of the last line, if any
	needleBuf []byte
	clock     clockCache
}

// New returns a generator of streams streams seeded with seed.
func New(seed int64, streams int) *Generator {
	return NewWithOptions(Options{Seed: seed, Streams: streams})
}

// NewWithOptions returns a generator configured by o. It panics if
// o.Streams < 1 (a programming error).
func NewWithOptions(o Options) *Generator {
	if o.Streams < 1 {
		panic(fmt.Sprintf("BUG: loggen with %d streams", o.Streams))
	}
	if o.Start == 0 {
		o.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	}
	if o.MeanInterval <= 0 {
		o.MeanInterval = time.Millisecond
	}
	g := &Generator{opts: o, r: splitmix{s: uint64(o.Seed)}, now: o.Start, gap: 2 * uint64(o.MeanInterval)}
	g.streams = make([]stream, o.Streams)
	for i := range g.streams {
		g.streams[i] = g.newStream(i)
	}
	// Chattiness: stream i gets weight 1 + 15/(1 + i%16), so a few streams
	// are loud and most are quiet, as in real clusters.
	for i := range g.streams {
		for range 1 + 15/(1+g.r.intn(16)) {
			g.pickTab = append(g.pickTab, uint16(i))
		}
	}
	return g
}

func (g *Generator) newStream(i int) stream {
	r := &g.r
	s := stream{kind: kind(r.intn(int(numKinds))), app: apps[r.intn(len(apps))]}
	ns := namespaces[r.intn(len(namespaces))]
	container := s.app
	switch s.kind {
	case kindNginx:
		container, ns = "nginx", pick(r, []string{ns, "ingress-nginx"})
	case kindApache:
		container = "httpd"
	case kindKlog:
		ns, container = "kube-system", pick(r, []string{"kube-controller-manager", "kube-scheduler", "coredns", "cert-manager"})
		s.app = container
	}
	switch s.kind {
	case kindNginx, kindApache:
		s.level = 1
	case kindJava, kindGo:
		s.level = 2 + r.intn(2) // warn or error streams: some stack traces
	default:
		lw := newWeighted([]int{0, 1, 2, 3}, []int{32, 160, 40, 24})
		s.level = lw.pick(r)
	}
	var pod []byte
	pod = append(pod, s.app...)
	pod = append(pod, '-')
	for range 10 {
		pod = append(pod, hexDigits[r.intn(16)])
	}
	pod = append(pod, '-')
	for range 5 {
		pod = append(pod, alnum[r.intn(len(alnum))])
	}
	s.pod = string(pod)
	s.ip = [4]byte{10, byte(r.intn(64)), byte(r.intn(256)), byte(1 + r.intn(254))}
	for i := range s.clients {
		s.clients[i] = g.randomIP()
	}
	s.labels = labels.FromStrings(
		"namespace", ns,
		"app", s.app,
		"pod", s.pod,
		"container", container,
		"level", levelNames[s.level],
		"job", ns+"/"+s.app,
		"cluster", "prod-eu-1",
		"stream_id", fmt.Sprint(i),
	)
	return s
}

// Streams returns the number of streams.
func (g *Generator) Streams() int { return len(g.streams) }

// Labels returns the label set of stream i (0 <= i < Streams()).
func (g *Generator) Labels(i int) labels.Labels { return g.streams[i].labels }

// Lines returns the number of lines generated so far.
func (g *Generator) Lines() int64 { return g.n }

// LastNeedle returns the needle token carried by the line last returned by
// Next, or nil. The slice is owned by the generator until the next Next.
func (g *Generator) LastNeedle() []byte { return g.needle }

// NeedleToken returns the token carried by the k-th needle line (k >= 1,
// line k*NeedleEvery), for a generator with the given seed.
func NeedleToken(seed int64, k int) []byte {
	return appendNeedle(nil, seed, k)
}

func appendNeedle(dst []byte, seed int64, k int) []byte {
	r := splitmix{s: uint64(seed) ^ uint64(k)*0xD6E8FEB86659FD93}
	dst = append(dst, "lodeneedle"...)
	return appendHex(dst, r.next(), 16)
}

// Next generates the next line: it appends it to dst and returns the stream
// index, its timestamp (Unix ns, never decreasing) and the line (dst
// extended). Lines may contain newlines (stack traces) but never end with
// one.
func (g *Generator) Next(dst []byte) (stream int, ts int64, line []byte) {
	g.n++
	si := int(g.pickTab[g.r.intn(len(g.pickTab))])
	s := &g.streams[si]
	// Now and then the clock does not move: consecutive lines (often of
	// the same loud stream) share a timestamp.
	if !g.r.chance(32) {
		g.now += int64((g.r.next() >> 11) % g.gap)
	}
	ts = g.now
	g.needle = nil
	if e := g.opts.NeedleEvery; e > 0 && g.n%int64(e) == 0 {
		g.needles++
		g.needleBuf = appendNeedle(g.needleBuf[:0], g.opts.Seed, g.needles)
		g.needle = g.needleBuf
	}
	if s.req.left == 0 {
		g.newRequest(&s.req)
	}
	s.req.left--
	start := len(dst)
	dst = g.appendLine(dst, s, ts, g.needle)
	return si, ts, dst[start:]
}

func (g *Generator) appendLine(dst []byte, s *stream, ts int64, extra []byte) []byte {
	switch s.kind {
	case kindNginx:
		return g.appendNginx(dst, s, ts, extra)
	case kindApache:
		return g.appendApache(dst, s, ts, extra)
	case kindJSON:
		return g.appendJSON(dst, s, ts, extra)
	case kindLogfmt:
		return g.appendLogfmt(dst, s, ts, extra)
	case kindJava:
		return g.appendJava(dst, s, ts, extra)
	case kindGo:
		return g.appendGo(dst, s, ts, extra)
	default:
		return g.appendKlog(dst, s, ts, extra)
	}
}
