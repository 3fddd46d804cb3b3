package objstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
)

func openFS(t *testing.T, dir string) *FilesystemBucket {
	t.Helper()
	b, err := NewFilesystem(dir)
	if err != nil {
		t.Fatalf("NewFilesystem: %v", err)
	}
	return b
}

// stagingFiles lists what Put left in the staging directory.
func stagingFiles(t *testing.T, b *FilesystemBucket) []string {
	t.Helper()
	entries, err := os.ReadDir(b.staging)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// cancelAfterContext reports itself canceled from the n-th call of Err on,
// which cancels an operation at a deterministic point of its progress.
type cancelAfterContext struct {
	context.Context
	calls, n int64
}

func newCancelAfter(n int64) *cancelAfterContext {
	return &cancelAfterContext{Context: context.Background(), n: n}
}

func (c *cancelAfterContext) Err() error {
	if atomic.AddInt64(&c.calls, 1) >= c.n {
		return context.Canceled
	}
	return nil
}

func TestFilesystemPutNeverLeavesPartialObjects(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (20<<20)/16) // 20 MiB: 20 write chunks
	cases := []struct {
		name string
		ctx  context.Context
	}{
		{"canceled before the call", newCancelAfter(1)},
		{"canceled after the first chunk", newCancelAfter(3)},
		{"canceled in the middle", newCancelAfter(12)},
		{"canceled after the last chunk", newCancelAfter(int64(len(data)/fsWriteChunk) + 2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := openFS(t, t.TempDir())
			err := b.Put(c.ctx, "t/chunks/obj", data)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put error = %v, want context.Canceled", err)
			}
			if ok, err := b.Exists(context.Background(), "t/chunks/obj"); ok || err != nil {
				t.Fatalf("Exists after canceled Put = %v, %v; want false", ok, err)
			}
			if _, err := b.Get(context.Background(), "t/chunks/obj"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after canceled Put: error = %v, want ErrNotFound", err)
			}
			if left := stagingFiles(t, b); len(left) != 0 {
				t.Fatalf("canceled Put left temporary files: %q", left)
			}
		})
	}
}

func TestFilesystemOpenRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	b := openFS(t, dir)
	if err := b.Put(context.Background(), "kept", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// What a crash in the middle of Put leaves behind.
	if err := os.WriteFile(filepath.Join(b.staging, "put-123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	b = openFS(t, dir)
	if left := stagingFiles(t, b); len(left) != 0 {
		t.Fatalf("NewFilesystem kept stale temporary files: %q", left)
	}
	if got, err := b.Get(context.Background(), "kept"); err != nil || string(got) != "x" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	var keys []string
	if err := b.Iter(context.Background(), "", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"kept"}) {
		t.Fatalf("Iter = %q, want only the object (no staging files)", keys)
	}
}

func TestFilesystemDeleteRemovesEmptyDirectories(t *testing.T) {
	dir := t.TempDir()
	b := openFS(t, dir)
	ctx := context.Background()
	keys := []string{"t/chunks/aa/1", "t/chunks/aa/2", "t/chunks/bb/1"}
	for _, k := range keys {
		if err := b.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, "t/chunks/aa/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t/chunks/aa")); err != nil {
		t.Fatalf("directory with a remaining object was removed: %v", err)
	}
	for _, k := range keys[1:] {
		if err := b.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{stagingDir}) {
		t.Fatalf("root after deleting every object holds %q, want only %q", names, stagingDir)
	}
}

func TestFilesystemKeyAndDirectoryConflict(t *testing.T) {
	b := openFS(t, t.TempDir())
	ctx := context.Background()
	if err := b.Put(ctx, "a", []byte("file")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "a/b", []byte("below a file")); err == nil {
		t.Fatal(`Put("a/b") over the object "a" succeeded; want an error`)
	}
	if err := b.Put(ctx, "c/d", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "c", []byte("over a directory")); err == nil {
		t.Fatal(`Put("c") over the directory of "c/d" succeeded; want an error`)
	}
	if got, err := b.Get(ctx, "a"); err != nil || string(got) != "file" {
		t.Fatalf("Get(a) = %q, %v", got, err)
	}
	if left := stagingFiles(t, b); len(left) != 0 {
		t.Fatalf("failed Puts left temporary files: %q", left)
	}
}

func TestFilesystemConcurrentPutAndDeleteInSameDirectory(t *testing.T) {
	// Delete removes directories that become empty while Put may be about
	// to rename into them; Put must recreate them, never fail.
	b := openFS(t, t.TempDir())
	ctx := context.Background()
	const rounds = 100
	errs := make(chan error, 2)
	go func() {
		for range rounds {
			if err := b.Delete(ctx, "t/x/victim"); err != nil {
				errs <- err
				return
			}
			if err := b.Put(ctx, "t/x/victim", []byte("v")); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	go func() {
		for range rounds {
			if err := b.Put(ctx, "t/x/other", []byte("o")); err != nil {
				errs <- err
				return
			}
			if err := b.Delete(ctx, "t/x/other"); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
