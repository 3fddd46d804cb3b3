package sender

import (
	"time"

	"github.com/lode-logs/lode/backend/agent/stages"
)

// Fanout hands every entry to each client (Promtail sends every line to
// every client). It implements the tailer's Sink.
type Fanout []*Client

// Handle gives each client its own reference of the entry's token, so the
// line counts as acknowledged only once every client sent it.
func (f Fanout) Handle(e *stages.Entry) {
	if len(f) > 1 {
		e.Ack.Retain(len(f) - 1)
	}
	for _, c := range f {
		c.Handle(e)
	}
}

// Close closes every client, each with up to timeout to send what it holds.
func (f Fanout) Close(timeout time.Duration) {
	done := make(chan struct{}, len(f))
	for _, c := range f {
		go func() {
			c.Close(timeout)
			done <- struct{}{}
		}()
	}
	for range f {
		<-done
	}
}
