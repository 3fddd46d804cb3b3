package querier

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

// countingBucket counts whole and ranged reads.
type countingBucket struct {
	objstore.Bucket
	gets, ranges atomic.Int64
}

func (c *countingBucket) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Bucket.Get(ctx, key)
}

func (c *countingBucket) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	c.ranges.Add(1)
	return c.Bucket.GetRange(ctx, key, off, n)
}

// TestCachedBlockIndexReadsOnlyNeededBlocks checks that once a chunk was
// read, a needle query fetches just the block that may hold the needle,
// and answers exactly as a full read does.
func TestCachedBlockIndexReadsOnlyNeededBlocks(t *testing.T) {
	fs, err := objstore.NewFilesystem(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &countingBucket{Bucket: fs}
	ls := labels.FromStrings("app", "api")
	fp := model.StreamFingerprint(tenant, ls)
	var blocks []chunk.EncodedBlock
	for blk := 0; blk < 8; blk++ {
		bb := chunk.NewBlockBuilder(chunk.DefaultCodec)
		for i := 0; i < 50; i++ {
			ts := int64(blk*1000 + i)
			bb.Append(ts, []byte(fmt.Sprintf("request %d handled by worker-%d in block-%d", ts, i%7, blk)), labels.EmptyLabels())
		}
		if blk == 5 {
			bb.Append(5025, []byte("panic: needle-7f3a9c2e-unique happened"), labels.EmptyLabels())
		}
		data, meta := bb.Encode(nil)
		blocks = append(blocks, chunk.EncodedBlock{Meta: meta, Data: data})
	}
	obj, err := chunk.Encode(nil, chunk.Header{Tenant: tenant, Labels: ls, Fingerprint: fp, Codec: chunk.DefaultCodec}, blocks)
	if err != nil {
		t.Fatal(err)
	}
	key := chunk.ObjectKey(tenant, fp, obj)
	if err := fs.Put(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	idx := &fakeIndex{streams: []index.Stream{{Fingerprint: fp, Labels: ls}},
		refs: map[model.Fingerprint][]index.ChunkRef{fp: {{Tenant: tenant, Fingerprint: fp, Key: key, From: 0, Through: 7049}}}}
	q := New(Config{FetchConcurrency: 2, ChunkMetaCacheMB: 1}, idx, b, nil)
	sel := model.LogSelect{Tenant: tenant, Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "api")},
		Start: 0, End: 10000, Direction: model.Backward, Needles: [][]byte{[]byte("needle-7f3a9c2e-unique")}}
	run := func() string {
		it, err := q.SelectLogs(context.Background(), sel)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		found := ""
		for it.Next() {
			n++
			if e := it.At(); string(e.Line) == "panic: needle-7f3a9c2e-unique happened" {
				found = fmt.Sprintf("at %d", e.Timestamp)
			}
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d entries, needle %s", n, found)
	}
	first := run() // whole object read; block index cached
	if b.gets.Load() != 1 || b.ranges.Load() != 0 {
		t.Fatalf("first read: %d gets, %d ranged reads", b.gets.Load(), b.ranges.Load())
	}
	second := run()
	if b.gets.Load() != 1 || b.ranges.Load() != 1 {
		t.Fatalf("cached read: %d gets, %d ranged reads; want only the needle's block", b.gets.Load(), b.ranges.Load())
	}
	// Both reads return the needle's line only: blocks that cannot match
	// are skipped, and lines without the needle dropped by the scan.
	if first != "1 entries, needle at 5025" || second != first {
		t.Fatalf("first read %q, cached read %q", first, second)
	}
	// Without needles most blocks are needed: one whole read again.
	sel.Needles = nil
	if got := run(); got != "401 entries, needle at 5025" || b.gets.Load() != 2 {
		t.Fatalf("full scan: %q with %d gets", got, b.gets.Load())
	}
}
