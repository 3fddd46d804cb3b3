package loop

import (
	"context"
	"testing"
	"time"
)

func TestEveryStopsWhenFnDeclines(t *testing.T) {
	calls := 0
	Every(context.Background(), time.Millisecond, func() bool {
		calls++
		return calls < 3
	})
	if calls != 3 {
		t.Fatalf("fn called %d times, want 3", calls)
	}
}

func TestEveryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	calls := 0
	go func() {
		defer close(done)
		Every(ctx, time.Millisecond, func() bool {
			if calls++; calls == 2 {
				cancel()
			}
			return true
		})
	}()
	<-done
	if calls < 2 {
		t.Fatalf("fn called %d times before the context ended, want at least 2", calls)
	}
}
