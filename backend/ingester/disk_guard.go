package ingester

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// diskCheckInterval is how long a free-space reading is reused.
const diskCheckInterval = time.Second

// diskGuard refuses pushes while the buffer's file system is nearly full.
// Badger writes through memory-mapped sparse files, where running out of
// space is a fatal signal rather than an error, so the ingester stops
// accepting data while there is still room. Safe for concurrent use.
type diskGuard struct {
	dir     string
	minFree uint64 // 0: disabled
	now     func() time.Time

	checkedAt atomic.Int64 // Unix ns of the last reading
	free      atomic.Uint64
}

// newDiskGuard returns a guard of dir, inactive if minFree is 0 or the
// platform cannot report free space.
func newDiskGuard(dir string, minFree int64, now func() time.Time) *diskGuard {
	g := &diskGuard{dir: dir, minFree: uint64(minFree), now: now}
	if _, err := freeDiskSpace(dir); errors.Is(err, errors.ErrUnsupported) {
		g.minFree = 0
	}
	return g
}

// check returns an error wrapping ErrDiskFull and ErrStorage when free
// space is below the minimum.
func (g *diskGuard) check() error {
	if g.minFree == 0 || g.dir == "" {
		return nil
	}
	now := g.now().UnixNano()
	if now-g.checkedAt.Load() >= int64(diskCheckInterval) {
		free, err := freeDiskSpace(g.dir)
		if err != nil {
			return fmt.Errorf("check free disk space: %w: %w", ErrStorage, err)
		}
		g.free.Store(free)
		g.checkedAt.Store(now)
	}
	if free := g.free.Load(); free < g.minFree {
		return fmt.Errorf("%w: %w: %d bytes free under %s, need %d", ErrStorage, ErrDiskFull, free, g.dir, g.minFree)
	}
	return nil
}
