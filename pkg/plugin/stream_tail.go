package plugin

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

const (
	// sentPruneSize is the size of the sent-rows map above which old rows are forgotten.
	sentPruneSize = 8192
	// sentKeepWindow is how far behind the newest row sent rows are remembered.
	sentKeepWindow = time.Minute
)

// tailer runs one live tail: it keeps lode's tail websocket open, reconnecting with
// exponential backoff when it drops, and sends the lines of each message as one logs frame.
// After a reconnect it asks lode for lines from the newest timestamp already sent and skips
// the rows it had sent, so that a restart of lode neither loses nor repeats lines.
//
// THREADS: run's goroutine reads the websocket and owns all state below; one keep-alive
// goroutine per connection pings lode and closes the connection when the context ends.
type tailer struct {
	api      *lokiapi.API
	req      tailRequest
	derived  []DerivedField
	send     func(f *data.Frame, include data.FrameInclude) error
	logger   log.Logger
	describe func(error) string
	min, max time.Duration // reconnect backoff
	ping     time.Duration

	sent   map[rowKey]int // rows sent per key (ids and replay skipping)
	maxTs  int64          // newest timestamp sent
	schema string         // field names of the last schema sent
}

// run tails until ctx ends (nil) or lode refuses the tail for good (the error).
func (t *tailer) run(ctx context.Context) error {
	if t.sent == nil {
		t.sent = map[rowKey]int{}
	}
	delay := t.min
	for {
		q := lokiapi.TailQuery{Query: t.req.Expr, Limit: t.req.Limit}
		var replay map[rowKey]int
		if t.maxTs > 0 {
			q.Start = time.Unix(0, t.maxTs)
			replay = t.sentAt(t.maxTs)
		}
		conn, err := t.api.Tail(ctx, q)
		if err == nil {
			var got bool
			got, err = t.consume(ctx, conn, replay)
			if got {
				delay = t.min
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if permanent(err) {
			return fmt.Errorf("live tail: %s", t.describe(err))
		}
		t.logger.Warn("Live tail interrupted, reconnecting", "error", t.describe(err), "after", delay.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(jitter(delay)):
		}
		delay = min(2*delay, t.max)
	}
}

// permanent reports errors that retrying cannot fix: a refused query or credentials, or
// Grafana gone.
func permanent(err error) bool {
	var se *lokiapi.StatusError
	if errors.As(err, &se) {
		return se.Code >= 400 && se.Code < 500 && se.Code != 429 && se.Code != 408
	}
	return errors.Is(err, errSend)
}

func jitter(d time.Duration) time.Duration {
	return d - d/5 + rand.N(d/5*2+1)
}

// sentAt copies the counts of rows sent at timestamp ts.
func (t *tailer) sentAt(ts int64) map[rowKey]int {
	out := map[rowKey]int{}
	for k, n := range t.sent {
		if k.ts == ts {
			out[k] = n
		}
	}
	return out
}

// consume reads messages until the connection fails or ctx ends. got reports whether any
// message arrived (the connection was healthy, so the backoff starts over).
func (t *tailer) consume(ctx context.Context, conn *lokiapi.TailConn, replay map[rowKey]int) (got bool, err error) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.keepAlive(ctx, conn, stop)
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()
	extend := func() { _ = conn.SetReadDeadline(time.Now().Add(2*t.ping + time.Second)) }
	conn.OnPong(extend)
	extend()
	for {
		m, err := conn.Next()
		if err != nil {
			return got, err
		}
		extend()
		got = true
		if err := t.deliver(m, replay); err != nil {
			return got, err
		}
	}
}

// keepAlive pings lode every ping period and closes the connection when ctx ends or stop closes.
func (t *tailer) keepAlive(ctx context.Context, conn *lokiapi.TailConn, stop <-chan struct{}) {
	tick := time.NewTicker(t.ping)
	defer tick.Stop()
	defer func() { _ = conn.Close() }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-tick.C:
			if conn.Ping(time.Now().Add(t.ping)) != nil {
				return
			}
		}
	}
}

// deliver sends the rows of one message that were not sent before.
func (t *tailer) deliver(m *lokiapi.TailMessage, replay map[rowKey]int) error {
	if len(m.DroppedEntries) > 0 {
		t.logger.Warn("lode dropped live tail entries because the tail could not keep up", "count", len(m.DroppedEntries))
	}
	streams, n := skipReplayed(m.Streams, replay)
	if n == 0 {
		return nil
	}
	f := newLogsFrame(streams, logsFrameOptions{Direction: DirectionForward, Derived: t.derived, Seen: t.sent})
	for _, s := range streams {
		for _, e := range s.Values {
			t.maxTs = max(t.maxTs, e.Timestamp)
		}
	}
	t.prune()
	include := data.IncludeDataOnly
	if sk := schemaKey(f); sk != t.schema {
		include, t.schema = data.IncludeAll, sk
	}
	if err := t.send(f, include); err != nil {
		return fmt.Errorf("%w: %v", errSend, err)
	}
	return nil
}

// skipReplayed drops entries counted in replay (decrementing it) and returns the rest and
// their number.
func skipReplayed(streams []lokiapi.Stream, replay map[rowKey]int) ([]lokiapi.Stream, int) {
	n := 0
	out := streams[:0:0]
	for _, s := range streams {
		key := ""
		kept := s.Values[:0:0]
		for _, e := range s.Values {
			if len(replay) > 0 {
				if key == "" {
					key = canonicalLabels(s.Labels)
				}
				k := rowKey{rowHash(key, e.Line), e.Timestamp}
				if replay[k] > 0 {
					replay[k]--
					continue
				}
			}
			kept = append(kept, e)
		}
		if len(kept) > 0 {
			out = append(out, lokiapi.Stream{Labels: s.Labels, Values: kept})
			n += len(kept)
		}
	}
	return out, n
}

// prune forgets rows far older than the newest, once the map is large.
func (t *tailer) prune() {
	if len(t.sent) < sentPruneSize {
		return
	}
	horizon := t.maxTs - int64(sentKeepWindow)
	for k := range t.sent {
		if k.ts < horizon {
			delete(t.sent, k)
		}
	}
}

func schemaKey(f *data.Frame) string {
	var b strings.Builder
	for _, fl := range f.Fields {
		b.WriteString(fl.Name)
		b.WriteByte('/')
		b.WriteString(fl.Type().ItemTypeString())
		b.WriteByte(';')
	}
	return b.String()
}
