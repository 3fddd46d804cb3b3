package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/push"
)

// DefaultTenant is the tenant of every request when auth is disabled, as
// in Loki.
const DefaultTenant = "fake"

// Distributor accepts pushes.
type Distributor interface {
	Push(ctx context.Context, tenant string, req *push.Request) error
}

// Engine evaluates LogQL.
type Engine interface {
	Query(ctx context.Context, p engine.Params) (*engine.Result, error)
}

// Querier answers the label endpoints.
type Querier interface {
	Series(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error)
	LabelNames(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]string, error)
	LabelValues(ctx context.Context, tenant, name string, from, through int64, ms []*labels.Matcher) ([]string, error)
}

// Flusher flushes buffered data to object storage.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Deps are the components the API serves. Nil components make their
// endpoints answer 404 (a node without that role).
type Deps struct {
	Distributor Distributor
	Engine      Engine
	Querier     Querier
	Index       IndexQuerier
	Flusher     Flusher
	Tailer      Tailer
	// Limits gives each tenant's query limits; nil leaves the engine's.
	Limits   TenantLimits
	Gatherer prometheus.Gatherer
	// Ready reports nil when the node can serve.
	Ready func(ctx context.Context) error
	// Status feeds the /ring and /cluster pages; nil: no pages.
	Status StatusSource
	// Config returns the effective configuration as YAML, secrets redacted.
	Config func() ([]byte, error)
	Logger *slog.Logger
}

// Options are the API's own settings.
type Options struct {
	AuthEnabled  bool
	MaxPushBytes int64
	// OTLPIndexLabels are the resource attributes that label OTLP streams
	// (nil: push.OTLPIndexLabels).
	OTLPIndexLabels []string
	MaxQueryTimeout time.Duration
}

// Server is the HTTP API.
type Server struct {
	opts Options
	deps Deps
	mux  *http.ServeMux
	now  func() time.Time
}

// New builds the API's routes.
func New(opts Options, deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &Server{opts: opts, deps: deps, mux: http.NewServeMux(), now: time.Now}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	m := s.mux
	if s.deps.Distributor != nil {
		m.HandleFunc("POST /loki/api/v1/push", s.tenantHandler(s.handlePush))
		m.HandleFunc("POST /api/prom/push", s.tenantHandler(s.handlePush))
		m.HandleFunc("POST /otlp/v1/logs", s.tenantHandler(s.handleOTLP))
	}
	if s.deps.Engine != nil {
		m.HandleFunc("/loki/api/v1/query", s.tenantHandler(s.handleQuery))
		m.HandleFunc("/loki/api/v1/query_range", s.tenantHandler(s.handleQueryRange))
	}
	if s.deps.Querier != nil {
		m.HandleFunc("/loki/api/v1/labels", s.tenantHandler(s.handleLabels))
		m.HandleFunc("/loki/api/v1/label", s.tenantHandler(s.handleLabels))
		m.HandleFunc("/loki/api/v1/label/{name}/values", s.tenantHandler(s.handleLabelValues))
		m.HandleFunc("/loki/api/v1/series", s.tenantHandler(s.handleSeries))
	}
	if s.deps.Index != nil {
		m.HandleFunc("/loki/api/v1/index/stats", s.tenantHandler(s.handleIndexStats))
		m.HandleFunc("/loki/api/v1/index/volume", s.tenantHandler(s.handleVolume))
		m.HandleFunc("/loki/api/v1/index/volume_range", s.tenantHandler(s.handleVolumeRange))
	}
	if s.deps.Tailer != nil && s.deps.Engine != nil {
		m.HandleFunc("/loki/api/v1/tail", s.tenantHandler(s.handleTail))
	}
	if s.deps.Flusher != nil {
		m.HandleFunc("POST /flush", s.handleFlush)
		m.HandleFunc("GET /flush", s.handleFlush)
	}
	if s.deps.Gatherer != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{}))
	}
	if s.deps.Config != nil {
		m.HandleFunc("GET /config", s.handleConfig)
	}
	m.HandleFunc("GET /ready", s.handleReady)
	if s.deps.Status != nil {
		m.Handle("/ring", RingHandler(s.deps.Status))
		m.Handle("/cluster", ClusterHandler(s.deps.Status))
	}
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.HandleFunc("GET /loki/api/v1/status/buildinfo", s.handleBuildInfo)
	m.HandleFunc("/loki/api/v1/format_query", s.handleFormatQuery)
}

// tenant returns the request's tenant: X-Scope-OrgID when auth is
// enabled, DefaultTenant otherwise (as Loki does).
func (s *Server) tenant(r *http.Request) (string, error) {
	if !s.opts.AuthEnabled {
		return DefaultTenant, nil
	}
	t := r.Header.Get("X-Scope-OrgID")
	if t == "" {
		return "", &httpError{status: http.StatusUnauthorized, msg: "no org id"}
	}
	if err := validTenant(t); err != nil {
		return "", &httpError{status: http.StatusBadRequest, msg: err.Error()}
	}
	return t, nil
}

type tenantFunc func(w http.ResponseWriter, r *http.Request, tenant string)

func (s *Server) tenantHandler(h tenantFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := s.tenant(r)
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, t)
	}
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.deps.Ready != nil {
		if err := s.deps.Ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) handleFlush(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Flusher.Flush(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	b, err := s.deps.Config()
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(b)
}

// Version is reported by the buildinfo endpoint; set at build time.
var Version = "dev"

func (s *Server) handleBuildInfo(w http.ResponseWriter, r *http.Request) {
	info := map[string]string{"version": Version, "revision": "", "branch": "", "goVersion": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				info["revision"] = kv.Value
			}
		}
	}
	writeJSON(w, info)
}

// handleFormatQuery serves /format_query: the query in canonical LogQL, or
// a 400 naming the parse error.
func (s *Server) handleFormatQuery(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("invalid form: %v", err))
		return
	}
	expr, err := logql.Parse(r.Form.Get("query"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, dataResponse{Status: "success", Data: expr.String()})
}

// handleOTLP serves /otlp/v1/logs: an OTLP/HTTP logs export, mapped to
// streams as push.DecodeOTLP says, answered with an empty
// ExportLogsServiceResponse in the request's encoding.
func (s *Server) handleOTLP(w http.ResponseWriter, r *http.Request, tenant string) {
	req, err := push.DecodeOTLP(r, s.opts.MaxPushBytes, s.opts.OTLPIndexLabels, s.now())
	if !s.distribute(w, r, tenant, req, err) {
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), push.ContentTypeJSON) {
		w.Header().Set("Content-Type", push.ContentTypeJSON)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("{}"))
		return
	}
	w.Header().Set("Content-Type", push.ContentTypeProtobuf)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, tenant string) {
	req, err := push.DecodeHTTP(r, s.opts.MaxPushBytes)
	if s.distribute(w, r, tenant, req, err) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// distribute hands a decoded push (or its decoding error) to the
// distributor and gives the request back to the pool. It writes the error
// answer and returns false on failure.
func (s *Server) distribute(w http.ResponseWriter, r *http.Request, tenant string, req *push.Request, decodeErr error) bool {
	if decodeErr != nil {
		writeError(w, decodeErr)
		return false
	}
	defer push.PutRequest(req)
	if err := s.deps.Distributor.Push(r.Context(), tenant, req); err != nil {
		if statusOf(err) >= 500 {
			s.deps.Logger.Error("push failed", "tenant", tenant, "path", r.URL.Path, "err", err)
		}
		writeError(w, err)
		return false
	}
	return true
}

// writeJSON writes v with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err := json.NewEncoder(w).Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		return
	}
}

// dataResponse is Loki's envelope for label and series answers.
type dataResponse struct {
	Status string `json:"status"`
	Data   any    `json:"data"`
}
