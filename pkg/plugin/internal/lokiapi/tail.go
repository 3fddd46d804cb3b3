package lokiapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// TailQuery is a /loki/api/v1/tail request.
type TailQuery struct {
	Query string
	// Start is the oldest entry to send first; zero leaves the server's default (one hour ago).
	Start    time.Time
	Limit    int           // entries sent from before the connection; 0: server default
	DelayFor time.Duration // server-side delay to wait for late entries; whole seconds
}

// TailConn is an open live tail. Next and Ping may be called from different goroutines
// (one reader, one pinger); Close may be called from any goroutine, once or more.
type TailConn struct {
	conn *websocket.Conn
}

// Tail opens the tail websocket. A refused handshake returns a *StatusError with the
// server's message.
func (a *API) Tail(ctx context.Context, q TailQuery) (*TailConn, error) {
	u := a.base.JoinPath("loki/api/v1/tail")
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	v := url.Values{}
	v.Set("query", q.Query)
	if !q.Start.IsZero() {
		v.Set("start", strconv.FormatInt(q.Start.UnixNano(), 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.DelayFor > 0 {
		v.Set("delay_for", strconv.Itoa(int(q.DelayFor/time.Second)))
	}
	u.RawQuery = v.Encode()
	timeout := a.opts.DialTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		TLSClientConfig:  a.opts.TLS,
		HandshakeTimeout: timeout,
	}
	h := http.Header{}
	a.setHeaders(h)
	h.Del("Accept")
	conn, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			body, _ := readLimited(resp.Body, 64<<10)
			if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusSwitchingProtocols {
				return nil, newStatusError(resp.StatusCode, body)
			}
		}
		return nil, fmt.Errorf("open tail: %w", err)
	}
	conn.SetReadLimit(a.opts.MaxResponseBytes)
	return &TailConn{conn: conn}, nil
}

// Next blocks until the next message. A normal close by the server returns io.EOF.
func (c *TailConn) Next() (*TailMessage, error) {
	for {
		typ, b, err := c.conn.ReadMessage()
		if err != nil {
			if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("read tail: %w", err)
		}
		if typ != websocket.TextMessage && typ != websocket.BinaryMessage {
			continue
		}
		var m TailMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("decode tail message: %w: %v", ErrBadResult, err)
		}
		return &m, nil
	}
}

// SetReadDeadline bounds the next read; any message or pong may extend it (see OnPong).
func (c *TailConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// OnPong installs fn to run when the server answers a ping (on the reader's goroutine).
func (c *TailConn) OnPong(fn func()) {
	c.conn.SetPongHandler(func(string) error { fn(); return nil })
}

// Ping sends a ping that the server answers with a pong.
func (c *TailConn) Ping(deadline time.Time) error {
	return c.conn.WriteControl(websocket.PingMessage, nil, deadline)
}

// Close says goodbye to the server and closes the connection.
func (c *TailConn) Close() error {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	// The goodbye is best effort: the peer may already be gone.
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	if err := c.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close tail: %w", err)
	}
	return nil
}
