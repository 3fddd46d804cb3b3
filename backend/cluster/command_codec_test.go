package cluster

import (
	"encoding/hex"
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

// TestCommandEncodingFrozen pins the bytes of an addChunks command
// (FORMAT.md, version 1): Raft logs and snapshots written by earlier
// releases must stay readable.
func TestCommandEncodingFrozen(t *testing.T) {
	e := entry("fake", "k1", 1000, 1003, "app", "a")
	e.Ref.Size, e.Ref.Entries = 300, 5
	id := RequestID{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10}
	got := hex.EncodeToString(addChunksCommand(id, 0x0102030405, e))
	want := "01" + // type: add chunks
		"0102030405060708090a0b0c0d0e0f10" + // request id
		"0000000102030405" + // time, Unix ms
		"01" + // one entry
		"0466616b65" + "026b31" + // tenant "fake", key "k1"
		"31bdbd29c3d690ec" + // fingerprint
		"d00f" + "03" + // from 1000 (zig-zag varint), through-from 3
		"ac02" + "05" + // size 300, entries 5
		"01" + "03617070" + "0161" // labels: app="a"
	if got != want {
		t.Fatalf("encoding changed:\n got %s\nwant %s", got, want)
	}
}
