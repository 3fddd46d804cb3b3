package ack

import (
	"sort"
	"sync"
)

type slot struct {
	seq  uint64
	off  int64 // start offset of the line
	refs int32
}

// Tracker is the acknowledgement state of one file incarnation.
type Tracker struct {
	mu      sync.Mutex // guards the fields below
	slots   []slot     // slots[head:] ordered by seq; released ones are removed lazily
	head    int
	live    int
	nextSeq uint64
	readEnd int64 // end offset of the last line added
}

// NewTracker starts tracking a file whose bytes before offset are already
// committed.
func NewTracker(offset int64) *Tracker {
	return &Tracker{readEnd: offset}
}

// Token names one line held by one or more references. The zero Token is
// valid and does nothing (lines that need no acknowledgement).
type Token struct {
	t   *Tracker
	seq uint64
}

// Add registers the line [start, end) with one reference and returns its
// token. start must not be below the end of the previous line.
func (t *Tracker) Add(start, end int64) Token {
	t.mu.Lock()
	defer t.mu.Unlock()
	if start < t.readEnd {
		panic("BUG: ack: lines added out of order")
	}
	seq := t.nextSeq
	t.nextSeq++
	t.slots = append(t.slots, slot{seq: seq, off: start, refs: 1})
	t.live++
	t.readEnd = end
	return Token{t: t, seq: seq}
}

// Skip marks the bytes up to end as read and needing no acknowledgement (for
// example bytes dropped before a line could be formed).
func (t *Tracker) Skip(end int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if end > t.readEnd {
		t.readEnd = end
	}
}

// Committed returns the offset before which every line was acknowledged.
func (t *Tracker) Committed() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.committedLocked()
}

func (t *Tracker) committedLocked() int64 {
	if t.live == 0 {
		return t.readEnd
	}
	return t.slots[t.head].off
}

// Held returns how many lines are still held.
func (t *Tracker) Held() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live
}

// Retain adds n references to the token's line (one per extra holder).
func (tok Token) Retain(n int) {
	if tok.t == nil || n == 0 {
		return
	}
	t := tok.t
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.find(tok.seq)
	if s == nil || s.refs <= 0 {
		panic("BUG: ack: Retain of a released token")
	}
	s.refs += int32(n)
}

// Done releases one reference of the token's line.
func (tok Token) Done() {
	if tok.t == nil {
		return
	}
	t := tok.t
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.find(tok.seq)
	if s == nil || s.refs <= 0 {
		panic("BUG: ack: Done of a released token")
	}
	s.refs--
	if s.refs > 0 {
		return
	}
	t.live--
	for t.head < len(t.slots) && t.slots[t.head].refs == 0 {
		t.head++
	}
	if t.live == 0 {
		t.slots, t.head = t.slots[:0], 0
		return
	}
	if t.head > 64 && t.head*2 > len(t.slots) || len(t.slots) > 256 && t.live*4 < len(t.slots) {
		t.compact()
	}
}

// Tracker returns the token's tracker (nil for the zero Token).
func (tok Token) Tracker() *Tracker { return tok.t }

// Before reports whether tok names an earlier line than other of the same
// tracker.
func (tok Token) Before(other Token) bool { return tok.seq < other.seq }

func (t *Tracker) find(seq uint64) *slot {
	s := t.slots[t.head:]
	i := sort.Search(len(s), func(i int) bool { return s[i].seq >= seq })
	if i == len(s) || s[i].seq != seq {
		return nil
	}
	return &s[i]
}

// compact drops released slots, keeping the order.
func (t *Tracker) compact() {
	out := t.slots[:0]
	for _, s := range t.slots[t.head:] {
		if s.refs > 0 {
			out = append(out, s)
		}
	}
	clear(t.slots[len(out):])
	t.slots, t.head = out, 0
	if cap(t.slots) > 1024 && len(t.slots)*8 < cap(t.slots) {
		t.slots = append(make([]slot, 0, 2*len(t.slots)), t.slots...)
	}
}
