// Command lode is Lode's server: distributor, ingester, querier and the
// Raft-coordinated index in one process. With no flags it is a complete
// single-node system with data under ./data, HTTP on :3100 and gRPC on
// :9095. See `lode -help` and README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/lode-logs/lode/backend/api"
	"github.com/lode-logs/lode/backend/cluster"
	"github.com/lode-logs/lode/backend/config"
	"github.com/lode-logs/lode/backend/distributor"
	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/ingester"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/objstore"
	"github.com/lode-logs/lode/backend/querier"
	"github.com/lode-logs/lode/backend/tail"
)

func main() {
	cfg, err := config.Load(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lode:", err)
		os.Exit(2)
	}
	if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit << 20)
	}
	level, _ := config.ParseLogLevel(cfg.LogLevel)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(cfg, logger); err != nil {
		logger.Error("lode stopped", "err", err)
		os.Exit(1)
	}
}

// app holds the running components, in start order.
type app struct {
	logger   *slog.Logger
	reg      *prometheus.Registry
	bucket   objstore.Bucket
	node     *cluster.Node
	ing      *ingester.Ingester
	tail     *tail.Hub
	http     *http.Server
	grpc     *grpc.Server
	stopWait time.Duration
}

// ready reports whether the node has a Raft leader and an up-to-date index
// replica.
func (a *app) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return a.node.WaitReady(ctx)
}

func run(cfg *config.Config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	begin := time.Now()
	a := &app{logger: logger, reg: prometheus.NewRegistry(), stopWait: cfg.Server.ShutdownTimeout}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defer a.close()
	if err := a.start(ctx, cfg); err != nil {
		return err
	}
	logger.Info("lode started", "http", a.http.Addr, "data", cfg.DataDir, "took", time.Since(begin).Round(time.Millisecond))
	<-ctx.Done()
	logger.Info("lode stopping")
	return nil
}

// start builds and starts the components in dependency order.
func (a *app) start(ctx context.Context, cfg *config.Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	var err error
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
	step("object store", func() (err error) {
		a.bucket, err = objstore.New(ctx, cfg.Storage, cfg.DataDir, a.reg)
		return err
	})
	step("cluster", func() (err error) {
		a.node, err = cluster.New(cfg.Cluster, cluster.Options{
			DataDir: cfg.DataDir, Registerer: a.reg, Logger: a.logger,
		})
		return err
	})
	step("ingester", func() (err error) {
		a.ing, err = ingester.New(cfg.Ingester, ingester.Deps{
			Dir: filepath.Join(cfg.DataDir, "ingester"), Bucket: a.bucket, Index: a.node,
			Registerer: a.reg, Logger: a.logger,
		})
		return err
	})
	var dist *distributor.Distributor
	lim := limits.NewOverrides(cfg.Limits)
	step("distributor", func() (err error) {
		a.tail = tail.NewHub(a.ing)
		dist, err = distributor.New(cfg.Distributor, distributor.Deps{
			Pusher: a.tail, Limits: lim, Registerer: a.reg, Logger: a.logger,
		})
		return err
	})
	if err != nil {
		return err
	}
	q := querier.New(cfg.Querier, a.node, a.bucket, a.ing)
	eng := engine.New(q, engine.Options{})
	srv := api.New(api.Options{
		AuthEnabled: cfg.AuthEnabled, MaxPushBytes: int64(cfg.Distributor.MaxRecvMsgSize), MaxQueryTimeout: cfg.Server.QueryTimeout,
	}, api.Deps{
		Distributor: dist, Engine: eng, Querier: q, Index: q, Flusher: a.ing, Tailer: a.tail, Limits: lim, Gatherer: a.reg,
		Ready: a.ready, Config: cfg.YAML, Logger: a.logger,
	})
	return a.serve(cfg, srv)
}

// serve opens the HTTP and gRPC listeners.
func (a *app) serve(cfg *config.Config, h http.Handler) error {
	httpAddr := net.JoinHostPort(cfg.Server.HTTPListenAddress, strconv.Itoa(cfg.Server.HTTPListenPort))
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("listen http: %w", err)
	}
	grpcAddr := net.JoinHostPort(cfg.Server.GRPCListenAddress, strconv.Itoa(cfg.Server.GRPCListenPort))
	gl, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		hl.Close()
		return fmt.Errorf("listen grpc: %w", err)
	}
	a.http = &http.Server{Addr: hl.Addr().String(), Handler: h, ReadHeaderTimeout: 30 * time.Second}
	a.grpc = grpc.NewServer()
	healthpb.RegisterHealthServer(a.grpc, health.NewServer())
	go func() {
		if err := a.http.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server failed", "err", err)
		}
	}()
	go func() {
		if err := a.grpc.Serve(gl); err != nil {
			a.logger.Error("grpc server failed", "err", err)
		}
	}()
	return nil
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
		timed("http", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), a.stopWait)
			defer cancel()
			return a.http.Shutdown(ctx)
		})
	}
	if a.grpc != nil {
		timed("grpc", func() error { a.grpc.GracefulStop(); return nil })
	}
	if a.ing != nil {
		timed("ingester", a.ing.Close)
	}
	if a.node != nil {
		timed("cluster", a.node.Close)
	}
}
