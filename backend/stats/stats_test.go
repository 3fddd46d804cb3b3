package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestResultJSONGolden(t *testing.T) {
	c, ctx := NewContext(context.Background())
	if FromContext(ctx) != c {
		t.Fatal("FromContext did not return the attached Context")
	}
	c.Querier().AddChunks(3, 2, 5*time.Millisecond)
	c.Querier().AddDecompressed(100, 4000, 1000, 50)
	c.Ingester().AddHeadChunk(10, 400, 0)
	c.Querier().AddPostFilterLines(7)
	c.AddIngesterReached(2)
	c.AddIngesterBatch(10, 1)
	c.Cache(CacheChunk).AddRequest(2, 1, 1000, time.Millisecond)
	c.AddIndex(3, 2, 0)
	c.AddSplits(1)
	c.AddEntriesReturned(7)
	r := c.Result(500 * time.Millisecond)
	got := r.AppendJSON(nil)

	path := filepath.Join("testdata", "result.golden.json")
	if *update {
		var buf bytes.Buffer
		_ = json.Indent(&buf, got, "", "  ")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(compact.Bytes(), got) {
		t.Fatalf("JSON differs from golden\n got: %s\nwant: %s", got, compact.Bytes())
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name      string
		add       func(c *Context)
		exec      time.Duration
		wantBytes int64
		wantLines int64
		wantBPS   int64
	}{
		{"empty", func(*Context) {}, time.Second, 0, 0, 0},
		{"querier and ingester add up", func(c *Context) {
			c.Querier().AddDecompressed(10, 1000, 300, 0)
			c.Ingester().AddHeadChunk(5, 500, 0)
			c.Ingester().AddDecompressed(1, 100, 50, 0)
		}, 2 * time.Second, 1600, 16, 800},
		{"structured metadata counts as processed bytes", func(c *Context) {
			c.Querier().AddDecompressed(1, 10, 5, 6)
		}, time.Second, 16, 1, 16},
		{"zero exec time has no rate", func(c *Context) { c.Querier().AddHeadChunk(1, 10, 0) }, 0, 10, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := NewContext(context.Background())
			tt.add(c)
			r := c.Result(tt.exec)
			if r.Summary.TotalBytesProcessed != tt.wantBytes || r.Summary.TotalLinesProcessed != tt.wantLines ||
				r.Summary.BytesProcessedPerSecond != tt.wantBPS {
				t.Fatalf("summary = %+v", r.Summary)
			}
		})
	}
}

func TestNilContextIgnoresCalls(t *testing.T) {
	c := FromContext(context.Background())
	if c != nil {
		t.Fatal("expected nil context")
	}
	c.Querier().AddDecompressed(1, 1, 1, 1)
	c.Cache(CacheIndex).AddStored(1, 1)
	c.AddSplits(1)
	if _, err := Require(context.Background()); err != ErrNoContext {
		t.Fatalf("Require err = %v", err)
	}
	r := c.Result(time.Second)
	if r.Summary.ExecTime != 1 {
		t.Fatalf("exec time = %v", r.Summary.ExecTime)
	}
}

func TestConcurrentAdds(t *testing.T) {
	c, _ := NewContext(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				c.Querier().AddDecompressed(1, 2, 1, 0)
				c.AddEntriesReturned(1)
			}
		}()
	}
	wg.Wait()
	r := c.Result(time.Second)
	if r.Summary.TotalLinesProcessed != 8000 || r.Summary.TotalBytesProcessed != 16000 || r.Summary.TotalEntriesReturned != 8000 {
		t.Fatalf("summary = %+v", r.Summary)
	}
}

func TestMerge(t *testing.T) {
	a := Result{Summary: Summary{Splits: 1, ExecTime: 1}}
	a.Querier.Store.Chunk.DecompressedLines = 5
	b := Result{Summary: Summary{Splits: 2, ExecTime: 0.5}}
	b.Querier.Store.Chunk.DecompressedLines = 7
	b.Caches.Result.Requests = 3
	a.Merge(b)
	a.ComputeSummary(2*time.Second, 0, 0)
	if a.Summary.Splits != 3 || a.Summary.TotalLinesProcessed != 12 || a.Caches.Result.Requests != 3 {
		t.Fatalf("merged = %+v", a)
	}
}
