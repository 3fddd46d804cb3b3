// Package loop runs periodic background work.
package loop

import (
	"context"
	"time"
)

// Every calls fn every period until ctx is done or fn returns false. The
// first call comes one period after Every starts.
func Every(ctx context.Context, period time.Duration, fn func() bool) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !fn() {
			return
		}
	}
}
