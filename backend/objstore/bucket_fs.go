package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// fsWriteChunk is how many bytes Put writes between context checks.
const fsWriteChunk = 1 << 20

// FilesystemBucket stores each object as a regular file under a root
// directory: key "a/b/c" is the file <root>/a/b/c. Consequently a key
// cannot also be a directory of another key ("a" and "a/b" cannot both
// exist); content-addressed keys never collide this way.
//
// Put writes the object to a temporary file in <root>/.staging, fsyncs it,
// renames it into place and fsyncs the target directory, so readers see the
// whole object or nothing, and an acknowledged Put survives a crash. Files
// left in .staging by a crash are removed by NewFilesystem. Object files
// are created with mode 0600, directories with 0755 (before umask).
//
// Safe for concurrent use by any number of goroutines. It must be the only
// writer of its root directory.
type FilesystemBucket struct {
	root    string // absolute, cleaned
	staging string // root/.staging

	// dirs is held shared by Put from creating the target directory to
	// renaming into it, and exclusively by Delete while it removes
	// directories left empty, so that no Put loses its directory.
	dirs sync.RWMutex
}

var _ Bucket = (*FilesystemBucket)(nil)

// NewFilesystem opens (creating it if needed) a filesystem bucket rooted at
// dir and removes temporary files left by an interrupted Put.
func NewFilesystem(dir string) (*FilesystemBucket, error) {
	if dir == "" {
		return nil, errors.New("open filesystem bucket: empty directory")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open filesystem bucket %s: %w", dir, err)
	}
	b := &FilesystemBucket{root: root, staging: filepath.Join(root, stagingDir)}
	if err := mkdirAllSync(b.staging); err != nil {
		return nil, fmt.Errorf("open filesystem bucket %s: %w", root, err)
	}
	if err := b.cleanStaging(); err != nil {
		return nil, fmt.Errorf("open filesystem bucket %s: %w", root, err)
	}
	return b, nil
}

// Dir returns the root directory of the bucket.
func (b *FilesystemBucket) Dir() string { return b.root }

func (b *FilesystemBucket) cleanStaging() error {
	entries, err := os.ReadDir(b.staging)
	if err != nil {
		return fmt.Errorf("read staging directory: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(b.staging, e.Name())); err != nil {
			return fmt.Errorf("remove stale temporary file: %w", err)
		}
	}
	return nil
}

func (b *FilesystemBucket) path(key string) string {
	return filepath.Join(b.root, filepath.FromSlash(key))
}

// Put writes data under key atomically and durably.
func (b *FilesystemBucket) Put(ctx context.Context, key string, data []byte) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmp, err := b.writeTemp(ctx, data)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := b.publish(ctx, tmp, b.path(key)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// writeTemp writes data to a new synced file in the staging directory and
// returns its path. On error nothing is left behind.
func (b *FilesystemBucket) writeTemp(ctx context.Context, data []byte) (path string, err error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(b.staging, "put-*")
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	for rest := data; len(rest) > 0; {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n := min(len(rest), fsWriteChunk)
		if _, err := f.Write(rest[:n]); err != nil {
			return "", fmt.Errorf("write temporary file: %w", err)
		}
		rest = rest[n:]
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close temporary file: %w", err)
	}
	return f.Name(), nil
}

// publish renames the synced temporary file tmp to dst, creating the
// directory of dst if needed, and syncs that directory.
func (b *FilesystemBucket) publish(ctx context.Context, tmp, dst string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(dst)
	b.dirs.RLock()
	err := mkdirAllSync(dir)
	if err == nil {
		err = os.Rename(tmp, dst)
		if err != nil {
			err = fmt.Errorf("rename into place: %w", err)
		}
	}
	b.dirs.RUnlock()
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// Get returns the whole object.
func (b *FilesystemBucket) Get(ctx context.Context, key string) ([]byte, error) {
	return b.GetRange(ctx, key, 0, -1)
}

// GetRange returns length bytes from offset off (length < 0: to the end).
func (b *FilesystemBucket) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if err := ValidateKey(key); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	f, size, err := b.open(key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer f.Close()
	end, err := checkRange(size, off, length)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	buf := make([]byte, end-off)
	if n, err := f.ReadAt(buf, off); err != nil && !(errors.Is(err, io.EOF) && n == len(buf)) {
		return nil, fmt.Errorf("get %s: read: %w", key, err)
	}
	return buf, nil
}

// open opens the regular file of key and returns it with its size. A
// missing file, or a directory in its place, is ErrNotFound.
func (b *FilesystemBucket) open(key string) (*os.File, int64, error) {
	f, err := os.Open(b.path(key))
	if err != nil {
		if isNotExist(err) {
			return nil, 0, ErrNotFound
		}
		return nil, 0, fmt.Errorf("open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, ErrNotFound
	}
	return f, st.Size(), nil
}

// Exists reports whether key exists.
func (b *FilesystemBucket) Exists(ctx context.Context, key string) (bool, error) {
	if err := ValidateKey(key); err != nil {
		return false, fmt.Errorf("exists %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("exists %s: %w", key, err)
	}
	st, err := os.Stat(b.path(key))
	if err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, fmt.Errorf("exists %s: %w", key, err)
	}
	return st.Mode().IsRegular(), nil
}

// Delete removes key and then every parent directory left empty; deleting
// a missing key is not an error.
func (b *FilesystemBucket) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	p := b.path(key)
	st, err := os.Lstat(p)
	switch {
	case isNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("delete %s: %w", key, err)
	case !st.Mode().IsRegular():
		return nil // a directory of other keys, not an object
	}
	if err := os.Remove(p); err != nil && !isNotExist(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	b.removeEmptyParents(p)
	return nil
}

// removeEmptyParents removes the directories above path that are empty,
// up to the root. Failing to remove one (not empty) ends the walk.
func (b *FilesystemBucket) removeEmptyParents(path string) {
	b.dirs.Lock()
	defer b.dirs.Unlock()
	for dir := filepath.Dir(path); dir != b.root && strings.HasPrefix(dir, b.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return
		}
	}
}

// Iter calls fn for each key with the prefix, in lexical (byte) order. It
// walks directories in a sort order in which a directory named d sorts as
// "d/", which yields keys in lexical order without collecting them.
func (b *FilesystemBucket) Iter(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("iter %s: %w", prefix, err)
	}
	dirKey, namePrefix := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey, namePrefix = prefix[:i+1], prefix[i+1:]
	}
	if err := b.walk(ctx, dirKey, namePrefix, fn); err != nil {
		return fmt.Errorf("iter %s: %w", prefix, err)
	}
	return nil
}

// walk visits the directory of dirKey ("" or ending in "/"), limited to
// names starting with namePrefix, and everything below them.
func (b *FilesystemBucket) walk(ctx context.Context, dirKey, namePrefix string, fn func(string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(b.root, filepath.FromSlash(dirKey)))
	if err != nil {
		if isNotExist(err) {
			return nil // no such prefix, or removed by a concurrent Delete
		}
		return fmt.Errorf("read directory: %w", err)
	}
	sortEntries(entries)
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, namePrefix) || (dirKey == "" && name == stagingDir) {
			continue
		}
		switch {
		case e.IsDir():
			if err := b.walk(ctx, dirKey+name+"/", "", fn); err != nil {
				return err
			}
		case e.Type().IsRegular():
			if err := fn(dirKey + name); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortEntries orders directory entries so that walking them in order
// yields full keys in lexical order: a directory d sorts as "d/".
func sortEntries(entries []os.DirEntry) {
	sortName := func(e os.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(entries, func(a, b os.DirEntry) int {
		return strings.Compare(sortName(a), sortName(b))
	})
}

// mkdirAllSync creates dir and any missing parents, syncing the parent of
// each directory it creates so that the new entries are durable.
func mkdirAllSync(dir string) error {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return fmt.Errorf("create directory %s: %w", dir, syscall.ENOTDIR)
		}
		return nil
	}
	if !isNotExist(err) {
		return fmt.Errorf("create directory: %w", err)
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAllSync(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create directory: %w", err)
	}
	return syncDir(parent)
}

// syncDir fsyncs a directory so that entries created or renamed in it are
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// isNotExist reports whether err means that a path does not exist, also
// when a path component is a regular file (ENOTDIR).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
