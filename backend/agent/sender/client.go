package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/agent/stages"
)

// Options configure one Client.
type Options struct {
	Name                   string // for metrics and logs (default: the URL's host)
	URL                    string
	TenantID               string
	Headers                map[string]string
	HTTP                   commoncfg.HTTPClientConfig
	BatchWait              time.Duration
	BatchSize              int
	MinBackoff, MaxBackoff time.Duration
	MaxRetries             int // 0: for ever
	DropRateLimited        bool
	Timeout                time.Duration
	ExternalLabels         labels.Labels
	MaxStreams             int    // per batch, 0: no limit
	BufferDir              string // on-disk buffer of this client
	BufferMemory           int64
	BufferDisk             int64 // 0: memory only
	UserAgent              string
}

// Client batches entries for one push URL and sends them in order, one
// request at a time, retrying until the server answers.
type Client struct {
	o      Options
	http   *http.Client
	logger *slog.Logger
	m      *clientMetrics
	q      *queue

	mu      sync.Mutex // guards batches and scratch
	batches map[string]*batch
	scratch []byte

	sendCtx    context.Context
	cancelSend context.CancelFunc
	done       chan struct{}
	stopTick   chan struct{}
}

// NewClient starts a client's goroutines (the batch timer and the sender).
func NewClient(o Options, m *Metrics, logger *slog.Logger) (*Client, error) {
	if o.Name == "" {
		if u, err := url.Parse(o.URL); err == nil {
			o.Name = u.Host
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	hc, err := commoncfg.NewClientFromConfig(o.HTTP, "lode-agent")
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", o.Name, err)
	}
	hc.Timeout = o.Timeout
	c := &Client{o: o, http: hc, logger: logger.With("client", o.Name), m: m.forClient(o.Name),
		batches: map[string]*batch{}, done: make(chan struct{}), stopTick: make(chan struct{})}
	c.q, err = newQueue(o.BufferDir, o.BufferMemory, o.BufferDisk, c.m.buffer)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", o.Name, err)
	}
	c.sendCtx, c.cancelSend = context.WithCancel(context.Background())
	go c.tickLoop()
	go c.sendLoop()
	return c, nil
}

// Handle adds e to its tenant's batch, sealing the batch when it is full.
// It blocks while the buffer is full (backpressure). It takes over one
// reference of e.Ack.
func (c *Client) Handle(e *stages.Entry) {
	ls := e.Labels
	if c.o.ExternalLabels.Len() > 0 {
		b := labels.NewBuilder(c.o.ExternalLabels)
		e.Labels.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
		ls = b.Labels()
	}
	tenant := e.Tenant
	if tenant == "" {
		tenant = c.o.TenantID
	}
	c.mu.Lock()
	b := c.batches[tenant]
	if b != nil && (b.bytes+len(e.Line) > c.o.BatchSize || c.o.MaxStreams > 0 && len(b.req.Streams) >= c.o.MaxStreams) {
		c.sealLocked(tenant) // unlocks while waiting for room
		b = c.batches[tenant]
	}
	if b == nil {
		b = newBatch(tenant, time.Now())
		c.batches[tenant] = b
	}
	b.add(e, ls)
	c.mu.Unlock()
}

// sealLocked encodes the tenant's batch and queues it. Called with c.mu
// held; it releases the lock while the queue is full so that the timer
// does not wait behind it, and holds it again on return.
func (c *Client) sealLocked(tenant string) {
	b := c.batches[tenant]
	delete(c.batches, tenant)
	var s *sealed
	s, c.scratch = b.seal(c.scratch)
	c.mu.Unlock()
	// When the queue is closed the batch is let go without releasing its
	// tokens: its lines stay unacknowledged and are read again next start.
	c.q.put(s, true)
	c.mu.Lock()
}

// tickLoop seals batches older than BatchWait.
func (c *Client) tickLoop() {
	t := time.NewTicker(max(c.o.BatchWait/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stopTick:
			return
		case now := <-t.C:
			c.mu.Lock()
			for tenant, b := range c.batches {
				if now.Sub(b.created) >= c.o.BatchWait {
					c.sealLocked(tenant)
				}
			}
			c.mu.Unlock()
		}
	}
}

// sendLoop sends queued batches in order.
func (c *Client) sendLoop() {
	defer close(c.done)
	for {
		s, body, err := c.q.front()
		if s == nil {
			return
		}
		if err != nil {
			c.logger.Error("read buffered batch; dropping it", "err", err)
			c.finish(s, outcome{dropAll: true, reason: "buffer_read_error"})
			continue
		}
		out := c.sendWithRetry(s, body)
		if out.aborted {
			return // shutting down: the batch stays unacknowledged
		}
		c.finish(s, out)
	}
}

// finish accounts for a batch and lets go of it.
func (c *Client) finish(s *sealed, out outcome) {
	dropped := 0
	switch {
	case out.dropAll:
		dropped = s.entries
	default:
		dropped = out.dropped
	}
	if dropped > 0 {
		c.m.dropped.WithLabelValues(c.o.Name, out.reason).Add(float64(dropped))
	}
	c.m.sentEntries.WithLabelValues(c.o.Name).Add(float64(s.entries - dropped))
	c.m.sentBytes.WithLabelValues(c.o.Name).Add(float64(s.bytes))
	s.release()
	c.q.pop()
}

type outcome struct {
	aborted bool
	dropAll bool
	dropped int
	reason  string
}

// sendWithRetry sends one batch until the server takes it, refuses it for
// good, or retries run out.
func (c *Client) sendWithRetry(s *sealed, body []byte) outcome {
	backoff := c.o.MinBackoff
	for attempt := 0; ; attempt++ {
		status, msg, err := c.send(s.tenant, body)
		c.m.requests.WithLabelValues(c.o.Name, statusLabel(status, err)).Inc()
		switch {
		case err == nil && status/100 == 2:
			return outcome{}
		case err == nil && status == http.StatusBadRequest:
			n := countRejected(msg, s)
			c.logger.Warn("server rejected entries of a batch", "entries", n, "message", firstLine(msg))
			return outcome{dropped: n, reason: "invalid"}
		case err == nil && status == http.StatusTooManyRequests && c.o.DropRateLimited:
			return outcome{dropAll: true, reason: "rate_limited"}
		case err == nil && status/100 == 4 && status != http.StatusTooManyRequests:
			c.logger.Error("server refused a batch for good; dropping it", "status", status, "message", firstLine(msg))
			return outcome{dropAll: true, reason: "http_" + strconv.Itoa(status)}
		}
		if c.sendCtx.Err() != nil {
			return outcome{aborted: true}
		}
		if c.o.MaxRetries > 0 && attempt >= c.o.MaxRetries {
			c.logger.Error("batch not sent after the configured retries; dropping it", "retries", attempt, "status", status, "err", err)
			return outcome{dropAll: true, reason: "max_retries"}
		}
		c.m.retries.WithLabelValues(c.o.Name).Inc()
		c.logger.Warn("push failed, will retry", "status", status, "err", err, "message", firstLine(msg), "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-c.sendCtx.Done():
			return outcome{aborted: true}
		}
		backoff = min(2*backoff, c.o.MaxBackoff)
	}
}

// send makes one push request; err is a transport error.
func (c *Client) send(tenant string, body []byte) (int, string, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(c.sendCtx, http.MethodPost, c.o.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", c.o.UserAgent)
	for k, v := range c.o.Headers {
		req.Header.Set(k, v)
	}
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	c.m.duration.WithLabelValues(c.o.Name).Observe(time.Since(start).Seconds())
	return resp.StatusCode, string(msg), nil
}

// Close seals what is pending, waits up to timeout for the queue to be
// sent, then stops. Batches not sent stay unacknowledged.
func (c *Client) Close(timeout time.Duration) {
	close(c.stopTick)
	c.mu.Lock()
	for tenant, b := range c.batches {
		delete(c.batches, tenant)
		var s *sealed
		s, c.scratch = b.seal(c.scratch)
		c.q.put(s, false) // only if there is room
	}
	c.mu.Unlock()
	c.q.close()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.logger.Warn("shutdown timeout: batches left unsent are read again at the next start", "batches", c.q.len())
	}
	c.cancelSend()
	<-c.done
}

func statusLabel(status int, err error) string {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return "canceled"
		}
		return "error"
	}
	return strconv.Itoa(status)
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
