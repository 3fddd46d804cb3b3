package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/lode-logs/lode/backend/api"
	"github.com/lode-logs/lode/backend/api/rpc"
	"github.com/lode-logs/lode/backend/cluster"
	"github.com/lode-logs/lode/backend/config"
	"github.com/lode-logs/lode/backend/distributor"
	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/frontend"
	"github.com/lode-logs/lode/backend/ingester"
	"github.com/lode-logs/lode/backend/internal/loop"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
	"github.com/lode-logs/lode/backend/querier"
	"github.com/lode-logs/lode/backend/retention"
	"github.com/lode-logs/lode/backend/ring"
	"github.com/lode-logs/lode/backend/tail"
)

// app holds the running components, in start order.
type app struct {
	logger *slog.Logger
	reg    *prometheus.Registry
	cfg    *config.Config
	roles  config.Roles

	httpL, grpcL net.Listener
	grpcAddr     string // advertised
	httpAddr     string // advertised

	// tlsServer and tlsClient secure internal gRPC and Raft (nil: plaintext).
	tlsServer, tlsClient *tls.Config

	limits *limits.Overrides
	bucket objstore.Bucket
	pool   *rpc.Pool
	node   *cluster.Node
	ing    *ingester.Ingester
	tail   *tail.Hub
	http   *http.Server
	grpc   *grpc.Server
	left   bool
}

// start builds and starts the components in dependency order.
func (a *app) start(ctx context.Context) error {
	cfg := a.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	var err error
	if a.tlsServer, a.tlsClient, err = cfg.Cluster.TLS.Load(); err != nil {
		return err
	}
	if err := a.listen(); err != nil {
		return err
	}
	grpcOpts := append(rpc.ServerOptions(),
		grpc.MaxRecvMsgSize(max(rpc.MaxMessageSize, 2*int(cfg.Distributor.MaxRecvMsgSize)+1<<20)))
	if a.tlsServer != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(a.tlsServer)))
	}
	a.grpc = grpc.NewServer(grpcOpts...)
	healthpb.RegisterHealthServer(a.grpc, health.NewServer())
	step := func(name string, f func() error) {
		if err != nil {
			return
		}
		t := time.Now()
		if err = f(); err != nil {
			err = fmt.Errorf("start %s: %w", name, err)
			return
		}
		a.logger.Debug("started", "component", name, "took", time.Since(t).Round(time.Millisecond))
	}
	a.limits = limits.NewOverrides(cfg.Limits)
	step("runtime config", func() error {
		l, err := limits.NewRuntimeLoader(cfg.RuntimeConfig, cfg.Limits, a.limits, a.reg, a.logger)
		if l != nil {
			go l.Run(ctx)
		}
		return err
	})
	// Every cluster member opens the bucket: the Raft leader, whichever
	// role it runs, deletes the objects of data past retention.
	if a.roles.Cluster() {
		step("object store", func() (err error) {
			a.bucket, err = objstore.New(ctx, cfg.Storage, cfg.DataDir, a.reg)
			return err
		})
	}
	if a.roles.Cluster() {
		step("cluster", a.startCluster)
	}
	if a.roles.Ingester {
		step("ingester", a.startIngester)
	}
	if err != nil {
		return err
	}
	h, err := a.handler()
	if err != nil {
		return err
	}
	a.serve(h)
	if a.node != nil {
		go a.activate(ctx)
		go a.pruneConns(ctx)
		go retention.New(cfg.Retention, retention.Deps{
			Index: a.node, Bucket: a.bucket, Limits: a.limits, Registerer: a.reg, Logger: a.logger,
		}).Run(ctx)
	}
	return nil
}

// listen opens the HTTP and gRPC listeners and works out the addresses
// advertised to peers: the host of -cluster.raft-address with each port.
func (a *app) listen() error {
	s := a.cfg.Server
	var err error
	a.httpL, err = net.Listen("tcp", net.JoinHostPort(s.HTTPListenAddress, strconv.Itoa(s.HTTPListenPort)))
	if err != nil {
		return fmt.Errorf("listen http: %w", err)
	}
	a.grpcL, err = net.Listen("tcp", net.JoinHostPort(s.GRPCListenAddress, strconv.Itoa(s.GRPCListenPort)))
	if err != nil {
		a.httpL.Close()
		return fmt.Errorf("listen grpc: %w", err)
	}
	host, _, _ := net.SplitHostPort(a.cfg.Cluster.RaftAddress)
	a.grpcAddr = net.JoinHostPort(host, strconv.Itoa(a.grpcL.Addr().(*net.TCPAddr).Port))
	a.httpAddr = net.JoinHostPort(host, strconv.Itoa(a.httpL.Addr().(*net.TCPAddr).Port))
	return nil
}

func (a *app) startCluster() (err error) {
	a.pool = rpc.NewPool(rpc.PoolOptions{DialTimeout: 5 * time.Second, Registerer: a.reg, Logger: a.logger, TLS: a.tlsClient})
	a.node, err = cluster.New(a.cfg.Cluster, cluster.Options{
		DataDir: a.cfg.DataDir, Registerer: a.reg, Logger: a.logger,
		Self:      cluster.Self{GRPCAddr: a.grpcAddr, HTTPAddr: a.httpAddr, Ingester: a.roles.Ingester},
		Transport: a.pool, Permanent: rpc.IsClientError,
		TLSServer: a.tlsServer, TLSClient: a.tlsClient,
	})
	if err != nil {
		return err
	}
	rpc.RegisterCluster(a.grpc, func(ctx context.Context, op string, body []byte) ([]byte, error) {
		out, err := a.node.Handle(ctx, op, body)
		switch {
		case errors.Is(err, cluster.ErrNotLeader):
			err = fmt.Errorf("%w: %w", rpc.ErrNotLeader, err)
		case errors.Is(err, cluster.ErrRejected):
			err = fmt.Errorf("%w: %w", rpc.ErrMalformed, err)
		}
		return out, err
	})
	return nil
}

func (a *app) startIngester() (err error) {
	a.ing, err = ingester.New(a.cfg.Ingester, ingester.Deps{
		Dir: filepath.Join(a.cfg.DataDir, "ingester"), Bucket: a.bucket, Index: a.node,
		Registerer: a.reg, Logger: a.logger,
	})
	if err != nil {
		return err
	}
	a.tail = tail.NewHub(a.ing)
	rpc.RegisterIngester(a.grpc, ingesterServer{Hub: a.tail, Ingester: a.ing})
	return nil
}

// ingesterServer serves the ingester over gRPC; pushes go through the
// tail hub so that live tails see them.
type ingesterServer struct {
	*tail.Hub
	*ingester.Ingester
}

// Push resolves the ambiguity of the embedded types.
func (s ingesterServer) Push(ctx context.Context, tenant string, streams []model.Stream) error {
	return s.Hub.Push(ctx, tenant, streams)
}

// handler builds the HTTP API of the roles.
func (a *app) handler() (http.Handler, error) {
	cfg := a.cfg
	lim := a.limits
	deps := api.Deps{Limits: lim, Gatherer: a.reg, Ready: a.ready, Config: cfg.YAML, Logger: a.logger}
	if a.node != nil {
		deps.Status = &statusSource{node: a.node, rf: cfg.Distributor.ReplicationFactor}
	}
	if a.roles.Distributor {
		var local distributor.Pusher
		if a.ing != nil {
			local = a.tail
		}
		repl, err := distributor.NewReplicator(cfg.Distributor.ReplicationFactor, distributor.ReplicatorDeps{
			Ring: a.node, Remote: a.pool, SelfID: a.node.ID(), Local: local, Registerer: a.reg,
		})
		if err != nil {
			return nil, err
		}
		dist, err := distributor.New(cfg.Distributor, distributor.Deps{Pusher: repl, Limits: lim, Registerer: a.reg, Logger: a.logger})
		if err != nil {
			return nil, err
		}
		deps.Distributor = dist
	}
	if a.roles.Querier {
		recent := &querier.RingIngesters{
			Ring: a.node, ReplicationFactor: cfg.Distributor.ReplicationFactor, SelfID: a.node.ID(), Remote: a.pool,
		}
		if a.ing != nil {
			recent.Local = a.ing
		}
		q := querier.New(cfg.Querier, a.node, a.bucket, recent)
		q.SetLookback(func(tenant string) time.Duration { return time.Duration(a.limits.Tenant(tenant).RetentionPeriod) })
		deps.Engine, deps.Querier, deps.Index = engine.New(q, engine.Options{}), q, q
		if a.tail != nil {
			deps.Tailer = a.tail
		}
	}
	if a.ing != nil {
		deps.Flusher = a.ing
	}
	srv := api.New(api.Options{
		AuthEnabled: cfg.AuthEnabled, MaxPushBytes: int64(cfg.Distributor.MaxRecvMsgSize), MaxQueryTimeout: cfg.Server.QueryTimeout,
		OTLPIndexLabels: cfg.Distributor.OTLPIndexLabelList(),
	}, deps)
	if !a.roles.Frontend {
		return srv, nil
	}
	if a.roles.Querier {
		return frontend.NewWithLimits(cfg.Frontend, srv, lim, a.reg, a.logger)
	}
	proxy, err := frontend.NewProxy(cfg.Frontend.DownstreamURLs())
	if err != nil {
		return nil, err
	}
	fe, err := frontend.NewWithLimits(cfg.Frontend, proxy, lim, a.reg, a.logger)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/loki/api/v1/query", "/loki/api/v1/query_range", "/loki/api/v1/labels", "/loki/api/v1/label/",
		"/loki/api/v1/series", "/loki/api/v1/index/", "/loki/api/v1/tail"} {
		mux.Handle(p, fe)
	}
	mux.Handle("/", srv)
	return mux, nil
}

// serve starts the HTTP and gRPC servers.
func (a *app) serve(h http.Handler) {
	a.http = &http.Server{Addr: a.httpL.Addr().String(), Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := a.http.Serve(a.httpL); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server failed", "err", err)
		}
	}()
	go func() {
		if err := a.grpc.Serve(a.grpcL); err != nil {
			a.logger.Error("grpc server failed", "err", err)
		}
	}()
}

// activate makes this node an ACTIVE ring member; the membership loop
// retries until a leader commits it.
func (a *app) activate(ctx context.Context) {
	if err := a.node.SetState(ctx, ring.Active); err != nil && ctx.Err() == nil {
		a.logger.Error("ring registration failed", "err", err)
	}
}

// Connections to addresses no ring member has are closed once unused for
// connIdle; pruneConns looks for them every connPrunePeriod.
const (
	connPrunePeriod = 30 * time.Second
	connIdle        = time.Minute
)

// pruneConns closes the gRPC connections to members that left the ring
// (and to join addresses no member advertises) once they are unused.
func (a *app) pruneConns(ctx context.Context) {
	loop.Every(ctx, connPrunePeriod, func() bool {
		members := map[string]bool{}
		for _, in := range a.node.Ring().Instances() {
			members[in.Addr] = true
		}
		if n := a.pool.Prune(func(addr string) bool { return members[addr] }, connIdle); n > 0 {
			a.logger.Info("closed connections to departed members", "connections", n)
		}
		return true
	})
}

// ready reports whether the node has a Raft leader, an up-to-date index
// replica, and is an ACTIVE ring member with a fresh heartbeat.
func (a *app) ready(ctx context.Context) error {
	if a.node == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := a.node.WaitReady(ctx); err != nil {
		return err
	}
	r := a.node.Ring()
	in, ok := r.Instance(a.node.ID())
	switch {
	case !ok:
		return errors.New("not a ring member yet")
	case in.State != ring.Active:
		return fmt.Errorf("ring state %s", in.State)
	case !r.Healthy(&in, time.Now()):
		return errors.New("heartbeat not committed yet")
	}
	return nil
}

// leave runs on a graceful stop of a node with peers: LEAVING (no new
// writes), flush everything buffered, then leave the ring and Raft. A lone
// node keeps its buffer in Badger.
func (a *app) leave() {
	if a.node == nil || a.node.Alone() {
		return
	}
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.Ingester.LeaveFlushTimeout)
	defer cancel()
	if err := a.node.SetState(ctx, ring.Leaving); err != nil {
		a.logger.Warn("could not announce LEAVING", "err", err)
	}
	a.stopHTTP()
	if a.ing != nil {
		if err := a.ing.Flush(ctx); err != nil {
			a.logger.Error("flush before leaving incomplete; the rest stays in Badger", "err", err)
		}
	}
	if err := a.node.Leave(ctx); err != nil {
		a.logger.Warn("leave the cluster", "err", err)
	}
	a.left = true
	a.logger.Info("left the cluster", "took", time.Since(begin).Round(time.Millisecond))
}

func (a *app) stopHTTP() {
	if a.http == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := a.http.Shutdown(ctx); err != nil {
		a.logger.Error("stop http", "err", err)
	}
}

// close stops the components in reverse order. Buffered data stays in
// Badger; nothing is lost.
func (a *app) close() {
	timed := func(name string, f func() error) {
		t := time.Now()
		if err := f(); err != nil {
			a.logger.Error("stop failed", "component", name, "err", err)
		}
		a.logger.Info("stopped", "component", name, "took", time.Since(t).Round(time.Millisecond))
	}
	if a.http != nil {
		timed("http", func() error { a.stopHTTP(); return nil })
	} else {
		for _, l := range []net.Listener{a.httpL, a.grpcL} {
			if l != nil {
				l.Close()
			}
		}
	}
	if a.grpc != nil {
		timed("grpc", func() error { stopGRPC(a.grpc, a.cfg.Server.ShutdownTimeout); return nil })
	}
	if a.ing != nil {
		timed("ingester", a.ing.Close)
	}
	if a.node != nil {
		timed("cluster", a.node.Close)
	}
	if a.pool != nil {
		timed("grpc clients", a.pool.Close)
	}
}

// stopGRPC stops gracefully, or at once after d.
func stopGRPC(s *grpc.Server, d time.Duration) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		s.Stop()
	}
}
