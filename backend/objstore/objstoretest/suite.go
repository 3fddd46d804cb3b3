package objstoretest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/lode-logs/lode/backend/objstore"
)

// LargeObjectSize is the size of the object of the "large object" case.
const LargeObjectSize = 20 << 20

// Run runs the conformance suite against buckets made by newBucket.
func Run(t *testing.T, newBucket func(t *testing.T) objstore.Bucket) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b objstore.Bucket)
	}{
		{"PutGet", testPutGet},
		{"GetRange", testGetRange},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"Iter", testIter},
		{"IterStop", testIterStop},
		{"InvalidKeys", testInvalidKeys},
		{"Concurrent", testConcurrent},
		{"LargeObject", testLargeObject},
		{"CanceledContext", testCanceledContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newBucket(t)) })
	}
}

func put(t *testing.T, b objstore.Bucket, key string, data []byte) {
	t.Helper()
	if err := b.Put(context.Background(), key, data); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, b objstore.Bucket, key string) []byte {
	t.Helper()
	got, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

func testPutGet(t *testing.T, b objstore.Bucket) {
	cases := []struct {
		name string
		key  string
		data []byte
	}{
		{"simple", "obj", []byte("hello")},
		{"empty", "empty", []byte{}},
		{"binary", "bin", randomBytes(1, 4096)},
		{"slashes", "fake/chunks/00000000deadbeef/0123456789abcdef", []byte("chunk")},
		{"deep", "a/b/c/d/e/f/g/h", []byte("deep")},
		{"dots and dashes", "t-1.x/chunks/.hidden/v1.0", []byte("dots")},
		{"utf8", "tenant/ünïcødé/ключ", []byte("utf8")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			put(t, b, c.key, c.data)
			got := mustGet(t, b, c.key)
			if !bytes.Equal(got, c.data) {
				t.Fatalf("Get(%q) = %q, want %q", c.key, trim(got), trim(c.data))
			}
			ok, err := b.Exists(context.Background(), c.key)
			if err != nil || !ok {
				t.Fatalf("Exists(%q) = %v, %v; want true", c.key, ok, err)
			}
		})
	}
	t.Run("caller owns returned slice", func(t *testing.T) {
		put(t, b, "owned", []byte("abc"))
		got := mustGet(t, b, "owned")
		got[0] = 'X'
		if again := mustGet(t, b, "owned"); string(again) != "abc" {
			t.Fatalf("after modifying a returned slice, Get = %q, want %q", again, "abc")
		}
	})
	t.Run("put keeps no reference to data", func(t *testing.T) {
		data := []byte("original")
		put(t, b, "copied", data)
		copy(data, "XXXXXXXX")
		if got := mustGet(t, b, "copied"); string(got) != "original" {
			t.Fatalf("Get = %q, want %q", got, "original")
		}
	})
}

func testGetRange(t *testing.T, b objstore.Bucket) {
	data := []byte("0123456789")
	put(t, b, "r/obj", data)
	put(t, b, "r/empty", nil)
	cases := []struct {
		name        string
		key         string
		off, length int64
		want        string
		wantErr     error
	}{
		{"whole", "r/obj", 0, -1, "0123456789", nil},
		{"whole explicit", "r/obj", 0, 10, "0123456789", nil},
		{"middle", "r/obj", 3, 4, "3456", nil},
		{"suffix", "r/obj", 7, -1, "789", nil},
		{"last byte", "r/obj", 9, 1, "9", nil},
		{"first byte", "r/obj", 0, 1, "0", nil},
		{"length past end is truncated", "r/obj", 8, 100, "89", nil},
		{"zero length", "r/obj", 4, 0, "", nil},
		{"offset at end", "r/obj", 10, -1, "", nil},
		{"offset at end with length", "r/obj", 10, 5, "", nil},
		{"offset past end", "r/obj", 11, -1, "", objstore.ErrInvalidRange},
		{"offset far past end", "r/obj", 1000, 5, "", objstore.ErrInvalidRange},
		{"negative offset", "r/obj", -1, 2, "", objstore.ErrInvalidRange},
		{"empty object whole", "r/empty", 0, -1, "", nil},
		{"empty object with length", "r/empty", 0, 5, "", nil},
		{"empty object past end", "r/empty", 1, -1, "", objstore.ErrInvalidRange},
		{"missing", "r/missing", 0, -1, "", objstore.ErrNotFound},
		{"missing with range", "r/missing", 2, 3, "", objstore.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := b.GetRange(context.Background(), c.key, c.off, c.length)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("GetRange(%q, %d, %d) error = %v, want %v", c.key, c.off, c.length, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetRange(%q, %d, %d): %v", c.key, c.off, c.length, err)
			}
			if string(got) != c.want {
				t.Fatalf("GetRange(%q, %d, %d) = %q, want %q", c.key, c.off, c.length, got, c.want)
			}
		})
	}
}

func testOverwrite(t *testing.T, b objstore.Bucket) {
	data := []byte("same content")
	put(t, b, "o/k", data)
	put(t, b, "o/k", data)
	if got := mustGet(t, b, "o/k"); !bytes.Equal(got, data) {
		t.Fatalf("Get after identical overwrite = %q, want %q", got, data)
	}
	var keys []string
	if err := b.Iter(context.Background(), "o/", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatalf("Iter: %v", err)
	}
	if !slices.Equal(keys, []string{"o/k"}) {
		t.Fatalf("Iter after overwrite = %q, want one key", keys)
	}
}

func testNotFound(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	put(t, b, "nf/dir/obj", []byte("x"))
	// "nf/dir" is a key prefix, not an object.
	for _, key := range []string{"nf/missing", "nf/dir", "never/written/anywhere"} {
		t.Run(key, func(t *testing.T) {
			if _, err := b.Get(ctx, key); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("Get: error = %v, want ErrNotFound", err)
			}
			if _, err := b.GetRange(ctx, key, 0, 1); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("GetRange: error = %v, want ErrNotFound", err)
			}
			if ok, err := b.Exists(ctx, key); ok || err != nil {
				t.Errorf("Exists = %v, %v; want false, nil", ok, err)
			}
			if err := b.Delete(ctx, key); err != nil {
				t.Errorf("Delete of a missing key: %v", err)
			}
		})
	}
	if got := mustGet(t, b, "nf/dir/obj"); string(got) != "x" {
		t.Fatalf("Delete of a prefix changed an object below it: %q", got)
	}
}

func testDelete(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	put(t, b, "d/1/a", []byte("a"))
	put(t, b, "d/1/b", []byte("b"))
	if err := b.Delete(ctx, "d/1/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Get(ctx, "d/1/a"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get after Delete: error = %v, want ErrNotFound", err)
	}
	if ok, err := b.Exists(ctx, "d/1/a"); ok || err != nil {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
	if got := mustGet(t, b, "d/1/b"); string(got) != "b" {
		t.Fatalf("sibling after Delete = %q", got)
	}
	if err := b.Delete(ctx, "d/1/a"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if err := b.Delete(ctx, "d/1/b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	// A key can be written again after its directory became empty.
	put(t, b, "d/1/c", []byte("c"))
	if got := mustGet(t, b, "d/1/c"); string(got) != "c" {
		t.Fatalf("Get = %q", got)
	}
	var keys []string
	if err := b.Iter(ctx, "d/", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatalf("Iter: %v", err)
	}
	if !slices.Equal(keys, []string{"d/1/c"}) {
		t.Fatalf("Iter after deletes = %q", keys)
	}
}

func testIter(t *testing.T, b objstore.Bucket) {
	// Chosen so that a naive directory walk would get the order wrong:
	// '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' (0x30) after.
	keys := []string{
		"x/b", "x/a/b", "x/a-c", "x/a0", "x/ab/c", "x/a.d/e", "x/a/c/d",
		"y/1", "x0", "w/z", "x/aa",
	}
	for _, k := range keys {
		put(t, b, k, []byte(k))
	}
	all := slices.Sorted(slices.Values(keys))
	filter := func(prefix string) []string {
		var out []string
		for _, k := range all {
			if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
				out = append(out, k)
			}
		}
		return out
	}
	for _, prefix := range []string{"", "x", "x/", "x/a", "x/a/", "x/a/c", "x/a/c/d", "y/", "w", "nope", "x/z", "z/"} {
		t.Run(fmt.Sprintf("prefix %q", prefix), func(t *testing.T) {
			var got []string
			err := b.Iter(context.Background(), prefix, func(k string) error {
				got = append(got, k)
				return nil
			})
			if err != nil {
				t.Fatalf("Iter: %v", err)
			}
			if want := filter(prefix); !slices.Equal(got, want) {
				t.Fatalf("Iter(%q) = %q, want %q", prefix, got, want)
			}
		})
	}
}

func testIterStop(t *testing.T, b objstore.Bucket) {
	for i := range 5 {
		put(t, b, fmt.Sprintf("s/%d", i), []byte{byte(i)})
	}
	stop := errors.New("stop here")
	var got []string
	err := b.Iter(context.Background(), "s/", func(k string) error {
		got = append(got, k)
		if len(got) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Iter error = %v, want the callback's error", err)
	}
	if !slices.Equal(got, []string{"s/0", "s/1"}) {
		t.Fatalf("Iter visited %q after the callback failed", got)
	}
}

func testInvalidKeys(t *testing.T, b objstore.Bucket) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a/../b", "..", ".", "a/./b", "a//b", "a/", "a\\b", "a\x00b", "\xff"} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			if err := b.Put(ctx, key, []byte("x")); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Put error = %v, want ErrInvalidKey", err)
			}
			if _, err := b.Get(ctx, key); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Get error = %v, want ErrInvalidKey", err)
			}
			if _, err := b.Exists(ctx, key); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Exists error = %v, want ErrInvalidKey", err)
			}
			if err := b.Delete(ctx, key); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Delete error = %v, want ErrInvalidKey", err)
			}
		})
	}
	for _, prefix := range []string{"/abs", "../x", "a/../", "a//"} {
		t.Run(fmt.Sprintf("prefix %q", prefix), func(t *testing.T) {
			err := b.Iter(ctx, prefix, func(string) error { return nil })
			if !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Iter error = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func testConcurrent(t *testing.T, b objstore.Bucket) {
	const workers, perWorker = 8, 16
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				// Every worker also writes the shared keys, with the same
				// content, as replicas do with content-addressed chunks.
				own := fmt.Sprintf("c/w%d/%03d", w, i)
				shared := fmt.Sprintf("c/shared/%03d", i)
				for _, key := range []string{own, shared} {
					data := []byte("content of " + key)
					if err := b.Put(ctx, key, data); err != nil {
						errs <- fmt.Errorf("Put(%q): %w", key, err)
						return
					}
					got, err := b.Get(ctx, key)
					if err != nil {
						errs <- fmt.Errorf("Get(%q): %w", key, err)
						return
					}
					if !bytes.Equal(got, data) {
						errs <- fmt.Errorf("Get(%q) = %q, want %q", key, got, data)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := 0
	if err := b.Iter(ctx, "c/", func(string) error { n++; return nil }); err != nil {
		t.Fatalf("Iter: %v", err)
	}
	if want := workers*perWorker + perWorker; n != want {
		t.Fatalf("Iter found %d keys, want %d", n, want)
	}
}

func testLargeObject(t *testing.T, b objstore.Bucket) {
	data := randomBytes(42, LargeObjectSize)
	put(t, b, "large/obj", data)
	if got := mustGet(t, b, "large/obj"); !bytes.Equal(got, data) {
		t.Fatalf("Get of a %d-byte object returned %d bytes, equal: false", len(data), len(got))
	}
	off := int64(LargeObjectSize - 3<<20 - 17)
	got, err := b.GetRange(context.Background(), "large/obj", off, 1<<20)
	if err != nil {
		t.Fatalf("GetRange: %v", err)
	}
	if !bytes.Equal(got, data[off:off+1<<20]) {
		t.Fatalf("GetRange of 1 MiB at %d returned different bytes", off)
	}
	tail, err := b.GetRange(context.Background(), "large/obj", LargeObjectSize-5, -1)
	if err != nil || !bytes.Equal(tail, data[LargeObjectSize-5:]) {
		t.Fatalf("GetRange(tail) = %x, %v", tail, err)
	}
}

func testCanceledContext(t *testing.T, b objstore.Bucket) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Put(ctx, "cancel/obj", []byte("x")); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
	ok, err := b.Exists(context.Background(), "cancel/obj")
	if err != nil || ok {
		t.Fatalf("Exists after a canceled Put = %v, %v; want false, nil", ok, err)
	}
}

func trim(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
