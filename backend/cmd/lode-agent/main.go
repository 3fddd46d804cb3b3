// Command lode-agent tails log files on a node, labels them with
// Prometheus relabelling (Promtail-compatible configuration) and pushes
// them to lode, or any Loki-compatible server. See `lode-agent -help` and
// backend/agent/README.md.
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
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/agent/config"
	"github.com/lode-logs/lode/backend/agent/discovery"
	"github.com/lode-logs/lode/backend/agent/sender"
	"github.com/lode-logs/lode/backend/agent/stages"
	"github.com/lode-logs/lode/backend/agent/tailer"
	"github.com/lode-logs/lode/backend/agent/targets"
)

// version is set at build time.
var version = "dev"

func main() {
	fs := flag.NewFlagSet("lode-agent", flag.ContinueOnError)
	var cfg config.Config
	cfg.RegisterFlags(fs)
	file := fs.String("config.file", "", "Promtail-compatible YAML configuration file (required).")
	expand := fs.Bool("config.expand-env", false, "Replace ${VAR} and ${VAR:-default} in the configuration with environment values.")
	check := fs.Bool("check-config", false, "Check the configuration (and pipelines) and exit.")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if *file == "" {
		fmt.Fprintln(os.Stderr, "lode-agent: -config.file is required")
		os.Exit(2)
	}
	if err := cfg.Load(*file, *expand); err != nil {
		fmt.Fprintln(os.Stderr, "lode-agent:", err)
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Server.LogLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "lode-agent: invalid log level:", cfg.Server.LogLevel)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	reg := prometheus.NewRegistry()
	jobs, err := buildJobs(&cfg, reg, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lode-agent:", err)
		os.Exit(2)
	}
	if *check {
		fmt.Println("configuration OK")
		return
	}
	if err := run(&cfg, jobs, reg, logger); err != nil {
		logger.Error("lode-agent stopped", "err", err)
		os.Exit(1)
	}
}

// buildJobs compiles each scrape config's pipeline and discovery.
func buildJobs(cfg *config.Config, reg *prometheus.Registry, logger *slog.Logger) ([]targets.Job, error) {
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "lode_agent", Name: "pipeline_dropped_lines_total",
		Help: "Lines dropped by pipeline stages, by reason."}, []string{"reason"})
	reg.MustRegister(dropped)
	var jobs []targets.Job
	for i, sc := range cfg.ScrapeConfigs {
		p, err := stages.New(sc.PipelineStages, fmt.Sprintf("scrape_configs[%d].pipeline_stages", i),
			stages.Options{JobName: sc.JobName, Registerer: reg, Dropped: dropped, Logger: logger})
		if err != nil {
			return nil, err
		}
		j := targets.Job{Name: sc.JobName, Relabel: sc.RelabelConfigs, Pipeline: p}
		if len(sc.StaticConfigs) > 0 {
			j.Providers = append(j.Providers, discovery.Static(sc.StaticConfigs))
		}
		for _, f := range sc.FileSDConfigs {
			j.Providers = append(j.Providers, discovery.FileSD(f, logger))
		}
		for _, k := range sc.KubernetesSD {
			client, err := discovery.KubernetesClient(k)
			if err != nil {
				return nil, fmt.Errorf("scrape_configs[%d]: %w", i, err)
			}
			j.Providers = append(j.Providers, discovery.Kubernetes(k, client, logger))
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func buildClients(cfg *config.Config, reg *prometheus.Registry, logger *slog.Logger) (sender.Fanout, error) {
	m := sender.NewMetrics(reg)
	var out sender.Fanout
	for i, cc := range cfg.Clients {
		ext := labels.NewBuilder(labels.FromMap(cfg.ExtraLabels))
		for k, v := range cc.ExternalLabels {
			ext.Set(k, v)
		}
		c, err := sender.NewClient(sender.Options{
			URL: cc.URL, TenantID: cc.TenantID, Headers: cc.Headers, HTTP: cc.HTTP,
			BatchWait: cc.BatchWait, BatchSize: int(cc.BatchSize),
			MinBackoff: cc.Backoff.MinPeriod, MaxBackoff: cc.Backoff.MaxPeriod, MaxRetries: cc.Backoff.MaxRetries,
			DropRateLimited: cc.DropRateLimitedBatches, Timeout: cc.Timeout, ExternalLabels: ext.Labels(),
			MaxStreams: cfg.Limits.MaxStreams, BufferDir: filepath.Join(cfg.BufferDir(), strconv.Itoa(i)),
			BufferMemory: int64(cfg.Buffer.MemorySize), BufferDisk: int64(cfg.Buffer.MaxSize),
			UserAgent: "lode-agent/" + version,
		}, m, logger)
		if err != nil {
			out.Close(0)
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func tailerOptions(cfg *config.Config) tailer.Options {
	o := tailer.Options{
		PositionsFile: cfg.Positions.Filename, SyncPeriod: cfg.Positions.SyncPeriod,
		IgnoreInvalidYAML: cfg.Positions.IgnoreInvalidYAML, RescanPeriod: cfg.Target.SyncPeriod,
		MinPoll: cfg.Global.FileWatch.MinPollFrequency, MaxPoll: cfg.Global.FileWatch.MaxPollFrequency,
		IdleClose: cfg.Target.IdleClose, RotatedGrace: cfg.Target.RotatedGrace,
		InitialAtEnd: cfg.Target.InitialPosition == "end",
		MaxLineSize:  int(cfg.Limits.MaxLineSize), TruncateLongLines: cfg.Limits.MaxLineSizeTruncate,
	}
	if cfg.Limits.ReadlineRateEnabled {
		o.ReadRate, o.ReadBurst, o.ReadRateDrop = cfg.Limits.ReadlineRate, cfg.Limits.ReadlineBurst, cfg.Limits.ReadlineRateDrop
	}
	return o
}

// run starts the clients, the tailer, discovery and the HTTP server,
// waits for SIGINT or SIGTERM, and stops them in reverse order: reading
// first, then sending (up to the graceful timeout), then the last
// positions write.
func run(cfg *config.Config, jobs []targets.Job, reg *prometheus.Registry, logger *slog.Logger) error {
	start := time.Now()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	clients, err := buildClients(cfg, reg, logger)
	if err != nil {
		return err
	}
	tl, err := tailer.New(tailerOptions(cfg), clients, reg, logger)
	if err != nil {
		clients.Close(0)
		return err
	}
	hostname := os.Getenv("HOSTNAME")
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	mgr := targets.NewManager(jobs, hostname, tl, logger)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	readCtx, stopReading := context.WithCancel(context.Background())
	tailDone := make(chan error, 1)
	go func() { tailDone <- tl.Run(readCtx) }()
	mgrDone := make(chan struct{})
	go func() { mgr.Run(readCtx); close(mgrDone) }()

	srv, addr, err := serveHTTP(cfg, reg, tl, mgr, logger)
	if err != nil {
		stopReading()
		clients.Close(0)
		return err
	}
	logger.Info("lode-agent started", "version", version, "http", addr, "clients", len(clients), "jobs", len(jobs), "took", time.Since(start))

	<-ctx.Done()
	logger.Info("stopping")
	stopReading()
	tailErr := <-tailDone
	<-mgrDone
	clients.Close(cfg.Server.GracefulShutdownTimeout)
	posErr := tl.SyncPositions()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	logger.Info("stopped", "took", time.Since(start))
	return errors.Join(tailErr, posErr)
}

func serveHTTP(cfg *config.Config, reg *prometheus.Registry, tl *tailer.Tailer, mgr *targets.Manager, logger *slog.Logger) (*http.Server, string, error) {
	if cfg.Server.Disable {
		return &http.Server{}, "disabled", nil
	}
	prefix := cfg.Server.HTTPPathPrefix
	mux := http.NewServeMux()
	mux.Handle(prefix+"/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc(prefix+"/ready", func(w http.ResponseWriter, r *http.Request) {
		if err := mgr.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc(prefix+"/targets", func(w http.ResponseWriter, r *http.Request) {
		writeTargets(w, r, mgr.Status(), tl.Status())
	})
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != prefix+"/" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, prefix+"/targets", http.StatusFound)
	})
	addr := net.JoinHostPort(cfg.Server.HTTPListenAddress, strconv.Itoa(cfg.Server.HTTPListenPort))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server", "err", err)
		}
	}()
	return srv, l.Addr().String(), nil
}
