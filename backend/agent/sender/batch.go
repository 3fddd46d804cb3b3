package sender

import (
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/agent/ack"
	"github.com/lode-logs/lode/backend/agent/stages"
	"github.com/lode-logs/lode/backend/push"
)

// batch accumulates the entries of one tenant until it is sealed.
type batch struct {
	tenant  string
	created time.Time
	req     push.Request
	byHash  map[uint64][]int // labels hash -> indexes into req.Streams
	lbls    []labels.Labels  // per stream
	blocks  [][]byte         // line storage; blocks never move once allocated
	bytes   int              // lines and labels, the batch size Promtail counts
	entries int
	holds   map[*ack.Tracker]ack.Token // the earliest token of each file
}

const blockSize = 64 << 10

func newBatch(tenant string, now time.Time) *batch {
	return &batch{tenant: tenant, created: now, byHash: map[uint64][]int{}, holds: map[*ack.Tracker]ack.Token{}}
}

// add copies e into the batch under labels ls and takes over its token.
func (b *batch) add(e *stages.Entry, ls labels.Labels) {
	si := b.stream(ls)
	line := b.copyLine(e.Line)
	var md []push.LabelPair
	if len(e.Metadata) > 0 {
		md = append([]push.LabelPair(nil), e.Metadata...)
		for _, p := range md {
			b.bytes += len(p.Name) + len(p.Value)
		}
	}
	s := &b.req.Streams[si]
	s.Entries = append(s.Entries, push.Entry{Timestamp: e.Timestamp, Line: line, Metadata: md})
	b.bytes += len(line)
	b.entries++
	b.hold(e.Ack)
}

// hold keeps the earliest token of each file: the batch is acknowledged
// as a whole, so later lines of the same file need no token of their own.
func (b *batch) hold(tok ack.Token) {
	tr := tok.Tracker()
	if tr == nil {
		return
	}
	if prev, ok := b.holds[tr]; ok {
		if tok.Before(prev) {
			b.holds[tr] = tok
			prev.Done()
			return
		}
		tok.Done()
		return
	}
	b.holds[tr] = tok
}

func (b *batch) stream(ls labels.Labels) int {
	h := ls.Hash()
	for _, i := range b.byHash[h] {
		if labels.Equal(b.lbls[i], ls) {
			return i
		}
	}
	i := len(b.req.Streams)
	str := ls.String()
	b.req.Streams = append(b.req.Streams, push.Stream{Labels: str})
	b.lbls = append(b.lbls, ls)
	b.byHash[h] = append(b.byHash[h], i)
	b.bytes += len(str)
	return i
}

func (b *batch) copyLine(line []byte) []byte {
	if len(line) == 0 {
		return []byte{}
	}
	n := len(b.blocks)
	if n == 0 || cap(b.blocks[n-1])-len(b.blocks[n-1]) < len(line) {
		b.blocks = append(b.blocks, make([]byte, 0, max(blockSize, len(line))))
		n++
	}
	blk := b.blocks[n-1]
	start := len(blk)
	blk = append(blk, line...)
	b.blocks[n-1] = blk
	return blk[start:len(blk):len(blk)]
}

// sealed is an encoded batch waiting in the queue.
type sealed struct {
	tenant   string
	body     []byte // snappy-compressed protobuf; nil while on disk
	size     int    // len(body)
	spoolRef spoolRef
	onDisk   bool
	counts   []int    // entries per stream
	labels   []string // label string per stream
	entries  int
	bytes    int
	holds    []ack.Token
	enqueued time.Time
}

// seal encodes b. scratch is reused for the protobuf encoding.
func (b *batch) seal(scratch []byte) (*sealed, []byte) {
	scratch = b.req.AppendMarshal(scratch[:0])
	s := &sealed{tenant: b.tenant, body: snappy.Encode(nil, scratch), entries: b.entries, bytes: b.bytes}
	s.size = len(s.body)
	s.counts = make([]int, len(b.req.Streams))
	s.labels = make([]string, len(b.req.Streams))
	for i, st := range b.req.Streams {
		s.counts[i] = len(st.Entries)
		s.labels[i] = st.Labels
	}
	s.holds = make([]ack.Token, 0, len(b.holds))
	for _, t := range b.holds {
		s.holds = append(s.holds, t)
	}
	return s, scratch
}

// release lets go of the batch's tokens (sent, or dropped for good).
func (s *sealed) release() {
	for _, t := range s.holds {
		t.Done()
	}
	s.holds = nil
}
