package cluster

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/index"
)

// Dropping a period removes its index keys and records the objects of the
// chunks that ended in it; the records survive a restart and a forget
// removes them.
func TestDropPeriodAndForget(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, testConfig(t))
	ctx := context.Background()
	es := []index.ChunkEntry{
		entry("t1", "t1/chunks/old", 10*day+5, 10*day+50, "app", "a"),
		entry("t1", "t1/chunks/span", 11*day-5, 11*day+5, "app", "a"),
		entry("t1", "t1/chunks/new", 12*day+5, 12*day+50, "app", "a"),
		entry("t2", "t2/chunks/old", 10*day+5, 10*day+50, "app", "a"),
	}
	if err := n.AddChunks(ctx, es); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UnixMilli()
	if err := n.DropPeriod(ctx, "t1", 10); err != nil {
		t.Fatal(err)
	}
	if refs, _ := n.Chunks(ctx, "t1", es[0].Ref.Fingerprint, 10*day, 11*day-1); len(refs) != 0 {
		t.Fatalf("refs of the dropped day: %v", refs)
	}
	if refs, _ := n.Chunks(ctx, "t2", es[3].Ref.Fingerprint, 10*day, 11*day-1); len(refs) != 1 {
		t.Fatalf("tenant t2 lost day 10: %v", refs)
	}
	dropped := func(unixMs int64) []string {
		t.Helper()
		objs, err := n.DroppedObjects(ctx, unixMs, 10)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(objs)
		return objs
	}
	if got := dropped(time.Now().UnixMilli()); !slices.Equal(got, []string{"t1/chunks/old"}) {
		t.Fatalf("dropped objects %v, want the chunk that ended on day 10", got)
	}
	if got := dropped(before - 60_000); len(got) != 0 {
		t.Fatalf("objects dropped before the drop: %v", got)
	}
	if err := n.DropPeriod(ctx, "t1", 11); err != nil {
		t.Fatal(err)
	}
	want := []string{"t1/chunks/old", "t1/chunks/span"}
	if got := dropped(time.Now().UnixMilli()); !slices.Equal(got, want) {
		t.Fatalf("dropped objects %v, want %v", got, want)
	}
	tps, err := n.TenantPeriods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := []index.TenantPeriod{{Tenant: "t1", Period: 12}, {Tenant: "t2", Period: 10}}; !slices.Equal(tps, w) {
		t.Fatalf("periods %v, want %v", tps, w)
	}

	// The records are FSM state, kept across a restart.
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	n.Close()
	n2 := startNode(t, dir, testConfig(t))
	if got, _ := n2.DroppedObjects(ctx, time.Now().UnixMilli(), 10); len(got) != 2 {
		t.Fatalf("after restart: dropped objects %v", got)
	}
	if err := n2.ForgetObjects(ctx, []string{"t1/chunks/old"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := n2.DroppedObjects(ctx, time.Now().UnixMilli(), 10); !slices.Equal(got, []string{"t1/chunks/span"}) {
		t.Fatalf("after forget: %v", got)
	}
	if got, _ := n2.DroppedObjects(ctx, time.Now().UnixMilli(), 0); len(got) != 0 {
		t.Fatalf("limit 0 listed %v", got)
	}

	// A replica flushing a dropped chunk late does not bring it back, before
	// or after its object is deleted; an hour after the deletion its record
	// is purged and the ref is taken again.
	readd := func(when string, want int) {
		t.Helper()
		if err := n2.AddChunks(ctx, es[:1]); err != nil {
			t.Fatal(err)
		}
		if refs, _ := n2.Chunks(ctx, "t1", es[0].Ref.Fingerprint, 10*day, 11*day-1); len(refs) != want {
			t.Fatalf("%s: %d refs of the dropped chunk, want %d", when, len(refs), want)
		}
	}
	readd("deleted", 0)
	// The late replica may have stored the object again: it is listed for
	// deletion once more.
	if got, _ := n2.DroppedObjects(ctx, time.Now().UnixMilli(), 10); len(got) != 2 {
		t.Fatalf("after a late ref to a deleted object: dropped objects %v, want it listed again", got)
	}
	if err := n2.ForgetObjects(ctx, []string{"t1/chunks/old", "t1/chunks/span"}); err != nil {
		t.Fatal(err)
	}
	cmd, err := encodeCommand(cmdForget, time.Now().Add(forgetAfter+time.Minute).UnixMilli(), encodeIDs(nil))
	if err != nil {
		t.Fatal(err)
	}
	propose(t, n2, cmd)
	if hasKey(t, n2, deletedKey("t1/chunks/old")) || hasKey(t, n2, deletedKey("t1/chunks/span")) {
		t.Fatal("records of objects deleted over an hour ago not purged")
	}
	readd("purged", 1)
}

func TestDropPeriodRejectsMalformed(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t))
	for name, body := range map[string][]byte{
		"empty":          nil,
		"no period":      appendBytes(nil, "t1"),
		"trailing bytes": append(encodeDropPeriod("t1", 3), 0),
		"period range":   append(appendBytes(nil, "t1"), 0x80, 0x80, 0x80, 0x80, 0x40),
	} {
		cmd, err := encodeCommand(cmdDropPeriod, time.Now().UnixMilli(), body)
		if err != nil {
			t.Fatal(err)
		}
		if err, ok := propose(t, n, cmd).(error); !ok || !errors.Is(err, ErrRejected) {
			t.Fatalf("%s: response %v, want ErrRejected", name, err)
		}
	}
	if tenant, p, err := decodeDropPeriod(encodeDropPeriod("t\x00x", -3)); err != nil || tenant != "t\x00x" || p != -3 {
		t.Fatalf("round trip: %q %d %v", tenant, p, err)
	}
}
