package sender

import (
	"bytes"
	"testing"
)

func TestCountRejected(t *testing.T) {
	s := &sealed{counts: []int{5, 7, 3}, labels: []string{`{a="1"}`, `{a="2"}`, `{a="3"}`}, entries: 15}
	tests := []struct {
		name, msg string
		want      int
	}{
		{"lode whole stream", "stream {a=\"2\"} too old (stream 1, all its entries)", 7},
		{"lode entries", "line too long (stream 0, entry 2, limit 10)\nline too long (stream 0, entry 4, limit 10)", 2},
		{"lode more", "x (stream 2, all its entries)\nand 4 more", 7},
		{"loki labels", "entry for stream '{a=\"3\"}' has timestamp too old", 3},
		{"unrecognised: everything", "bad request", 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := countRejected(tc.msg, s); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestQueueSpillsAndBlocks: batches over the memory limit go to disk, in
// order; when the disk limit is reached, put waits (or refuses).
func TestQueueSpillsAndBlocks(t *testing.T) {
	q, err := newQueue(t.TempDir(), 100, 250, nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(b byte) *sealed {
		body := bytes.Repeat([]byte{b}, 100)
		return &sealed{body: body, size: len(body)}
	}
	for i := byte(0); i < 3; i++ {
		if !q.put(mk(i), false) {
			t.Fatalf("put %d refused", i)
		}
	}
	if q.memBytes != 100 || q.spool.bytes != 200 {
		t.Fatalf("memory %d, disk %d", q.memBytes, q.spool.bytes)
	}
	if q.put(mk(9), false) {
		t.Fatal("put accepted past both limits")
	}
	for i := byte(0); i < 3; i++ {
		s, body, err := q.front()
		if err != nil || s == nil || body[0] != i || len(body) != 100 {
			t.Fatalf("front %d: %v %v", i, body[:1], err)
		}
		q.pop()
	}
	if q.spool.bytes != 0 || q.memBytes != 0 {
		t.Fatalf("left %d %d", q.memBytes, q.spool.bytes)
	}
	q.close()
	if s, _, _ := q.front(); s != nil {
		t.Fatal("front after close on empty queue")
	}
}
