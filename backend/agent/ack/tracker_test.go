package ack

import "testing"

func TestTracker(t *testing.T) {
	type step struct {
		op        string // add, done, retain
		i         int    // token index for done/retain
		committed int64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{"add", 0, 0}, {"add", 1, 0}, {"done", 0, 10}, {"done", 1, 20}}},
		{"out of order", []step{{"add", 0, 0}, {"add", 1, 0}, {"add", 2, 0}, {"done", 2, 0}, {"done", 1, 0}, {"done", 0, 30}}},
		{"retained by two clients", []step{{"add", 0, 0}, {"retain", 0, 0}, {"done", 0, 0}, {"done", 0, 10}}},
		{"middle first", []step{{"add", 0, 0}, {"add", 1, 0}, {"add", 2, 0}, {"done", 1, 0}, {"done", 0, 20}, {"done", 2, 30}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(0)
			var toks []Token
			for n, s := range tc.steps {
				switch s.op {
				case "add":
					off := int64(len(toks) * 10)
					toks = append(toks, tr.Add(off, off+10))
				case "done":
					toks[s.i].Done()
				case "retain":
					toks[s.i].Retain(1)
				}
				if got := tr.Committed(); got != s.committed {
					t.Fatalf("step %d (%s %d): committed %d, want %d", n, s.op, s.i, got, s.committed)
				}
			}
			if tr.Held() != 0 {
				t.Fatalf("held %d after all done", tr.Held())
			}
		})
	}
}

func TestTrackerCompactsWhileHeadIsHeld(t *testing.T) {
	tr := NewTracker(100)
	first := tr.Add(100, 110)
	for i := int64(1); i < 100000; i++ {
		tr.Add(100+i*10, 110+i*10).Done()
	}
	if len(tr.slots) > 1024 {
		t.Fatalf("%d slots kept for 1 held line", len(tr.slots))
	}
	if got := tr.Committed(); got != 100 {
		t.Fatalf("committed %d, want 100 while the first line is held", got)
	}
	first.Done()
	if got := tr.Committed(); got != 110+99999*10 {
		t.Fatalf("committed %d after release", got)
	}
}

func TestZeroTokenIsNoop(t *testing.T) {
	var tok Token
	tok.Retain(3)
	tok.Done()
}
