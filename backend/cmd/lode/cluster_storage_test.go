package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
	"github.com/lode-logs/lode/backend/internal/testutil/miniotest"
	"github.com/lode-logs/lode/backend/objstore"
)

// TestClusterStoresOneCopyOfReplicatedChunks checks that the three
// replicas of a stream cut byte-identical chunks, so that the object store
// keeps one copy: the bytes stored stay within 1.1× of what one replica
// flushed (a store keeping every replica's chunks would hold 3×).
func TestClusterStoresOneCopyOfReplicatedChunks(t *testing.T) {
	c, m := startTestCluster(t, 3, 0)
	prof := clusterProfile()
	load := newPushLoad(t, prof, c.Nodes())
	load.Start()
	sleepPhase(t, "load", prof.warmup+prof.after)
	load.Stop()
	load.Report()
	nodes := c.Nodes()
	for n, err := range flushAll(nodes, 30*time.Second) {
		if err != nil {
			t.Fatalf("flush %s: %v", n, err)
		}
	}
	c.WaitFor(30*time.Second, "flush backlogs drained", func() error {
		return backlogEmpty(t, nodes)
	})
	flushed := map[string]float64{}
	for _, n := range nodes {
		ms, err := n.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		flushed[n.ID] = ms["lode_ingester_flushed_bytes_total"]
	}
	stored, objects := bucketBytes(t, m)
	var sum float64
	for _, b := range flushed {
		sum += b
	}
	oneReplica := sum / 3 // every stream is on all three nodes
	ratio := float64(stored) / oneReplica
	t.Logf("chunk storage: %d objects, %d bytes stored; flushed per node %v; stored / one replica's bytes = %.3f",
		objects, stored, flushed, ratio)
	if oneReplica == 0 || objects == 0 {
		t.Fatal("nothing was flushed")
	}
	if ratio > 1.1 {
		t.Errorf("stored %.2f× one replica's compressed bytes, want at most 1.1×", ratio)
	}
	load.Verify(nodes...)
}

// backlogEmpty reports an error while any node has chunks waiting.
func backlogEmpty(t *testing.T, nodes []*lodetest.Node) error {
	for _, n := range nodes {
		ms, err := n.Metrics()
		if err != nil {
			return err
		}
		if b := ms["lode_ingester_flush_backlog_chunks"]; b > 0 {
			return &backlogError{node: n.ID, chunks: b}
		}
	}
	return nil
}

type backlogError struct {
	node   string
	chunks float64
}

func (e *backlogError) Error() string { return e.node + " has chunks to flush" }

// bucketBytes sums the sizes of the chunk objects in the cluster's bucket.
func bucketBytes(t *testing.T, m *miniotest.Server) (bytes int64, objects int) {
	t.Helper()
	b, ctx := clusterBucket(t, m)
	err := b.Iter(ctx, "", func(key string) error {
		if !strings.Contains(key, "/chunks/") {
			return nil
		}
		data, err := b.Get(ctx, key)
		if err != nil {
			return err
		}
		bytes += int64(len(data))
		objects++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bytes, objects
}

// bucketObjects counts the chunk objects in the cluster's bucket, listing
// only (objects may be deleted meanwhile).
func bucketObjects(t *testing.T, m *miniotest.Server) (objects int) {
	t.Helper()
	b, ctx := clusterBucket(t, m)
	err := b.Iter(ctx, "", func(key string) error {
		if strings.Contains(key, "/chunks/") {
			objects++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return objects
}

// clusterBucket opens the bucket of startTestCluster's nodes.
func clusterBucket(t *testing.T, m *miniotest.Server) (objstore.Bucket, context.Context) {
	t.Helper()
	var cfg objstore.Config
	cfg.Backend = objstore.BackendS3
	cfg.S3.Endpoint, cfg.S3.Bucket, cfg.S3.Insecure = m.Endpoint, "lode-cluster", true
	cfg.S3.AccessKeyID, cfg.S3.SecretAccessKey = m.AccessKey, objstore.Secret(m.SecretKey)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	b, err := objstore.New(ctx, cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return b, ctx
}
