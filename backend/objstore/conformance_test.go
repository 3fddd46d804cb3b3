package objstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/internal/testutil/miniotest"
	"github.com/lode-logs/lode/backend/objstore"
	"github.com/lode-logs/lode/backend/objstore/objstoretest"
)

func newFilesystem(t *testing.T) *objstore.FilesystemBucket {
	t.Helper()
	b, err := objstore.NewFilesystem(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFilesystemConformance(t *testing.T) {
	t.Parallel()
	objstoretest.Run(t, func(t *testing.T) objstore.Bucket { return newFilesystem(t) })
}

func TestInstrumentedConformance(t *testing.T) {
	t.Parallel()
	objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
		return objstore.NewInstrumented(newFilesystem(t), prometheus.NewRegistry())
	})
}

func TestCachedConformance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		maxBytes int64
	}{
		{"roomy", 256 << 20}, // every object fits, the large one included
		{"tiny", 4 << 10},    // constant eviction
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
				return objstore.NewCached(newFilesystem(t), c.maxBytes, prometheus.NewRegistry())
			})
		})
	}
}

// s3Factory returns a constructor of fresh, empty S3 buckets on srv.
func s3Factory(srv *miniotest.Server) func(t *testing.T) objstore.Bucket {
	var n atomic.Int64
	return func(t *testing.T) objstore.Bucket {
		t.Helper()
		cfg := objstore.S3Config{
			Endpoint:        srv.Endpoint,
			Bucket:          fmt.Sprintf("lode-test-%d", n.Add(1)),
			AccessKeyID:     srv.AccessKey,
			SecretAccessKey: objstore.Secret(srv.SecretKey),
			Insecure:        true,
		}
		b, err := objstore.NewS3(context.Background(), cfg, prometheus.NewRegistry())
		if err != nil {
			t.Fatalf("NewS3: %v", err)
		}
		return b
	}
}

// TestS3 runs everything that needs a MinIO server on one server.
func TestS3(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	newS3 := s3Factory(srv)
	t.Run("conformance", func(t *testing.T) { objstoretest.Run(t, newS3) })
	t.Run("cached conformance", func(t *testing.T) {
		objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
			return objstore.NewCached(newS3(t), 64<<20, prometheus.NewRegistry())
		})
	})
	t.Run("New", func(t *testing.T) {
		testNew(t, objstore.Config{Backend: objstore.BackendS3, S3: objstore.S3Config{
			Endpoint: srv.Endpoint, Bucket: "lode-from-config", Insecure: true,
			AccessKeyID: srv.AccessKey, SecretAccessKey: objstore.Secret(srv.SecretKey),
		}})
	})
}

func TestNewFilesystem(t *testing.T) {
	t.Parallel()
	testNew(t, objstore.Config{Backend: objstore.BackendFilesystem})
}

// testNew opens cfg through New and checks that the bucket works and is
// instrumented.
func testNew(t *testing.T, cfg objstore.Config) {
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	reg := prometheus.NewRegistry()
	b, err := objstore.New(context.Background(), cfg, t.TempDir(), reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()
	if err := b.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, err := b.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "lode_objstore_operations_total" {
			return
		}
	}
	t.Fatal("New did not instrument the bucket: lode_objstore_operations_total not registered")
}
