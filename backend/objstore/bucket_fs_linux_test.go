package objstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// fileSizeLimitEnv makes TestFilesystemWriteErrorsSurface re-run itself in
// a child process with a file size limit (RLIMIT_FSIZE), the closest
// portable stand-in for a full disk: every write past the limit fails.
const fileSizeLimitEnv = "LODE_OBJSTORE_FSIZE_CHILD_DIR"

func TestFilesystemWriteErrorsSurface(t *testing.T) {
	if dir := os.Getenv(fileSizeLimitEnv); dir != "" {
		writeOverLimitChild(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFilesystemWriteErrorsSurface$", "-test.v")
	cmd.Env = append(os.Environ(), fileSizeLimitEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS")) {
		t.Fatalf("child process did not run the check:\n%s", out)
	}
	// The parent, without the limit, sees no trace of the failed Put.
	b := openFS(t, dir)
	if ok, err := b.Exists(context.Background(), "big"); ok || err != nil {
		t.Fatalf("Exists(big) = %v, %v after a failed Put", ok, err)
	}
	if got, err := b.Get(context.Background(), "small"); err != nil || string(got) != "fits" {
		t.Fatalf("Get(small) = %q, %v", got, err)
	}
}

func writeOverLimitChild(t *testing.T, dir string) {
	const limit = 1 << 20
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Skipf("cannot limit file size: %v", err)
	}
	b := openFS(t, dir)
	ctx := context.Background()
	if err := b.Put(ctx, "small", []byte("fits")); err != nil {
		t.Fatalf("Put(small): %v", err)
	}
	err := b.Put(ctx, "big", make([]byte, 2*limit))
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("Put over the file size limit: error = %v, want EFBIG", err)
	}
	if ok, err := b.Exists(ctx, "big"); ok || err != nil {
		t.Fatalf("Exists(big) = %v, %v after a failed Put", ok, err)
	}
	if left := stagingFiles(t, b); len(left) != 0 {
		t.Fatalf("failed Put left temporary files: %q", left)
	}
}
