package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

// DefaultDialTimeout is the DialTimeout of a PoolOptions that sets none.
const DefaultDialTimeout = 5 * time.Second

// Reconnection backoff after a failed connection attempt: short, because
// peers are on the same host or LAN and a restarted node should be used
// again quickly.
const (
	reconnectBaseDelay = 200 * time.Millisecond
	reconnectMaxDelay  = 5 * time.Second
)

// PoolOptions configure a Pool.
type PoolOptions struct {
	// DialTimeout bounds one connection attempt (TCP connect and HTTP/2
	// handshake). A call on a connection that is not up fails after at
	// most this long (or at once when the peer refuses). 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Registerer receives the client metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives connection events; nil logs nothing.
	Logger *slog.Logger
	// TLS, when set, secures every connection with it (the server name
	// defaults to the host of the address dialled); nil: plaintext.
	TLS *tls.Config
}

// Pool is the client side of Lode's internal gRPC API. It dials one
// connection per address on first use and reuses it for every later call
// (gRPC multiplexes concurrent calls on it and reconnects it when it
// breaks). All methods are safe for concurrent use.
type Pool struct {
	dialOpts []grpc.DialOption
	logger   *slog.Logger
	metrics  *clientMetrics
	bufs     *bufPool
	// queryDesc describes lode.Ingester/Query to gRPC (read-only).
	queryDesc grpc.StreamDesc

	mu     sync.RWMutex // guards conns and closed
	conns  map[string]*poolConn
	closed bool
}

// poolConn is a connection with what Prune needs to know of its use.
type poolConn struct {
	cc       *grpc.ClientConn
	inFlight atomic.Int64 // calls and query streams not yet finished
	lastUsed atomic.Int64 // Unix ns of the last call's start or end
}

// begin and end bracket a call on c.
func (c *poolConn) begin() { c.inFlight.Add(1); c.lastUsed.Store(time.Now().UnixNano()) }
func (c *poolConn) end()   { c.lastUsed.Store(time.Now().UnixNano()); c.inFlight.Add(-1) }

// NewPool returns a Pool without connections.
func NewPool(o PoolOptions) *Pool {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pool{
		dialOpts:  dialOptions(o.DialTimeout, o.TLS),
		logger:    o.Logger,
		metrics:   newClientMetrics(o.Registerer, o.Logger),
		bufs:      new(bufPool),
		queryDesc: grpc.StreamDesc{StreamName: "Query", ServerStreams: true},
		conns:     make(map[string]*poolConn),
	}
}

func dialOptions(dialTimeout time.Duration, tlsCfg *tls.Config) []grpc.DialOption {
	dialer := &net.Dialer{Timeout: dialTimeout}
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", addr)
		}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  reconnectBaseDelay,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   reconnectMaxDelay,
			},
			MinConnectTimeout: dialTimeout,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                clientPingTime,
			Timeout:             clientPingTimeout,
			PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(
			grpc.CallContentSubtype(ContentSubtype),
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
	}
}

// conn returns the connection to addr, creating it on first use, with a
// call begun on it: the caller ends it.
func (p *Pool) conn(addr string) (*poolConn, error) {
	p.mu.RLock()
	c, closed := p.conns[addr], p.closed
	if c != nil {
		c.begin() // under the lock, so that Prune sees the call
	}
	p.mu.RUnlock()
	if closed {
		return nil, ErrPoolClosed
	}
	if c != nil {
		return c, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	if c := p.conns[addr]; c != nil {
		c.begin()
		return c, nil
	}
	// passthrough: addr goes to the dialer as is (host names are resolved
	// on every connection attempt).
	cc, err := grpc.NewClient("passthrough:///"+addr, p.dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("new connection to %s: %w", addr, err)
	}
	cc.Connect()
	c = &poolConn{cc: cc}
	c.begin()
	p.conns[addr] = c
	p.logger.Debug("rpc connection created", "addr", addr)
	return c, nil
}

// Prune closes the connections to addresses keep rejects that have no call
// in flight and had none for idle, and returns how many it closed. A later
// call to such an address dials it again. Members that left the cluster
// are pruned this way, so that their connections stop reconnecting and
// are not kept for ever where addresses change (a restarted pod's new IP).
func (p *Pool) Prune(keep func(addr string) bool, idle time.Duration) int {
	before := time.Now().Add(-idle).UnixNano()
	var gone []*grpc.ClientConn
	p.mu.Lock()
	for addr, c := range p.conns {
		if keep(addr) || c.inFlight.Load() > 0 || c.lastUsed.Load() > before {
			continue
		}
		delete(p.conns, addr)
		gone = append(gone, c.cc)
		p.logger.Debug("rpc connection pruned", "addr", addr)
	}
	p.mu.Unlock()
	for _, cc := range gone {
		cc.Close()
	}
	return len(gone)
}

// Conns returns the number of connections the pool holds.
func (p *Pool) Conns() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.conns)
}

// Close closes every connection; calls in flight fail, later calls return
// ErrPoolClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	conns := p.conns
	p.conns, p.closed = nil, true
	p.mu.Unlock()
	var errs []error
	for addr, c := range conns {
		if err := c.cc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection to %s: %w", addr, err))
		}
	}
	return errors.Join(errs...)
}

// invoke makes a unary call and records it.
func (p *Pool) invoke(ctx context.Context, addr, method string, req, reply any) error {
	c, err := p.conn(addr)
	if err != nil {
		return fmt.Errorf("rpc %s to %s: %w", method, addr, err)
	}
	defer c.end()
	start := time.Now()
	err = c.cc.Invoke(ctx, method, req, reply)
	p.metrics.observe(method, start, err)
	return remoteError(method, addr, err)
}

// Push sends streams of tenant to the ingester at addr and returns once it
// made them durable. Errors are *RemoteError (see IsClientError) or local
// (ErrPoolClosed). Push does not retain streams.
func (p *Pool) Push(ctx context.Context, addr, tenant string, streams []model.Stream) error {
	req := &pushRequest{Tenant: tenant, Streams: streams, pool: p.bufs}
	return p.invoke(ctx, addr, MethodPush, req, &emptyReply{})
}

// Series asks the ingester at addr for its streams of tenant matching ms
// with data in [from, through]. The result belongs to the caller.
func (p *Pool) Series(ctx context.Context, addr, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error) {
	var reply seriesReply
	req := &seriesRequest{Tenant: tenant, From: from, Through: through, Matchers: ms}
	if err := p.invoke(ctx, addr, MethodSeries, req, &reply); err != nil {
		return nil, err
	}
	return reply.Streams, nil
}

// ClusterCall runs operation op with body on the node at addr and returns
// its result, which belongs to the caller. An error of the handler is a
// *RemoteError carrying the server's message; errors.Is(err,
// ErrNotLeader) holds when the handler's error wrapped ErrNotLeader.
func (p *Pool) ClusterCall(ctx context.Context, addr, op string, body []byte) ([]byte, error) {
	var reply clusterReply
	if err := p.invoke(ctx, addr, MethodClusterCall, &clusterRequest{Op: op, Body: body}, &reply); err != nil {
		return nil, err
	}
	return reply.Body, nil
}
