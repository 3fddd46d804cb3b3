// Command lode is Lode's server: distributor, ingester, querier, query
// frontend and the Raft-coordinated ring and index in one binary; -target
// picks the roles. With no flags it is a complete single-node system with
// data under ./data, HTTP on :3100 and gRPC on :9095. See `lode -help` and
// README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lode-logs/lode/backend/config"
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

func run(cfg *config.Config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	begin := time.Now()
	a := &app{logger: logger, reg: prometheus.NewRegistry(), cfg: cfg, roles: cfg.Roles()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defer a.close()
	if err := a.start(ctx); err != nil {
		return err
	}
	logger.Info("lode started", "target", cfg.Target, "http", a.http.Addr, "grpc", a.grpcAddr, "data", cfg.DataDir,
		"took", time.Since(begin).Round(time.Millisecond))
	<-ctx.Done()
	logger.Info("lode stopping")
	a.leave()
	return nil
}
