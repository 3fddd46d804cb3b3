package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/tail"
)

// Tailer delivers newly written entries (implemented by *tail.Hub).
type Tailer interface {
	Subscribe(tenant string, ms []*labels.Matcher, queueLen int) *tail.Subscription
}

const (
	tailQueueLen      = 10000
	tailFlushInterval = 100 * time.Millisecond
	tailMaxBatch      = 1000
	tailPingInterval  = 30 * time.Second
	tailWriteTimeout  = 10 * time.Second
	tailMaxDelayFor   = 5 // seconds, as Loki
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 64 << 10,
	CheckOrigin:     func(*http.Request) bool { return true },
}

// tailResponse is Loki's tail message.
type tailResponse struct {
	Streams        []tailStream   `json:"streams"`
	DroppedEntries []droppedEntry `json:"dropped_entries,omitempty"`
}

type tailStream struct {
	Stream map[string]string `json:"stream"`
	Values [][2]string       `json:"values"`
}

type droppedEntry struct {
	Labels    map[string]string `json:"labels"`
	Timestamp string            `json:"timestamp"`
}

// handleTail serves /loki/api/v1/tail: the entries since start (up to
// limit), then every new entry matching the query, over a websocket.
func (s *Server) handleTail(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("invalid form: %v", err))
		return
	}
	q := r.Form.Get("query")
	if q == "" {
		writeError(w, badRequest("query parameter is required"))
		return
	}
	tp, err := engine.NewTailPipeline(q)
	if err != nil {
		writeError(w, err)
		return
	}
	limit, err := parseLimit(r)
	if err != nil {
		writeError(w, err)
		return
	}
	now := s.now()
	start, err := parseTime(r.Form.Get("start"), now.Add(-time.Hour))
	if err != nil {
		writeError(w, badRequest("invalid start: %v", err))
		return
	}
	if d := r.Form.Get("delay_for"); d != "" {
		if n, err := strconv.Atoi(d); err != nil || n < 0 || n > tailMaxDelayFor {
			writeError(w, badRequest("delay_for can't be greater than %d", tailMaxDelayFor))
			return
		}
	}
	// Subscribe before reading history, so nothing written in between is
	// missed; what shows in both is sent once.
	sub := s.deps.Tailer.Subscribe(tenant, tp.Matchers(), tailQueueLen)
	defer sub.Close()
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // reads only to notice the client going away
		defer cancel()
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	seen, err := s.tailHistory(ctx, conn, tenant, q, start, now, limit)
	if err != nil {
		s.closeTail(conn, err)
		return
	}
	s.tailLive(ctx, conn, sub, tp, seen)
}

type entryKey struct {
	fp   model.Fingerprint
	ts   int64
	line string
}

// tailHistory sends the entries from start to now, oldest first, and
// returns them as keys to skip in the live part.
func (s *Server) tailHistory(ctx context.Context, conn *websocket.Conn, tenant, q string, start, now time.Time, limit int) (map[entryKey]bool, error) {
	res, err := s.deps.Engine.Query(ctx, engine.Params{
		Tenant: tenant, Query: q, Start: start, End: now.Add(time.Nanosecond), Limit: limit, Direction: model.Backward,
	})
	if err != nil {
		return nil, err
	}
	seen := map[entryKey]bool{}
	var msg tailResponse
	for _, st := range res.Streams {
		ts := tailStream{Stream: st.Labels.Map()}
		for i := len(st.Entries) - 1; i >= 0; i-- { // oldest first
			e := st.Entries[i]
			ts.Values = append(ts.Values, [2]string{strconv.FormatInt(e.Timestamp, 10), string(e.Line)})
			seen[entryKey{ts: e.Timestamp, line: string(e.Line)}] = true
		}
		msg.Streams = append(msg.Streams, ts)
	}
	if len(msg.Streams) == 0 {
		return seen, nil
	}
	return seen, writeTail(conn, &msg)
}

// tailLive sends new entries in batches until the client leaves.
func (s *Server) tailLive(ctx context.Context, conn *websocket.Conn, sub *tail.Subscription, tp *engine.TailPipeline, seen map[entryKey]bool) {
	flush := time.NewTicker(tailFlushInterval)
	defer flush.Stop()
	ping := time.NewTicker(tailPingInterval)
	defer ping.Stop()
	batch := map[string]*tailStream{}
	var order []string
	n := 0
	send := func() error {
		msg := tailResponse{}
		for _, k := range order {
			msg.Streams = append(msg.Streams, *batch[k])
		}
		if d := sub.Dropped(); d > 0 {
			msg.DroppedEntries = append(msg.DroppedEntries, droppedEntry{
				Labels: map[string]string{}, Timestamp: strconv.FormatInt(s.now().UnixNano(), 10)})
		}
		clear(batch)
		order, n = order[:0], 0
		if len(msg.Streams) == 0 && len(msg.DroppedEntries) == 0 {
			return nil
		}
		return writeTail(conn, &msg)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(tailWriteTimeout)); err != nil {
				return
			}
		case <-flush.C:
			seen = nil // history overlap is over after the first interval
			if err := send(); err != nil {
				return
			}
		case e := <-sub.Entries():
			if seen[entryKey{ts: e.Timestamp, line: string(e.Line)}] {
				continue
			}
			line, ls, ok := tp.Process(&e)
			if !ok {
				continue
			}
			key := ls.String()
			st := batch[key]
			if st == nil {
				st = &tailStream{Stream: ls.Map()}
				batch[key] = st
				order = append(order, key)
			}
			st.Values = append(st.Values, [2]string{strconv.FormatInt(e.Timestamp, 10), string(line)})
			if n++; n >= tailMaxBatch {
				if err := send(); err != nil {
					return
				}
			}
		}
	}
}

func writeTail(conn *websocket.Conn, msg *tailResponse) error {
	_ = conn.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
	return conn.WriteJSON(msg)
}

// closeTail ends the websocket with the error as its close reason.
func (s *Server) closeTail(conn *websocket.Conn, err error) {
	msg := websocket.FormatCloseMessage(websocket.CloseInternalServerErr, err.Error())
	if statusOf(err) < 500 {
		msg = websocket.FormatCloseMessage(websocket.ClosePolicyViolation, err.Error())
	}
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}
