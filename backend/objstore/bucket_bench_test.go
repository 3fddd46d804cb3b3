package objstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/lode-logs/lode/backend/internal/testutil/miniotest"
)

// benchObjectSize is a typical flushed chunk.
const benchObjectSize = 1536 << 10

func benchData(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return data
}

var benchBackends = []string{BackendFilesystem, BackendS3}

// newBenchBucket opens an empty bucket of the backend; s3 starts MinIO.
func newBenchBucket(b *testing.B, backend string) Bucket {
	if backend == BackendFilesystem {
		fs, err := NewFilesystem(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return fs
	}
	srv := miniotest.Start(b)
	cfg := S3Config{
		Endpoint: srv.Endpoint, Bucket: "lode-bench", Insecure: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: Secret(srv.SecretKey),
	}
	s3, err := NewS3(context.Background(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s3
}

func BenchmarkPut(b *testing.B) {
	data := benchData(benchObjectSize)
	for _, name := range benchBackends {
		b.Run(name, func(b *testing.B) {
			bucket := newBenchBucket(b, name)
			ctx := context.Background()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := bucket.Put(ctx, fmt.Sprintf("t/chunks/%04x/%08d", i%256, i), data); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	data := benchData(benchObjectSize)
	for _, name := range benchBackends {
		b.Run(name, func(b *testing.B) {
			bucket := newBenchBucket(b, name)
			ctx := context.Background()
			if err := bucket.Put(ctx, "t/chunks/obj", data); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bucket.Get(ctx, "t/chunks/obj"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGetRange64KiB(b *testing.B) {
	data := benchData(benchObjectSize)
	const n = 64 << 10
	for _, name := range benchBackends {
		b.Run(name, func(b *testing.B) {
			bucket := newBenchBucket(b, name)
			ctx := context.Background()
			if err := bucket.Put(ctx, "t/chunks/obj", data); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bucket.GetRange(ctx, "t/chunks/obj", benchObjectSize-n, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCachedGetHit(b *testing.B) {
	data := benchData(benchObjectSize)
	inner := newMemBucket()
	ctx := context.Background()
	_ = inner.Put(ctx, "obj", data)
	c := NewCached(inner, 64<<20, nil)
	if _, err := c.Get(ctx, "obj"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "obj"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilesystemIter(b *testing.B) {
	bucket, err := NewFilesystem(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const keys = 2000
	for i := range keys {
		if err := bucket.Put(ctx, fmt.Sprintf("t/chunks/%02x/%08d", i%64, i), []byte("x")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := bucket.Iter(ctx, "t/", func(string) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != keys {
			b.Fatalf("Iter visited %d keys, want %d", n, keys)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
}
