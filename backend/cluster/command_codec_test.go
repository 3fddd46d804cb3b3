package cluster

import (
	"errors"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
)

func TestAddChunksCodecRoundTrip(t *testing.T) {
	entries := []index.ChunkEntry{
		entry("t1", "t1/chunks/a", 10, 20, "app", "a"),
		entry("tenant-two", "tenant-two/chunks/b", -5*day, -5*day+1, "app", "b", "pod", "p\x00q"),
		entry("t1", "t1/chunks/c", math.MaxInt64-1, math.MaxInt64, "z", "last"),
	}
	entries[0].Ref.Size, entries[0].Ref.Entries = math.MaxUint32, 0
	id := RequestID{0xde, 0xad}
	cmd := addChunksCommand(id, 1234567, entries...)
	c, err := decodeCommand(cmd)
	if err != nil || c.typ != cmdAddChunks || c.id != id || c.time != 1234567 {
		t.Fatalf("decodeCommand = %+v, %v", c, err)
	}
	got, err := decodeAddChunks(c.body)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("%d entries, want %d", len(got), len(entries))
	}
	for i := range got {
		if got[i].Ref != entries[i].Ref || !labels.Equal(got[i].Labels, entries[i].Labels) {
			t.Fatalf("entry %d = %+v, want %+v", i, got[i], entries[i])
		}
	}
	for cut := headerLen; cut < len(cmd); cut++ {
		c, _ := decodeCommand(cmd[:cut])
		if _, err := decodeAddChunks(c.body); !errors.Is(err, ErrRejected) {
			t.Fatalf("command cut at %d of %d bytes decoded: %v", cut, len(cmd), err)
		}
	}
}

func TestAddChunksCodecRejectsHugeCounts(t *testing.T) {
	body := []byte{0xff, 0xff, 0xff, 0xff, 0x0f} // count 2^32-1 in a 5-byte body
	if _, err := decodeAddChunks(body); !errors.Is(err, ErrRejected) {
		t.Fatalf("decodeAddChunks = %v, want ErrRejected", err)
	}
}
